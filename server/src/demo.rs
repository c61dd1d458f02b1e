//! The demo estate and its users, for trying Gatehouse out and for the end-to-end tests.

use gatehouse_shared::{Role, UserInfo};

use crate::auth::{hash_password, HashError};
use crate::store::{Store, StoreError};

pub const ESTATE_ID: &str = "demo-estate";
pub const ESTATE_NAME: &str = "阳光花园 Sunshine Gardens";
/// A second estate; the demo guard and admin work in both, the other demo users in the first
/// only.
pub const SECOND_ESTATE_ID: &str = "jade-lake";
pub const SECOND_ESTATE_NAME: &str = "翠湖居 Jade Lake";

/// A demo account: username, password, display name, role.
pub const USERS: &[(&str, &str, &str, Role)] = &[
    ("guard", "guard-demo-2026", "王保安", Role::Guard),
    ("clerk", "clerk-demo-2026", "李客服", Role::Office),
    ("tech", "tech-demo-2026", "陈师傅", Role::Technician),
    ("admin", "admin-demo-2026", "赵主管", Role::Admin),
    ("cleaner", "cleaner-demo-2026", "刘阿姨", Role::Cleaner),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Creates the demo estate and users, resetting their passwords.
pub fn seed(store: &Store, now: i64) -> Result<(), DemoError> {
    store.upsert_estate(ESTATE_ID, ESTATE_NAME)?;
    store.upsert_estate(SECOND_ESTATE_ID, SECOND_ESTATE_NAME)?;
    for (username, password, display_name, role) in USERS {
        let user = UserInfo {
            id: format!("user-{username}"),
            username: (*username).to_owned(),
            display_name: (*display_name).to_owned(),
            role: *role,
            estate_id: ESTATE_ID.to_owned(),
            estate_name: ESTATE_NAME.to_owned(),
            estates: Vec::new(),
        };
        store.upsert_user(&user, &hash_password(password)?, now)?;
        if matches!(*role, Role::Guard | Role::Admin) {
            store.set_memberships(
                &user.id,
                &[ESTATE_ID.to_owned(), SECOND_ESTATE_ID.to_owned()],
            )?;
        }
    }
    Ok(())
}
