//! HTTP routes: sign-in and sign-out, devices and passwords, the office's record list, and
//! the WebSocket upgrade; the admin routes are in `admin_routes`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_shared::device::{DeviceInfo, DeviceKey, MAX_DEVICE_NAME_CHARS};
use gatehouse_shared::protocol::MAX_FRAME_BYTES;
use gatehouse_shared::user::{
    ChangePassword, EstateSettings, SignInRequest, SignInResponse, StaffMember,
};
use gatehouse_shared::{DocumentId, RecordSummary, UserInfo};
use serde::Deserialize;

use crate::admin;
use crate::auth::{
    hash_password, new_session_token, token_hash, verify_against_nothing, verify_password,
};
use crate::error::HttpError;
use crate::store::{Enrolment, StoreError};
use crate::{now_ms, AppState};

mod admin_routes;
use admin_routes::admin_error;
pub use admin_routes::{
    admin_create_estate, admin_create_user, admin_devices, admin_estates, admin_restore_device,
    admin_restore_user, admin_revoke_device, admin_revoke_user, admin_set_found_item_periods,
    admin_set_password, admin_set_retention, admin_users, NewEstate, Retention,
};

/// The user behind a request's `Authorization: Bearer` token, on a device that is not
/// revoked.
pub struct CurrentUser {
    pub user: UserInfo,
    /// The device the session was opened on.
    pub device_id: String,
    token_hash: Vec<u8>,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(HttpError::Unauthorized)?;
        let hash = token_hash(&token);
        let lookup = hash.clone();
        let session = state
            .blocking(move |store| store.session(&lookup, now_ms()))
            .await??
            .ok_or(HttpError::Unauthorized)?;
        if session.device_revoked {
            return Err(HttpError::DeviceRevoked);
        }
        Ok(Self {
            user: session.user,
            device_id: session.device_id,
            token_hash: hash,
        })
    }
}

/// An admin, for the admin routes.
pub struct CurrentAdmin(pub CurrentUser);

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if !current.user.role.is_admin() {
            return Err(HttpError::Forbidden);
        }
        Ok(Self(current))
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<SignInRequest>,
) -> Result<Json<SignInResponse>, HttpError> {
    let address = peer.ip().to_string();
    let account = request.username.trim().to_owned();
    if let Some(wait) = state
        .sign_in_limiter
        .blocked_for(&account, &address, Instant::now())
    {
        tracing::warn!(%account, %address, "sign-in rate limited");
        return Err(HttpError::TooManyAttempts(wait.as_secs().max(1)));
    }
    if request.device.verify(&account).is_err() {
        return Err(HttpError::BadRequest("error.bad_device"));
    }
    let limiter = state.sign_in_limiter.clone();
    let session_ms = state
        .config
        .session_days
        .saturating_mul(24 * 60 * 60 * 1000);
    let response = state
        .blocking(move |store| -> Result<SignInResponse, HttpError> {
            let username = request.username.trim();
            let Some(stored) = store.user_by_username(username)? else {
                verify_against_nothing(&request.password);
                return Err(HttpError::BadCredentials);
            };
            if !verify_password(&request.password, &stored.password_hash)
                || stored.revoked_at.is_some()
            {
                return Err(HttpError::BadCredentials);
            }
            let now = now_ms();
            match store.enrol_device(&stored.info.id, &request.device, now)? {
                Enrolment::Enrolled | Enrolment::Recognised => {}
                Enrolment::Revoked => return Err(HttpError::DeviceRevoked),
                Enrolment::Conflict => return Err(HttpError::DeviceConflict),
            }
            let token = new_session_token();
            store.create_session(
                &token_hash(&token),
                &stored.info.id,
                &request.device.device_id,
                now,
                now.saturating_add(session_ms),
            )?;
            Ok(SignInResponse {
                token,
                user: stored.info,
                device_id: request.device.device_id,
            })
        })
        .await?;
    let response = match response {
        Err(HttpError::BadCredentials) => {
            limiter.record_failure(&account, &address, Instant::now());
            return Err(HttpError::BadCredentials);
        }
        other => other?,
    };
    tracing::info!(user = %response.user.username, device = %response.device_id, "signed in");
    Ok(Json(response))
}

/// Ends the session of the token given, whatever state its device is in.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, HttpError> {
    let token = bearer(&headers).ok_or(HttpError::Unauthorized)?;
    let hash = token_hash(&token);
    state
        .blocking(move |store| store.delete_session(&hash))
        .await??;
    state.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(current: CurrentUser) -> Json<UserInfo> {
    Json(current.user)
}

/// The settings of the signed-in user's estates (the periods phones judge found items by).
pub async fn my_estates(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<EstateSettings>>, HttpError> {
    let estates = current.user.estate_ids();
    let list = state
        .blocking(move |store| store.estate_settings(&estates))
        .await??;
    Ok(Json(list))
}

/// The signed-in user's devices and their sessions.
pub async fn my_devices(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<DeviceInfo>>, HttpError> {
    let users = vec![current.user.id.clone()];
    let hash = current.token_hash.clone();
    let devices = state
        .blocking(move |store| store.list_devices(&users, Some(&hash), now_ms()))
        .await??;
    Ok(Json(devices))
}

/// Body of `PUT /api/devices/{id}/name`.
#[derive(Debug, Deserialize)]
pub struct DeviceName {
    pub name: String,
}

/// A user names one of their own devices (empty: no name). Another user's device: 404.
pub async fn name_device(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(device_id): Path<String>,
    Json(body): Json<DeviceName>,
) -> Result<StatusCode, HttpError> {
    let name = body.name.trim().to_owned();
    if name.chars().count() > MAX_DEVICE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(HttpError::BadRequest("account.bad_device_name"));
    }
    let user_id = current.user.id.clone();
    let named = state
        .blocking(move |store| {
            store.set_device_name(&device_id, &user_id, (!name.is_empty()).then_some(&*name))
        })
        .await??;
    if named {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::NotFound)
    }
}

/// A user changing their own password: every other session of theirs ends.
pub async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<ChangePassword>,
) -> Result<StatusCode, HttpError> {
    admin::check_password(&request.new_password).map_err(admin_error)?;
    let user_id = current.user.id.clone();
    let keep = current.token_hash.clone();
    state
        .blocking(move |store| -> Result<(), HttpError> {
            let stored = store.user_by_id(&user_id)?.ok_or(HttpError::Unauthorized)?;
            if !verify_password(&request.current_password, &stored.password_hash) {
                return Err(HttpError::BadCredentials);
            }
            let hash = hash_password(&request.new_password)
                .map_err(|e| HttpError::Internal(e.to_string()))?;
            store.set_password(&user_id, &hash, Some(&keep))?;
            Ok(())
        })
        .await??;
    state.access_changed();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Most records to return (default 200, at most 1000).
    limit: Option<u32>,
    /// The next page: the `started_at` and `doc` of the last record of the previous page
    /// (both or neither).
    after_started_at: Option<String>,
    after_doc: Option<String>,
    /// Only records of this kind (`release_slip`: the goods release register).
    kind: Option<String>,
    /// Instead of a page: every record that links to this document (a patrol log's work
    /// orders, a work order's repair).
    links_to: Option<String>,
}

/// A page of the records of the user's estates, newest round first. Office staff only. A page
/// shorter than `limit` is the last one; otherwise the next starts after its last record.
pub async fn list_records(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RecordSummary>>, HttpError> {
    if !current.user.role.lists_records() {
        return Err(HttpError::Forbidden);
    }
    if let Some(doc) = query.links_to.as_deref() {
        if query.after_doc.is_some() || query.after_started_at.is_some() || query.kind.is_some() {
            return Err(HttpError::BadRequest("error.bad_query"));
        }
        let doc = doc
            .parse::<DocumentId>()
            .map_err(|_| HttpError::BadRequest("error.bad_query"))?;
        let estates = current.user.estate_ids();
        let records = state
            .blocking(move |store| store.records_linking_to(&estates, doc))
            .await??;
        return Ok(Json(records));
    }
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let after = match (
        query.after_started_at.as_deref(),
        query.after_doc.as_deref(),
    ) {
        (None, None) => None,
        (Some(started_at), Some(doc)) => Some((
            started_at
                .parse::<i64>()
                .map_err(|_| HttpError::BadRequest("error.bad_cursor"))?,
            doc.parse::<DocumentId>()
                .map_err(|_| HttpError::BadRequest("error.bad_cursor"))?,
        )),
        _ => return Err(HttpError::BadRequest("error.bad_cursor")),
    };
    let kind = match query.kind.as_deref() {
        None => None,
        Some(text) => Some(
            gatehouse_shared::RecordKind::parse(text)
                .ok_or(HttpError::BadRequest("error.bad_kind"))?
                .as_str(),
        ),
    };
    let estates = current.user.estate_ids();
    let records = state
        .read(move |store| store.list_records_of(&estates, kind, limit, after))
        .await
        .map_err(|e| HttpError::Internal(e.to_string()))??;
    Ok(Json(records))
}

/// The staff of the asking clerk's estates who can be given work (not revoked), by name:
/// whom a work order can be assigned to. Office staff only.
pub async fn staff(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<StaffMember>>, HttpError> {
    if !current.user.role.lists_records() {
        return Err(HttpError::Forbidden);
    }
    let estates = current.user.estate_ids();
    let mine = estates.clone();
    let users = state
        .blocking(move |store| store.list_users(Some(&estates)))
        .await??;
    let mut staff: Vec<StaffMember> = users
        .into_iter()
        .filter(|u| u.revoked_at.is_none() && !u.info.role.is_admin())
        .map(|u| StaffMember {
            // Only the estates the clerk shares with them.
            estate_ids: u
                .info
                .estate_ids()
                .into_iter()
                .filter(|e| mine.contains(e))
                .collect(),
            id: u.info.id,
            display_name: u.info.display_name,
            role: u.info.role,
        })
        .collect();
    staff.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    Ok(Json(staff))
}

/// The enrolled public keys of the devices of everyone who shares an estate with the asking
/// clerk, so the office can check every signature in its records in the browser. Office
/// staff only.
pub async fn device_keys(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<DeviceKey>>, HttpError> {
    if !current.user.role.lists_records() {
        return Err(HttpError::Forbidden);
    }
    let estates = current.user.estate_ids();
    let keys = state
        .blocking(move |store| -> Result<Vec<DeviceKey>, StoreError> {
            let users: Vec<String> = store
                .list_users(Some(&estates))?
                .into_iter()
                .map(|u| u.info.id)
                .collect();
            store.device_keys(&users)
        })
        .await??;
    Ok(Json(keys))
}

/// Whether a browser's `Origin` is this server (the `Host` it was asked for). Requests
/// without an `Origin` (native clients) pass: the session token still guards them.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Upgrades to the sync WebSocket; authentication happens in its first message.
pub async fn sync_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused cross-origin sync socket");
        return HttpError::Forbidden.into_response();
    }
    // The WebSocket layer reads messages up to twice the protocol's limit whole, so that the
    // server can refuse one past the limit with a clean close 1009 (`sync::serve_socket`);
    // a connection dropped mid-message would reach the device as 1006, not 1009.
    // Counted from here until the connection ends; one past the limit costs nothing more.
    let Some(slot) = crate::sync::ConnectionSlot::take(&state) else {
        tracing::warn!(
            limit = state.config.max_connections,
            "refused a sync connection: at the limit"
        );
        return HttpError::TooManyConnections.into_response();
    };
    // Reads of a few KiB: the layer zero-fills its read size before every read attempt, and
    // an idle connection keeps that much (see `Config::socket_read_buffer`).
    upgrade
        .max_message_size(2 * MAX_FRAME_BYTES)
        .max_frame_size(2 * MAX_FRAME_BYTES)
        .read_buffer_size(state.config.socket_read_buffer)
        .on_upgrade(move |socket| async move {
            crate::sync::serve_socket(state, socket).await;
            drop(slot);
        })
}

/// An API path that does not exist.
pub async fn no_such_route() -> HttpError {
    HttpError::NotFound
}

/// `GET /metrics`: the Prometheus text format, for the bearer of the configured metrics
/// token only (none configured: not served).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state
        .config
        .metrics_token
        .clone()
        .filter(|token| !token.is_empty())
    else {
        return HttpError::NotFound.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as digests, so the time taken says nothing about the token.
    if crate::auth::token_hash(given) != crate::auth::token_hash(&expected) {
        return HttpError::Unauthorized.into_response();
    }
    let database = state.config.database_path();
    let counted = state
        .read(move |store| {
            let size = |path: std::path::PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
            let wal = std::path::PathBuf::from(format!("{}-wal", database.display()));
            store
                .document_count()
                .map(|documents| crate::metrics::Stored {
                    documents,
                    database_bytes: size(database.clone()) + size(wal),
                })
        })
        .await;
    let stored = match counted {
        Ok(Ok(stored)) => stored,
        Ok(Err(error)) => return HttpError::Store(error).into_response(),
        Err(error) => return HttpError::Internal(error.to_string()).into_response(),
    };
    let connections = state
        .open_connections
        .load(std::sync::atomic::Ordering::Relaxed);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(connections, stored),
    )
        .into_response()
}

pub async fn health() -> &'static str {
    "ok"
}
