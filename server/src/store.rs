//! The server's storage: the only module that knows SQL.
//!
//! SQLite in WAL mode with `synchronous=FULL`, so a committed transaction survives a power
//! cut. A record document is stored as a snapshot plus the incremental changes since it;
//! `records` holds one materialized row per record for the office lists.

use std::path::Path;

use automerge::Automerge;
use gatehouse_shared::{DocumentId, RecordSummary, Role, UserInfo};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Compact a document into a fresh snapshot once it has this many change rows.
pub const COMPACT_AFTER_CHANGE_ROWS: i64 = 32;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE estates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    estate_id TEXT NOT NULL REFERENCES estates(id),
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE documents (
    id BLOB PRIMARY KEY,
    estate_id TEXT NOT NULL REFERENCES estates(id),
    snapshot BLOB,
    change_rows INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id BLOB NOT NULL REFERENCES documents(id),
    data BLOB NOT NULL
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);
CREATE TABLE records (
    doc_id BLOB PRIMARY KEY REFERENCES documents(id),
    estate_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX records_by_estate ON records(estate_id, kind, started_at DESC);
"#];

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored document is corrupt: {0}")]
    Corrupt(#[from] automerge::AutomergeError),
    #[error("stored summary is corrupt: {0}")]
    Summary(#[from] serde_json::Error),
    #[error("stored user has unknown role {0}")]
    UnknownRole(String),
}

/// A user row with its password hash.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub info: UserInfo,
    pub password_hash: String,
}

/// A stored document and what the server knows about it.
#[derive(Debug)]
pub struct StoredDocument {
    pub estate_id: String,
    pub doc: Automerge,
    /// Server time of the latest stored change.
    pub updated_at: i64,
}

/// The database.
pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let applied: usize = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn upsert_estate(&self, id: &str, name: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO estates (id, name) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
            params![id, name],
        )?;
        Ok(())
    }

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
        Ok(())
    }

    fn user_where(&self, clause: &str, value: &str) -> Result<Option<StoredUser>, StoreError> {
        let sql = format!(
            "SELECT u.id, u.username, u.display_name, u.role, u.estate_id, e.name, u.password_hash
             FROM users u JOIN estates e ON e.id = u.estate_id WHERE {clause}"
        );
        let row = self
            .conn
            .query_row(&sql, [value], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, String>(6)?,
                ))
            })
            .optional()?;
        row.map(
            |(id, username, display_name, role, estate_id, estate_name, password_hash)| {
                let role = Role::parse(&role).ok_or(StoreError::UnknownRole(role))?;
                Ok(StoredUser {
                    info: UserInfo {
                        id,
                        username,
                        display_name,
                        role,
                        estate_id,
                        estate_name,
                    },
                    password_hash,
                })
            },
        )
        .transpose()
    }

    pub fn user_by_username(&self, username: &str) -> Result<Option<StoredUser>, StoreError> {
        self.user_where("u.username = ?1", username)
    }

    pub fn create_session(
        &self,
        token_hash: &[u8],
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user_id, now, expires_at],
        )?;
        Ok(())
    }

    /// The user of a session that has not expired at `now`.
    pub fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<UserInfo>, StoreError> {
        let user_id: Option<String> = self
            .conn
            .query_row(
                "SELECT user_id FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |row| row.get(0),
            )
            .optional()?;
        match user_id {
            Some(id) => Ok(self.user_where("u.id = ?1", &id)?.map(|u| u.info)),
            None => Ok(None),
        }
    }

    pub fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(())
    }

    /// The records of an estate, newest round first.
    pub fn list_records(
        &self,
        estate_id: &str,
        limit: u32,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT summary FROM records WHERE estate_id = ?1 ORDER BY started_at DESC, doc_id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![estate_id, limit], |row| row.get::<_, String>(0))?;
        let mut records = Vec::new();
        for summary in rows {
            records.push(serde_json::from_str(&summary?)?);
        }
        Ok(records)
    }

    /// Starts a write transaction. Nothing in it is visible or durable until `commit`.
    pub fn begin(&mut self) -> Result<StoreTransaction<'_>, StoreError> {
        Ok(StoreTransaction {
            tx: self.conn.transaction()?,
        })
    }

    /// Loads a document outside any write transaction.
    pub fn load_document(&self, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
        load_document(&self.conn, id)
    }
}

fn load_document(conn: &Connection, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
    let head = conn
        .query_row(
            "SELECT estate_id, snapshot, updated_at FROM documents WHERE id = ?1",
            params![id.as_bytes()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<Vec<u8>>>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((estate_id, snapshot, updated_at)) = head else {
        return Ok(None);
    };
    let mut doc = match snapshot {
        Some(bytes) => Automerge::load(&bytes)?,
        None => Automerge::new(),
    };
    let mut statement =
        conn.prepare_cached("SELECT data FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
    let rows = statement.query_map(params![id.as_bytes()], |row| row.get::<_, Vec<u8>>(0))?;
    for data in rows {
        doc.load_incremental(&data?)?;
    }
    Ok(Some(StoredDocument {
        estate_id,
        doc,
        updated_at,
    }))
}

/// One write transaction.
pub struct StoreTransaction<'a> {
    tx: Transaction<'a>,
}

impl StoreTransaction<'_> {
    pub fn load_document(&self, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
        load_document(&self.tx, id)
    }

    /// Appends changes to a document (creating it if new), compacting it into a snapshot
    /// when it has gathered enough change rows, and updates its materialized record row.
    pub fn save_changes(
        &self,
        id: &DocumentId,
        estate_id: &str,
        doc: &Automerge,
        new_changes: &[u8],
        summary: Option<&RecordSummary>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO documents (id, estate_id, snapshot, change_rows, created_at, updated_at)
             VALUES (?1, ?2, NULL, 0, ?3, ?3)
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
            params![id.as_bytes(), estate_id, now],
        )?;
        let change_rows: i64 = self.tx.query_row(
            "SELECT change_rows FROM documents WHERE id = ?1",
            params![id.as_bytes()],
            |row| row.get(0),
        )?;
        if change_rows + 1 >= COMPACT_AFTER_CHANGE_ROWS {
            self.tx.execute(
                "DELETE FROM changes WHERE doc_id = ?1",
                params![id.as_bytes()],
            )?;
            self.tx.execute(
                "UPDATE documents SET snapshot = ?2, change_rows = 0 WHERE id = ?1",
                params![id.as_bytes(), doc.save()],
            )?;
        } else {
            self.tx.execute(
                "INSERT INTO changes (doc_id, data) VALUES (?1, ?2)",
                params![id.as_bytes(), new_changes],
            )?;
            self.tx.execute(
                "UPDATE documents SET change_rows = change_rows + 1 WHERE id = ?1",
                params![id.as_bytes()],
            )?;
        }
        if let Some(summary) = summary {
            self.tx.execute(
                "INSERT INTO records (doc_id, estate_id, kind, started_at, last_received_at, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(doc_id) DO UPDATE SET estate_id = excluded.estate_id, kind = excluded.kind,
                     started_at = excluded.started_at, last_received_at = excluded.last_received_at,
                     summary = excluded.summary",
                params![
                    id.as_bytes(),
                    summary.estate_id,
                    summary.kind.as_str(),
                    summary.started_at,
                    summary.last_received_at,
                    serde_json::to_string(summary)?
                ],
            )?;
        }
        Ok(())
    }

    /// When the record was first stored, if it was.
    pub fn first_received_at(&self, id: &DocumentId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT created_at FROM documents WHERE id = ?1",
                params![id.as_bytes()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Makes everything in the transaction durable.
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use gatehouse_shared::patrol_log::{create_document, edit_document};
    use gatehouse_shared::{CheckpointVisit, PatrolLog};

    const T0: i64 = 1_780_000_000_000;

    #[test]
    fn document_survives_compaction_and_reopen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("test.db");
        let id = DocumentId::new_random();
        let log = PatrolLog::start("estate", "guard", "王", "night", T0).expect("valid");
        let mut doc = create_document(ActorId::random(), &log, T0).expect("created");
        {
            let mut store = Store::open(&path).expect("opens");
            store.upsert_estate("estate", "Estate").expect("estate");
            let mut heads = Vec::new();
            for step in 0..(COMPACT_AFTER_CHANGE_ROWS * 2) {
                if step > 0 {
                    edit_document(&mut doc, T0 + step, |log| {
                        log.visits.push(
                            CheckpointVisit::new(&format!("c{step}"), T0 + step, "")
                                .expect("valid"),
                        )
                    })
                    .expect("edit");
                }
                let tx = store.begin().expect("begin");
                tx.save_changes(&id, "estate", &doc, &doc.save_after(&heads), None, T0)
                    .expect("save");
                tx.commit().expect("commit");
                heads = doc.get_heads();
            }
        }
        let store = Store::open(&path).expect("reopens");
        let stored = store.load_document(&id).expect("loads").expect("exists");
        assert_eq!(stored.doc.get_heads(), doc.get_heads());
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .expect("count");
        assert!(
            rows < COMPACT_AFTER_CHANGE_ROWS,
            "changes were compacted, {rows} rows left"
        );
    }
}
