//! Estates: creating and naming them, how long phones keep their records after they are
//! done with (the retention the follow set reads), and what they set that the rules read
//! (kept whole, not looked into).

use gatehouse_shared::user::{EstateRef, EstateRules, EstateSettings, DEFAULT_RETENTION_DAYS};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError};

/// How long (days) phones keep the records of estate `id` after they are done with.
pub(super) fn retention_days(conn: &Connection, id: &str) -> Result<Option<u32>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT retention_days FROM estates WHERE id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?)
}

/// The settings of `ids` that exist, by ID.
pub(super) fn estate_settings(
    conn: &Connection,
    ids: &[String],
) -> Result<Vec<EstateSettings>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, name, retention_days, rules
         FROM estates WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )?;
    let rows = statement.query_map(params![serde_json::to_string(ids)?], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get::<_, String>(3)?,
        ))
    })?;
    let mut settings = Vec::new();
    for row in rows {
        let (id, name, retention_days, rules) = row?;
        settings.push(EstateSettings {
            id,
            name,
            retention_days,
            rules: serde_json::from_str(&rules).map_err(StoreError::EstateRules)?,
        });
    }
    Ok(settings)
}

impl Store {
    /// Creates an estate (keeping records the default period) or renames one.
    pub fn upsert_estate(&self, id: &str, name: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO estates (id, name, retention_days) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name",
            params![id, name, DEFAULT_RETENTION_DAYS],
        )?;
        Ok(())
    }

    /// Sets how long (days) phones keep an estate's records after they are done with;
    /// `false` if there is no such estate.
    pub fn set_retention_days(&self, id: &str, days: u32) -> Result<bool, StoreError> {
        let updated = self.conn.execute(
            "UPDATE estates SET retention_days = ?2 WHERE id = ?1",
            params![id, days],
        )?;
        Ok(updated == 1)
    }

    /// How long (days) phones keep the records of `id` after they are done with.
    pub fn retention_days(&self, id: &str) -> Result<Option<u32>, StoreError> {
        retention_days(&self.conn, id)
    }

    /// Sets what an estate sets for the rules; `false` if there is no such estate.
    pub fn set_estate_rules(&self, id: &str, rules: &EstateRules) -> Result<bool, StoreError> {
        let updated = self.conn.execute(
            "UPDATE estates SET rules = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(rules)?],
        )?;
        Ok(updated == 1)
    }

    /// The settings of `ids` that exist, by ID.
    pub fn estate_settings(&self, ids: &[String]) -> Result<Vec<EstateSettings>, StoreError> {
        estate_settings(&self.conn, ids)
    }

    pub fn estate_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM estates WHERE id = ?1", params![id], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    /// Every estate, as (id, name).
    pub fn estates(&self) -> Result<Vec<EstateRef>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT id, name FROM estates ORDER BY id")?;
        let rows = statement.query_map([], |row| {
            Ok(EstateRef {
                id: row.get(0)?,
                name: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
