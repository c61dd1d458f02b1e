//! Users, their estates (memberships) and sessions.

use gatehouse_shared::user::EstateRef;
use gatehouse_shared::{Role, UserInfo};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Session, Store, StoreError, StoredUser};

impl Store {
    /// Creates a user, or replaces the password, name and role of an existing one.
    pub fn upsert_user(
        &self,
        user: &UserInfo,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO users (id, username, display_name, password_hash, role, estate_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(username) DO UPDATE SET display_name = excluded.display_name,
                 password_hash = excluded.password_hash, role = excluded.role, estate_id = excluded.estate_id",
            params![user.id, user.username, user.display_name, password_hash, user.role.as_str(), user.estate_id, now],
        )?;
        let id: String = self.conn.query_row(
            "SELECT id FROM users WHERE username = ?1",
            params![user.username],
            |row| row.get(0),
        )?;
        let mut estates = user.estate_ids();
        estates.dedup();
        self.set_memberships(&id, &estates)?;
        Ok(())
    }

    /// Replaces a user's estates; the first is where their new records go.
    pub fn set_memberships(&self, user_id: &str, estates: &[String]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM memberships WHERE user_id = ?1",
            params![user_id],
        )?;
        for (position, estate) in estates.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO memberships (user_id, estate_id, position) VALUES (?1, ?2, ?3)",
                params![user_id, estate, position as i64],
            )?;
        }
        if let Some(first) = estates.first() {
            self.conn.execute(
                "UPDATE users SET estate_id = ?2 WHERE id = ?1",
                params![user_id, first],
            )?;
        }
        Ok(())
    }

    pub fn user_by_username(&self, username: &str) -> Result<Option<StoredUser>, StoreError> {
        user_where(&self.conn, "u.username = ?1", username)
    }

    pub fn user_by_id(&self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        user_where(&self.conn, "u.id = ?1", id)
    }

    /// Users who belong to any of `estates` (every user when `estates` is None).
    pub fn list_users(&self, estates: Option<&[String]>) -> Result<Vec<StoredUser>, StoreError> {
        let ids: Vec<String> = {
            let mut statement = self.conn.prepare(
                "SELECT DISTINCT u.id FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.id",
            )?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut users = Vec::new();
        for id in ids {
            if let Some(user) = self.user_by_id(&id)? {
                let visible = estates.is_none_or(|estates| {
                    user.info.estate_ids().iter().any(|e| estates.contains(e))
                });
                if visible {
                    users.push(user);
                }
            }
        }
        Ok(users)
    }

    /// Replaces a user's password and ends their sessions, except `keep` (the session
    /// that changed it, when a user changes their own).
    pub fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user_id, password_hash],
        )?;
        self.conn.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND token_hash IS NOT ?2",
            params![user_id, keep],
        )?;
        Ok(())
    }

    /// Revokes a user: no sign-in, no session, no sync from any of their devices.
    pub fn revoke_user(&self, user_id: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE users SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![user_id, now],
        )?;
        self.conn
            .execute("DELETE FROM sessions WHERE user_id = ?1", params![user_id])?;
        Ok(changed > 0)
    }

    /// Lifts a user's revocation: they may sign in again (their sessions ended with it).
    pub fn restore_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE users SET revoked_at = NULL WHERE id = ?1",
            params![user_id],
        )?;
        Ok(changed > 0)
    }

    pub fn create_session(
        &self,
        token_hash: &[u8],
        user_id: &str,
        device_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user_id, device_id, now, expires_at],
        )?;
        Ok(())
    }

    /// The session behind a token, if it has not expired at `now` and its user is not
    /// revoked. A revoked device's session is returned marked, so it can be told so.
    pub fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>, StoreError> {
        session(&self.conn, token_hash, now)
    }

    pub fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(())
    }
}

fn user_where(
    conn: &Connection,
    clause: &str,
    value: &str,
) -> Result<Option<StoredUser>, StoreError> {
    let sql = format!(
        "SELECT u.id, u.username, u.display_name, u.role, u.estate_id, e.name, u.password_hash,
                    u.revoked_at
             FROM users u JOIN estates e ON e.id = u.estate_id WHERE {clause}"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row([value], |row| {
            Ok((
                (
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ),
                (
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, Option<i64>>(7)?,
                ),
            ))
        })
        .optional()?;
    let Some((
        (id, username, display_name, role),
        (estate_id, estate_name, password_hash, revoked_at),
    )) = row
    else {
        return Ok(None);
    };
    let role = Role::parse(&role).ok_or(StoreError::UnknownRole(role))?;
    let estates = memberships(conn, &id)?;
    Ok(Some(StoredUser {
        info: UserInfo {
            id,
            username,
            display_name,
            role,
            estate_id,
            estate_name,
            estates,
        },
        password_hash,
        revoked_at,
    }))
}

fn memberships(conn: &Connection, user_id: &str) -> Result<Vec<EstateRef>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT e.id, e.name FROM memberships m JOIN estates e ON e.id = m.estate_id
             WHERE m.user_id = ?1 ORDER BY m.position, e.id",
    )?;
    let rows = statement.query_map(params![user_id], |row| {
        Ok(EstateRef {
            id: row.get(0)?,
            name: row.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn session(
    conn: &Connection,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT s.user_id, s.device_id, d.actor, d.revoked_at, d.public_key
             FROM sessions s JOIN devices d ON d.id = s.device_id JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.revoked_at IS NULL",
        )?
        .query_row(params![token_hash, now], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Vec<u8>>(4)?,
            ))
        })
        .optional()?;
    let Some((user_id, device_id, actor, revoked_at, public_key)) = row else {
        return Ok(None);
    };
    Ok(
        user_where(conn, "u.id = ?1", &user_id)?.map(|stored| Session {
            user: stored.info,
            device_id,
            actor,
            public_key,
            device_revoked: revoked_at.is_some(),
        }),
    )
}
