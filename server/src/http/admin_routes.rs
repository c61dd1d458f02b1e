//! The admin routes: users, devices and estates of the admin's estates. An admin manages
//! only what shares an estate with them; anything else answers 404, as if it did not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gatehouse_shared::device::DeviceInfo;
use gatehouse_shared::record::found_item::FoundItemPeriods;
use gatehouse_shared::user::{EstateSettings, NewUser, SetPassword, UserListing};
use gatehouse_shared::UserInfo;
use serde::Deserialize;

use super::CurrentAdmin;
use crate::admin::{self, AdminError};
use crate::error::HttpError;
use crate::store::{Store, StoreError};
use crate::{now_ms, AppState};

pub(super) fn admin_error(error: AdminError) -> HttpError {
    match error {
        AdminError::Invalid(key) => HttpError::BadRequest(key),
        AdminError::UsernameTaken => HttpError::AlreadyExists,
        AdminError::UnknownEstate(_) => HttpError::BadRequest("admin.unknown_estate"),
        AdminError::NotFound => HttpError::NotFound,
        AdminError::Store(error) => HttpError::Store(error),
        AdminError::Hash(error) => HttpError::Internal(error.to_string()),
    }
}

/// Whether an admin may manage `target`: they share an estate.
fn manages(admin: &UserInfo, target: &UserInfo) -> bool {
    target.estate_ids().iter().any(|e| admin.in_estate(e))
}

/// The users of the admin's estates.
pub async fn admin_users(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
) -> Result<Json<Vec<UserListing>>, HttpError> {
    let estates = admin.user.estate_ids();
    let users = state
        .blocking(move |store| store.list_users(Some(&estates)))
        .await??;
    Ok(Json(
        users
            .into_iter()
            .map(|stored| UserListing {
                user: stored.info,
                revoked_at: stored.revoked_at,
            })
            .collect(),
    ))
}

/// Creates a user in estates the admin belongs to.
pub async fn admin_create_user(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<UserInfo>), HttpError> {
    if new.estates.iter().any(|e| !admin.user.in_estate(e)) {
        return Err(HttpError::Forbidden);
    }
    let created = state
        .blocking(move |store| admin::create_user(store, &new, now_ms()))
        .await?
        .map_err(admin_error)?;
    tracing::info!(admin = %admin.user.username, user = %created.username, "user created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Loads a user the admin manages, or answers 404 (an admin of another estate learns
/// nothing about the user, not even that it exists).
/// Giving access back needs more than sharing an estate: the admin must belong to every
/// estate the user does, or an admin of one estate could undo another estate's revocation.
fn manages_every_estate_of(admin: &UserInfo, target: &UserInfo) -> Result<(), HttpError> {
    if target.estate_ids().iter().all(|e| admin.in_estate(e)) {
        Ok(())
    } else {
        Err(HttpError::Forbidden)
    }
}

/// The user of device `device_id`, if the admin manages them (else, or no such device: 404).
fn managed_device_user(
    store: &Store,
    admin: &UserInfo,
    device_id: &str,
) -> Result<UserInfo, HttpError> {
    let owner = store.device_owner(device_id)?.ok_or(HttpError::NotFound)?;
    managed_user(store, admin, &owner)
}

fn managed_user(store: &Store, admin: &UserInfo, user_id: &str) -> Result<UserInfo, HttpError> {
    match store.user_by_id(user_id)? {
        Some(stored) if manages(admin, &stored.info) => Ok(stored.info),
        _ => Err(HttpError::NotFound),
    }
}

pub async fn admin_set_password(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(user_id): Path<String>,
    Json(request): Json<SetPassword>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            let target = managed_user(store, &admin_user, &user_id)?;
            admin::set_password(store, &target.id, &request.password).map_err(admin_error)
        })
        .await??;
    state.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

pub async fn admin_revoke_user(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(user_id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    let target_id = user_id.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            let target = managed_user(store, &admin_user, &target_id)?;
            if target.id == admin_user.id {
                return Err(HttpError::BadRequest("admin.cannot_revoke_self"));
            }
            store.revoke_user(&target.id, now_ms())?;
            Ok(())
        })
        .await??;
    tracing::info!(admin = %admin.user.username, user = %user_id, "user revoked");
    state.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Devices of the users the admin manages.
pub async fn admin_devices(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
) -> Result<Json<Vec<DeviceInfo>>, HttpError> {
    let estates = admin.user.estate_ids();
    let devices = state
        .blocking(move |store| -> Result<Vec<DeviceInfo>, StoreError> {
            let users: Vec<String> = store
                .list_users(Some(&estates))?
                .into_iter()
                .map(|u| u.info.id)
                .collect();
            store.list_devices(&users, None, now_ms())
        })
        .await??;
    Ok(Json(devices))
}

/// Revokes a device of a user the admin manages; never the device the admin is using (that
/// would lock them out of the page they did it from).
pub async fn admin_revoke_device(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(device_id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    let id = device_id.clone();
    let own_device = admin.device_id.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            managed_device_user(store, &admin_user, &id)?;
            if id == own_device {
                return Err(HttpError::BadRequest("admin.cannot_revoke_own_device"));
            }
            store.revoke_device(&id, now_ms())?;
            Ok(())
        })
        .await??;
    tracing::info!(admin = %admin.user.username, device = %device_id, "device revoked");
    state.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a revoked device of a user the admin manages sign in and sync again (a revocation
/// made by mistake, or a phone found again). What it signed before stays as it was.
pub async fn admin_restore_device(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(device_id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    let id = device_id.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            let target = managed_device_user(store, &admin_user, &id)?;
            manages_every_estate_of(&admin_user, &target)?;
            store.restore_device(&id)?;
            Ok(())
        })
        .await??;
    tracing::info!(admin = %admin.user.username, device = %device_id, "device restored");
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a revoked user of the admin's estates sign in again.
pub async fn admin_restore_user(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(user_id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    let target_id = user_id.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            let target = managed_user(store, &admin_user, &target_id)?;
            manages_every_estate_of(&admin_user, &target)?;
            store.restore_user(&target.id)?;
            Ok(())
        })
        .await??;
    tracing::info!(admin = %admin.user.username, user = %user_id, "user restored");
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/admin/estates`.
#[derive(Debug, Deserialize)]
pub struct NewEstate {
    pub id: String,
    pub name: String,
}

/// Creates an estate; the admin creating it becomes a member. An estate that exists
/// already cannot be taken over this way.
pub async fn admin_create_estate(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Json(estate): Json<NewEstate>,
) -> Result<StatusCode, HttpError> {
    let admin_user = admin.user.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            if store.estate_exists(&estate.id)? {
                return Err(HttpError::AlreadyExists);
            }
            admin::upsert_estate(store, &estate.id, &estate.name).map_err(admin_error)?;
            let mut estates = admin_user.estate_ids();
            estates.push(estate.id.clone());
            store.set_memberships(&admin_user.id, &estates)?;
            Ok(())
        })
        .await??;
    state.access_changed();
    Ok(StatusCode::CREATED)
}

/// The estates the admin belongs to, with their settings.
pub async fn admin_estates(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
) -> Result<Json<Vec<EstateSettings>>, HttpError> {
    let estates = admin.user.estate_ids();
    let list = state
        .blocking(move |store| store.estate_settings(&estates))
        .await??;
    Ok(Json(list))
}

/// Body of `PUT /api/admin/estates/{id}/retention`.
#[derive(Debug, Deserialize)]
pub struct Retention {
    pub days: u32,
}

/// Sets how long phones keep an estate's records after they are done with. Only an admin
/// of that estate; connected phones of the estate get their follow set again.
pub async fn admin_set_retention(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(estate_id): Path<String>,
    Json(retention): Json<Retention>,
) -> Result<StatusCode, HttpError> {
    if !admin.user.in_estate(&estate_id) {
        return Err(HttpError::NotFound);
    }
    let id = estate_id.clone();
    state
        .blocking(move |store| admin::set_retention(store, &id, retention.days))
        .await?
        .map_err(admin_error)?;
    tracing::info!(admin = %admin.user.username, estate = %estate_id, days = retention.days, "retention set");
    state.retention_changed(estate_id);
    Ok(StatusCode::NO_CONTENT)
}

/// Sets how long an estate keeps unclaimed found items. Only an admin of that estate;
/// connected phones of the estate are sent their follow set again, on which they read
/// `GET /api/estates` again.
pub async fn admin_set_found_item_periods(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    Path(estate_id): Path<String>,
    Json(periods): Json<FoundItemPeriods>,
) -> Result<StatusCode, HttpError> {
    if !admin.user.in_estate(&estate_id) {
        return Err(HttpError::NotFound);
    }
    let id = estate_id.clone();
    state
        .blocking(move |store| admin::set_found_item_periods(store, &id, &periods))
        .await?
        .map_err(admin_error)?;
    tracing::info!(admin = %admin.user.username, estate = %estate_id, ?periods, "found-item periods set");
    // Connected phones of the estate get their follow set again, and with it read the
    // estate's settings again.
    state.retention_changed(estate_id);
    Ok(StatusCode::NO_CONTENT)
}
