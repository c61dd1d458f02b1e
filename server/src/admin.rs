//! Managing users, estates and devices: the rules both the admin routes and the
//! `gatehouse-server admin` command follow.

use gatehouse_shared::record::found_item::FoundItemPeriods;
use gatehouse_shared::user::{NewUser, MIN_PASSWORD_CHARS, RETENTION_DAYS};
use gatehouse_shared::UserInfo;

use crate::auth::{hash_password, HashError};
use crate::store::{Store, StoreError};

/// Why an admin action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A field is wrong; the text is a message key the app translates.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    #[error("username already taken")]
    UsernameTaken,
    #[error("no such estate: {0}")]
    UnknownEstate(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A password the server accepts.
pub fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
        return Err(AdminError::Invalid("admin.password_too_short"));
    }
    Ok(())
}

fn check_name(text: &str, max: usize) -> bool {
    let trimmed = text.trim();
    !trimmed.is_empty() && trimmed.chars().count() <= max && !trimmed.chars().any(char::is_control)
}

/// Creates a user in existing estates.
pub fn create_user(store: &Store, new: &NewUser, now: i64) -> Result<UserInfo, AdminError> {
    let username = new.username.trim();
    let username_ok = check_name(username, 64)
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !username_ok {
        return Err(AdminError::Invalid("admin.bad_username"));
    }
    if !check_name(&new.display_name, 100) {
        return Err(AdminError::Invalid("admin.bad_display_name"));
    }
    check_password(&new.password)?;
    let estates = known_estates(store, &new.estates)?;
    let Some(first) = estates.first().cloned() else {
        return Err(AdminError::Invalid("admin.no_estate"));
    };
    if store.user_by_username(username)?.is_some() {
        return Err(AdminError::UsernameTaken);
    }
    let info = UserInfo {
        id: format!("user-{}", uuid::Uuid::new_v4()),
        username: username.to_owned(),
        display_name: new.display_name.trim().to_owned(),
        role: new.role,
        estate_id: first,
        estate_name: String::new(),
        estates: Vec::new(),
    };
    store.upsert_user(&info, &hash_password(&new.password)?, now)?;
    store.set_memberships(&info.id, &estates)?;
    store
        .user_by_id(&info.id)?
        .map(|stored| stored.info)
        .ok_or(AdminError::NotFound)
}

/// Checks that every estate exists; returns them without repeats, in order.
fn known_estates(store: &Store, list: &[String]) -> Result<Vec<String>, AdminError> {
    let mut estates: Vec<String> = Vec::new();
    for estate in list {
        if !store.estate_exists(estate)? {
            return Err(AdminError::UnknownEstate(estate.clone()));
        }
        if !estates.contains(estate) {
            estates.push(estate.clone());
        }
    }
    if estates.is_empty() {
        return Err(AdminError::Invalid("admin.no_estate"));
    }
    Ok(estates)
}

/// Replaces a user's estates; the first is where their new records go. Records already
/// written stay in their estates.
pub fn set_estates(store: &Store, user_id: &str, list: &[String]) -> Result<(), AdminError> {
    let estates = known_estates(store, list)?;
    if store.user_by_id(user_id)?.is_none() {
        return Err(AdminError::NotFound);
    }
    store.set_memberships(user_id, &estates)?;
    Ok(())
}

/// Creates (or renames) an estate.
pub fn upsert_estate(store: &Store, id: &str, name: &str) -> Result<(), AdminError> {
    let id_ok = check_name(id, 64)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !id_ok {
        return Err(AdminError::Invalid("admin.bad_estate_id"));
    }
    if !check_name(name, 100) {
        return Err(AdminError::Invalid("admin.bad_estate_name"));
    }
    store.upsert_estate(id, name.trim())?;
    Ok(())
}

/// Sets how long (days) phones keep an estate's records after they are done with.
pub fn set_retention(store: &Store, estate_id: &str, days: u32) -> Result<(), AdminError> {
    if !RETENTION_DAYS.contains(&days) {
        return Err(AdminError::Invalid("admin.bad_retention"));
    }
    if !store.set_retention_days(estate_id, days)? {
        return Err(AdminError::UnknownEstate(estate_id.to_owned()));
    }
    Ok(())
}

/// Sets how long an estate keeps unclaimed found items.
pub fn set_found_item_periods(
    store: &Store,
    estate_id: &str,
    periods: &FoundItemPeriods,
) -> Result<(), AdminError> {
    if !periods.is_valid() {
        return Err(AdminError::Invalid("admin.bad_found_periods"));
    }
    let unknown = || AdminError::UnknownEstate(estate_id.to_owned());
    let mut rules = store
        .estate_settings(&[estate_id.to_owned()])?
        .pop()
        .ok_or_else(unknown)?
        .rules;
    rules.found_items = *periods;
    if !store.set_estate_rules(estate_id, &rules)? {
        return Err(unknown());
    }
    Ok(())
}

/// Replaces a user's password; all their sessions end.
pub fn set_password(store: &Store, user_id: &str, password: &str) -> Result<(), AdminError> {
    check_password(password)?;
    if store.user_by_id(user_id)?.is_none() {
        return Err(AdminError::NotFound);
    }
    store.set_password(user_id, &hash_password(password)?, None)?;
    Ok(())
}
