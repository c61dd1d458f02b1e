//! The server's storage: the only module that knows SQL.
//!
//! SQLite in WAL mode with `synchronous=FULL`, so a committed transaction survives a power
//! cut. A record document is stored as a snapshot plus the incremental changes since it;
//! `records` holds one materialized row per record for the office lists.

use std::path::Path;

use automerge::Automerge;
use gatehouse_shared::user::EstateSettings;
use gatehouse_shared::{DocumentId, RecordKind, RecordSummary, UserInfo};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

mod backup;
mod devices;
mod estates;
mod migrations;
mod users;
pub use backup::restore;
use migrations::MIGRATIONS;

/// Compact a document into a fresh snapshot once it has this many change rows.
pub const COMPACT_AFTER_CHANGE_ROWS: i64 = 32;

/// The page cache of each connection, in KiB (SQLite's default is 2,048). The server holds
/// the writer, one reader for the sync path per core but one, one for HTTP requests and
/// one for the rest, and the kernel's page cache keeps the file's pages anyway: this one only saves
/// decoding them again. 512 KiB (128 pages) holds
/// the interior pages of every B-tree of a database of some 50 MB. In the 10-minute soak
/// the server's RSS is about 1.5 MB lower with it, p99 sync latency unchanged. (What kept
/// RSS growing after warm-up was glibc's malloc: see the server's `main.rs`.)
const PAGE_CACHE_KIB: i64 = 512;

/// Prepared statements each connection keeps (rusqlite's default is 16). A sync frame runs
/// some twenty statements; parsing them again for each frame cost the writer thread about a
/// twentieth of its time in the wave benchmark.
const STATEMENT_CACHE: usize = 64;

/// Writes a record's materialized row.
fn upsert_summary(
    conn: &Connection,
    id: &DocumentId,
    summary: &RecordSummary,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO records (doc_id, estate_id, kind, unit, started_at, last_received_at, summary,
                              done_at, addressed_to, links_to, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(doc_id) DO UPDATE SET estate_id = excluded.estate_id, kind = excluded.kind,
             unit = excluded.unit, started_at = excluded.started_at,
             last_received_at = excluded.last_received_at, summary = excluded.summary,
             done_at = excluded.done_at, addressed_to = excluded.addressed_to,
             links_to = excluded.links_to, created_by = excluded.created_by",
    )?
    .execute(params![
        id.as_bytes(),
        summary.estate_id,
        summary.kind.as_str(),
        summary.unit,
        summary.started_at,
        summary.last_received_at,
        serde_json::to_string(summary)?,
        summary.done_at,
        summary.addressed_to,
        summary.links_to.map(|doc| doc.as_bytes().to_vec()),
        summary.created_by
    ])?;
    Ok(())
}

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
    #[error("stored document ID is corrupt")]
    BadDocumentId,
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("not committed: {0}")]
    NotCommitted(String),
    #[error("stored estate rules are corrupt: {0}")]
    EstateRules(serde_json::Error),
    #[error("{0}")]
    Backup(String),
}

/// A valid session: who, on which device.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: UserInfo,
    pub device_id: String,
    /// The device's Automerge actor ID.
    pub actor: Vec<u8>,
    /// The device's enrolled Ed25519 public key: signatures it takes must verify with it.
    pub public_key: Vec<u8>,
    /// Set when an admin revoked the device; the session then allows nothing.
    pub device_revoked: bool,
}

/// What enrolling a device at sign-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// A new device, now recorded against the user.
    Enrolled,
    /// The user's known device, with the same actor and key.
    Recognised,
    /// The device was revoked.
    Revoked,
    /// The device ID, actor or key is already someone else's, or differs from what the
    /// device enrolled with.
    Conflict,
}

/// A user row with its password hash.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub info: UserInfo,
    pub password_hash: String,
    pub revoked_at: Option<i64>,
}

/// A stored document and what the server knows about it.
#[derive(Debug)]
pub struct StoredDocument {
    pub estate_id: String,
    /// The record's kind, once the document holds a readable record.
    pub kind: Option<RecordKind>,
    /// The user who started the record (empty before it holds a readable record).
    pub created_by: String,
    /// Bytes of stored history (snapshot and change rows).
    pub size_bytes: i64,
    pub doc: Automerge,
    /// Server time of the latest stored change.
    pub updated_at: i64,
}

/// A document's heads as the store keeps them: the change hashes, sorted, end to end.
pub fn heads_bytes(heads: &[automerge::ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    sorted.iter().flat_map(|hash| hash.0).collect()
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

/// The documents a connection follows (`Store::documents_of_kinds`). Two halves, each read
/// from its own index (`records_by_estate`, `records_by_creator`): one query with OR between
/// them read every record of the estate, for each connection that said hello.
const FOLLOWED_DOCUMENTS: &str =
    "SELECT r.doc_id FROM records r JOIN estates e ON e.id = r.estate_id
 WHERE r.estate_id IN (SELECT value FROM json_each(?1))
   AND r.kind IN (SELECT value FROM json_each(?2))
   AND (r.done_at IS NULL OR r.done_at + e.retention_days * 86400000 > ?3)
   AND (r.addressed_to IS NULL OR r.addressed_to = ?4)
 UNION
 SELECT r.doc_id FROM records r
 WHERE r.created_by = ?4 AND r.started_at > ?5
   AND r.kind IN (SELECT value FROM json_each(?6))
   AND r.estate_id IN (SELECT value FROM json_each(?1))
 ORDER BY 1";

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        // The journal of each frame's savepoint (pages as they were before the frame) in
        // memory, not written to a temporary file: it is dropped at the commit either way.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens a connection that only reads, beside the one that opened (and migrated) the
    /// database: WAL lets it read while another connection writes.
    pub fn open_reader(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self { conn })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let applied: usize = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(migration.sql)?;
            if let Some(then) = migration.then {
                then(&tx)?;
            }
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A page of the records of `estates`, newest round first (then by document ID): the
    /// first `limit`, or those after `after` (the last row of the previous page) in that order.
    pub fn list_records(
        &self,
        estates: &[String],
        limit: u32,
        after: Option<(i64, DocumentId)>,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        self.list_records_of(estates, None, limit, after)
    }

    /// The same pages, of one kind only (by its text form) when `kind` is given.
    pub fn list_records_of(
        &self,
        estates: &[String],
        kind: Option<&str>,
        limit: u32,
        after: Option<(i64, DocumentId)>,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        // One estate (most staff) reads the index in the order shown, and a later page seeks
        // straight to its cursor; several estates are merged by SQLite's sort.
        let (estates, estate_clause) = match estates {
            [estate] => (estate.clone(), "estate_id = ?1"),
            _ => (
                serde_json::to_string(estates)?,
                "estate_id IN (SELECT value FROM json_each(?1))",
            ),
        };
        let cursor_clause = if after.is_some() {
            "AND (started_at < ?3 OR (started_at = ?3 AND doc_id > ?4))"
        } else {
            "AND ?3 IS NULL AND ?4 IS NULL"
        };
        let kind_clause = if kind.is_some() {
            "AND kind = ?5"
        } else {
            "AND ?5 IS NULL"
        };
        let sql = format!(
            "SELECT summary FROM records WHERE {estate_clause} {cursor_clause} {kind_clause}
             ORDER BY started_at DESC, doc_id LIMIT ?2"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let (after_started_at, after_doc) = match after {
            Some((started_at, doc)) => (Some(started_at), Some(doc.as_bytes().to_vec())),
            None => (None, None),
        };
        let rows = statement.query_map(
            params![estates, limit, after_started_at, after_doc, kind],
            |row| row.get::<_, String>(0),
        )?;
        let mut records = Vec::new();
        for summary in rows {
            records.push(serde_json::from_str(&summary?)?);
        }
        Ok(records)
    }

    /// The records of `estates` that link to `doc` (follow from it), oldest first: every
    /// one, since a record has few.
    pub fn records_linking_to(
        &self,
        estates: &[String],
        doc: DocumentId,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT summary FROM records
             WHERE links_to = ?1 AND estate_id IN (SELECT value FROM json_each(?2))
             ORDER BY started_at, doc_id",
        )?;
        let rows = statement.query_map(
            params![doc.as_bytes(), serde_json::to_string(estates)?],
            |row| row.get::<_, String>(0),
        )?;
        let mut records = Vec::new();
        for summary in rows {
            records.push(serde_json::from_str(&summary?)?);
        }
        Ok(records)
    }

    /// A device's follow set: in `estates`, the documents of `kinds` (by their text form)
    /// still followed at `now` (never done with, or done with less than their estate's
    /// retention period ago) and addressed to nobody in particular or to `user_id`; and the
    /// records of `own_kinds` (the kinds their role reads) `user_id` created that started
    /// after `own_since` (their own recent records, whichever phone wrote them).
    pub fn documents_of_kinds(
        &self,
        estates: &[String],
        kinds: &[&str],
        user_id: &str,
        now: i64,
        own_since: i64,
        own_kinds: &[&str],
    ) -> Result<Vec<DocumentId>, StoreError> {
        if estates.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(FOLLOWED_DOCUMENTS)?;
        let rows = statement.query_map(
            params![
                serde_json::to_string(estates)?,
                serde_json::to_string(kinds)?,
                now,
                user_id,
                own_since,
                serde_json::to_string(own_kinds)?
            ],
            |row| row.get::<_, Vec<u8>>(0),
        )?;
        let mut docs = Vec::new();
        for id in rows {
            docs.push(DocumentId::from_bytes(&id?).map_err(|_| StoreError::BadDocumentId)?);
        }
        Ok(docs)
    }

    /// Starts a write transaction. Nothing in it is visible or durable until `commit`.
    pub fn begin(&mut self) -> Result<StoreTransaction<'_>, StoreError> {
        Ok(StoreTransaction {
            tx: self.conn.transaction()?,
        })
    }

    /// Starts a write transaction that holds the database's write lock from the start
    /// (waiting for it like any write): for a writer beside other connections that write,
    /// whose reads would otherwise be refused an upgrade once another connection committed.
    pub fn begin_immediate(&mut self) -> Result<StoreTransaction<'_>, StoreError> {
        Ok(StoreTransaction {
            tx: self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
        })
    }

    /// How many documents are stored.
    pub fn document_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM documents", [], |row| row.get(0))?)
    }

    /// Loads a document outside any write transaction.
    pub fn load_document(&self, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
        load_document(&self.conn, id)
    }

    /// Runs `read` in one read transaction: every read it makes sees the database as one
    /// commit left it (without it, each statement sees the latest commit).
    pub fn read_snapshot<T>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // Ended however `read` ends: were it to panic, the connection would otherwise stay
        // in the transaction, and every later read on it would see this snapshot.
        let snapshot = self.conn.unchecked_transaction()?;
        let value = read(self);
        // It wrote nothing: ending it cannot lose anything.
        let ended = snapshot.commit();
        let value = value?;
        ended?;
        Ok(value)
    }
}

fn load_document(conn: &Connection, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
    let head = conn
        .prepare_cached(
            // The creator from the summary, which every schema version has (migrations load
            // documents before the `created_by` column exists).
            "SELECT d.estate_id, d.snapshot, d.updated_at, d.size_bytes, r.kind,
                    json_extract(r.summary, '$.created_by')
             FROM documents d LEFT JOIN records r ON r.doc_id = d.id WHERE d.id = ?1",
        )?
        .query_row(params![id.as_bytes()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<Vec<u8>>>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((estate_id, snapshot, updated_at, size_bytes, kind, created_by)) = head else {
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
        kind: kind.as_deref().and_then(RecordKind::parse),
        created_by: created_by.unwrap_or_default(),
        size_bytes,
        doc,
        updated_at,
    }))
}

/// One write transaction.
pub struct StoreTransaction<'a> {
    tx: Transaction<'a>,
}

impl StoreTransaction<'_> {
    /// The session behind a token, read inside this transaction.
    pub fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>, StoreError> {
        users::session(&self.tx, token_hash, now)
    }

    pub fn load_document(&self, id: &DocumentId) -> Result<Option<StoredDocument>, StoreError> {
        load_document(&self.tx, id)
    }

    /// Whether document `id` is stored at `heads` ([`heads_bytes`]; `None`: not stored at
    /// all). A document stored before its heads were kept is at none.
    pub fn document_is_at(
        &self,
        id: &DocumentId,
        heads: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let stored: Option<Option<Vec<u8>>> = self
            .tx
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row(params![id.as_bytes()], |row| row.get(0))
            .optional()?;
        Ok(match (stored, heads) {
            (None, None) => true,
            (Some(Some(stored)), Some(heads)) => stored == heads,
            _ => false,
        })
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
        // One statement for the document's row, new or not: its count of change rows, its
        // size and its heads as they are with this change.
        let change_rows: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO documents (id, estate_id, snapshot, change_rows, size_bytes,
                                        created_at, updated_at, heads)
                 VALUES (?1, ?2, NULL, 1, ?4, ?3, ?3, ?5)
                 ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at,
                     change_rows = change_rows + 1,
                     size_bytes = size_bytes + excluded.size_bytes,
                     heads = excluded.heads
                 RETURNING change_rows",
            )?
            .query_row(
                params![
                    id.as_bytes(),
                    estate_id,
                    now,
                    new_changes.len() as i64,
                    heads_bytes(&doc.get_heads())
                ],
                |row| row.get(0),
            )?;
        if change_rows >= COMPACT_AFTER_CHANGE_ROWS {
            self.tx
                .prepare_cached("DELETE FROM changes WHERE doc_id = ?1")?
                .execute(params![id.as_bytes()])?;
            let snapshot = doc.save();
            self.tx
                .prepare_cached(
                    "UPDATE documents SET snapshot = ?2, change_rows = 0, size_bytes = ?3
                     WHERE id = ?1",
                )?
                .execute(params![id.as_bytes(), snapshot, snapshot.len() as i64])?;
        } else {
            self.tx
                .prepare_cached("INSERT INTO changes (doc_id, data) VALUES (?1, ?2)")?
                .execute(params![id.as_bytes(), new_changes])?;
        }
        if let Some(summary) = summary {
            upsert_summary(&self.tx, id, summary)?;
        }
        Ok(())
    }

    /// How long (days) phones keep the records of estate `id` after they are done with.
    pub fn retention_days(&self, id: &str) -> Result<Option<u32>, StoreError> {
        estates::retention_days(&self.tx, id)
    }

    /// The settings of the estates `ids` that exist, by ID.
    pub fn estate_settings(&self, ids: &[String]) -> Result<Vec<EstateSettings>, StoreError> {
        estates::estate_settings(&self.tx, ids)
    }

    /// Marks a device as seen at `now`.
    pub fn touch_device(&self, device_id: &str, now: i64) -> Result<(), StoreError> {
        devices::touch_device(&self.tx, device_id, now)
    }

    /// When the record was first stored, if it was.
    pub fn first_received_at(&self, id: &DocumentId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT created_at FROM documents WHERE id = ?1")?
            .query_row(params![id.as_bytes()], |row| row.get(0))
            .optional()?)
    }

    /// Marks where a part of the transaction starts that may be taken back alone
    /// ([`Self::take_back_part`]) or kept ([`Self::keep_part`]).
    pub fn begin_part(&self) -> Result<(), StoreError> {
        self.tx.prepare_cached("SAVEPOINT part")?.execute([])?;
        Ok(())
    }

    /// Keeps what the part since [`Self::begin_part`] wrote, in the transaction.
    pub fn keep_part(&self) -> Result<(), StoreError> {
        self.tx.prepare_cached("RELEASE part")?.execute([])?;
        Ok(())
    }

    /// Takes back what the part since [`Self::begin_part`] wrote; the rest stays.
    pub fn take_back_part(&self) -> Result<(), StoreError> {
        self.tx.prepare_cached("ROLLBACK TO part")?.execute([])?;
        self.tx.prepare_cached("RELEASE part")?.execute([])?;
        Ok(())
    }

    /// Creates an estate inside the transaction (the writer's tests write with it).
    #[cfg(test)]
    pub(crate) fn insert_estate(&self, id: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO estates (id, name) VALUES (?1, ?1)",
            params![id],
        )?;
        Ok(())
    }

    /// Makes everything in the transaction durable.
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
