//! Devices: enrolment (actor and public key per device), revocation, the keys the office
//! checks signatures with, and what users and admins see of their devices.

use gatehouse_shared::device::{DeviceEnrolment, DeviceInfo, DeviceKey, SessionInfo};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Enrolment, Store, StoreError};

impl Store {
    /// Enrols `enrolment`'s device for a user, or recognises it. The enrolment's signature
    /// must already have been verified.
    pub fn enrol_device(
        &self,
        user_id: &str,
        enrolment: &DeviceEnrolment,
        now: i64,
    ) -> Result<Enrolment, StoreError> {
        let known = self
            .conn
            .query_row(
                "SELECT user_id, actor, public_key, revoked_at FROM devices WHERE id = ?1",
                params![enrolment.device_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Vec<u8>>(1)?,
                        row.get::<_, Vec<u8>>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                    ))
                },
            )
            .optional()?;
        match known {
            Some((owner, actor, key, revoked_at)) => {
                if owner != user_id || actor != enrolment.actor || key != enrolment.public_key {
                    return Ok(Enrolment::Conflict);
                }
                if revoked_at.is_some() {
                    return Ok(Enrolment::Revoked);
                }
                self.conn.execute(
                    "UPDATE devices SET last_seen_at = ?2, label = ?3 WHERE id = ?1",
                    params![enrolment.device_id, now, enrolment.label],
                )?;
                Ok(Enrolment::Recognised)
            }
            None => {
                let inserted = self.conn.execute(
                    "INSERT INTO devices (id, user_id, actor, public_key, label, enrolled_at, last_seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT(actor) DO NOTHING",
                    params![
                        enrolment.device_id,
                        user_id,
                        enrolment.actor,
                        enrolment.public_key,
                        enrolment.label,
                        now
                    ],
                )?;
                Ok(if inserted == 1 {
                    Enrolment::Enrolled
                } else {
                    Enrolment::Conflict
                })
            }
        }
    }

    /// Revokes a device; its sessions allow nothing from now on.
    pub fn revoke_device(&self, device_id: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![device_id, now],
        )?;
        Ok(changed > 0)
    }

    /// Names a device of `user_id` (`None` clears the name); `false` if they have no such
    /// device.
    pub fn set_device_name(
        &self,
        device_id: &str,
        user_id: &str,
        name: Option<&str>,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE devices SET name = ?3 WHERE id = ?1 AND user_id = ?2",
            params![device_id, user_id, name],
        )?;
        Ok(changed > 0)
    }

    /// Lifts a device's revocation. The sessions it had stay ended: a token on a phone that
    /// was lost does not come back to life; the device signs in again.
    pub fn restore_device(&self, device_id: &str) -> Result<bool, StoreError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE device_id = ?1",
            params![device_id],
        )?;
        let changed = self.conn.execute(
            "UPDATE devices SET revoked_at = NULL WHERE id = ?1",
            params![device_id],
        )?;
        Ok(changed > 0)
    }

    /// The user a device is enrolled for.
    pub fn device_owner(&self, device_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT user_id FROM devices WHERE id = ?1",
                params![device_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The enrolled public keys of the devices of `user_ids`.
    pub fn device_keys(&self, user_ids: &[String]) -> Result<Vec<DeviceKey>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, user_id, public_key, revoked_at FROM devices WHERE user_id = ?1 ORDER BY id",
        )?;
        let mut keys = Vec::new();
        for user_id in user_ids {
            let rows = statement.query_map(params![user_id], |row| {
                Ok(DeviceKey {
                    device_id: row.get(0)?,
                    user_id: row.get(1)?,
                    public_key_hex: row
                        .get::<_, Vec<u8>>(2)?
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                    revoked_at: row.get(3)?,
                })
            })?;
            for key in rows {
                keys.push(key?);
            }
        }
        Ok(keys)
    }

    /// Devices of the given users, each with its live sessions; `current` marks the asking
    /// session.
    pub fn list_devices(
        &self,
        user_ids: &[String],
        current: Option<&[u8]>,
        now: i64,
    ) -> Result<Vec<DeviceInfo>, StoreError> {
        let mut devices = Vec::new();
        let mut statement = self.conn.prepare_cached(
            "SELECT d.id, d.user_id, u.username, d.label, d.actor, d.enrolled_at, d.last_seen_at, d.revoked_at, d.name
             FROM devices d JOIN users u ON u.id = d.user_id WHERE d.user_id = ?1 ORDER BY d.enrolled_at, d.id",
        )?;
        let mut sessions = self.conn.prepare_cached(
            "SELECT created_at, expires_at, token_hash FROM sessions
             WHERE device_id = ?1 AND expires_at > ?2 ORDER BY created_at",
        )?;
        for user_id in user_ids {
            let rows = statement.query_map(params![user_id], |row| {
                Ok(DeviceInfo {
                    device_id: row.get(0)?,
                    user_id: row.get(1)?,
                    username: row.get(2)?,
                    label: row.get(3)?,
                    actor: automerge::ActorId::from(row.get::<_, Vec<u8>>(4)?.as_slice())
                        .to_hex_string(),
                    enrolled_at: row.get(5)?,
                    last_seen_at: row.get(6)?,
                    revoked_at: row.get(7)?,
                    name: row.get(8)?,
                    sessions: Vec::new(),
                })
            })?;
            for device in rows {
                let mut device = device?;
                let live = sessions.query_map(params![device.device_id, now], |row| {
                    Ok(SessionInfo {
                        created_at: row.get(0)?,
                        expires_at: row.get(1)?,
                        current: current.is_some_and(|c| {
                            row.get_ref(2).ok().and_then(|v| v.as_blob().ok()) == Some(c)
                        }),
                    })
                })?;
                device.sessions = live.collect::<Result<_, _>>()?;
                devices.push(device);
            }
        }
        Ok(devices)
    }

    /// Marks a device as seen now.
    pub fn touch_device(&self, device_id: &str, now: i64) -> Result<(), StoreError> {
        touch_device(&self.conn, device_id, now)
    }
}

/// Marks a device as seen at `now`.
pub(super) fn touch_device(conn: &Connection, device_id: &str, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE devices SET last_seen_at = ?2 WHERE id = ?1")?
        .execute(params![device_id, now])?;
    Ok(())
}
