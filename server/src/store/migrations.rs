//! Schema migrations, applied in order at start-up; `PRAGMA user_version` counts those
//! applied. A migration is SQL, then optionally a step in Rust in the same transaction.

use gatehouse_shared::record::read_record;
use gatehouse_shared::{DocumentId, RecordSummary};
use rusqlite::{params, Transaction};

use super::{load_document, StoreError};

/// A migration step that needs more than SQL (the shared rules, say).
type MigrationStep = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// One schema migration: SQL, then optionally a step in Rust, in the same transaction.
pub(super) struct Migration {
    pub(super) sql: &'static str,
    pub(super) then: Option<MigrationStep>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration { sql, then: None }
}

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
pub(super) const MIGRATIONS: &[Migration] = &[
    sql(r#"
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
"#),
    sql(r#"
CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users(id),
    estate_id TEXT NOT NULL REFERENCES estates(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, estate_id)
);
INSERT INTO memberships (user_id, estate_id, position) SELECT id, estate_id, 0 FROM users;
ALTER TABLE users ADD COLUMN revoked_at INTEGER;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    actor BLOB NOT NULL UNIQUE,
    public_key BLOB NOT NULL,
    label TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX devices_by_user ON devices(user_id);
-- Sessions from before devices were enrolled belong to no device: sign in again.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN device_id TEXT REFERENCES devices(id);
CREATE INDEX sessions_by_user ON sessions(user_id);
ALTER TABLE documents ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
"#),
    sql(r#"
-- Documents stored before sizes were counted: their snapshot and change rows.
UPDATE documents SET size_bytes = COALESCE(length(snapshot), 0)
    + (SELECT COALESCE(SUM(length(data)), 0) FROM changes WHERE changes.doc_id = documents.id);
"#),
    // Summaries gained common columns (unit, status, closed_at) and a per-kind detail when
    // record kinds became modules: every summary is made again from its document.
    Migration {
        sql: r#"
ALTER TABLE records ADD COLUMN unit TEXT NOT NULL DEFAULT '';
CREATE INDEX records_by_unit ON records(estate_id, unit, started_at DESC);
"#,
        then: Some(summarize_again),
    },
    // The office list pages by keyset in the order it is shown (newest round first, then
    // document ID): this index gives that order without sorting the estate's records.
    sql(r#"
CREATE INDEX records_by_estate_newest ON records(estate_id, started_at DESC, doc_id);
"#),
    // Follow sets (protocol version 2): a record may leave devices' sets after a time of its
    // own (a record of some kinds, some days after the period it covers).
    sql(r#"
ALTER TABLE records ADD COLUMN follow_until INTEGER;
"#),
    // Work orders: a record may be addressed to one user's devices among those that follow
    // its kind, and may link to the record it follows from (the office finds what came of a
    // record). Records stored before have neither.
    sql(r#"
ALTER TABLE records ADD COLUMN addressed_to TEXT;
ALTER TABLE records ADD COLUMN links_to BLOB;
CREATE INDEX records_by_link ON records(links_to) WHERE links_to IS NOT NULL;
"#),
    // Retention per estate: a record says when it is done with (`done_at`) and its estate
    // how long phones keep it after (30 days: the default before it could be set). The
    // summaries said "until" and are made again.
    Migration {
        sql: r#"
ALTER TABLE estates ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE records RENAME COLUMN follow_until TO done_at;
"#,
        then: Some(record_done_at),
    },
    // A user's own recent records reach every phone they sign in on (a handover, a replaced
    // phone): records say who created them in a column.
    sql(r#"
ALTER TABLE records ADD COLUMN created_by TEXT;
UPDATE records SET created_by = json_extract(summary, '$.created_by');
CREATE INDEX records_by_creator ON records(created_by, started_at);
"#),
    // Users name their devices, so phones of the same model are told apart.
    sql(r#"
ALTER TABLE devices ADD COLUMN name TEXT;
"#),
    // What an estate sets that the rules of some kinds read (`EstateRules` as JSON; the
    // store does not look into it): the defaults until its admin sets others.
    sql(r#"
ALTER TABLE estates ADD COLUMN rules TEXT NOT NULL DEFAULT '{}';
"#),
    // A document's heads as stored (its change hashes, sorted, end to end): a frame judged
    // before the writer's transaction is stored only if they are still those it was judged
    // against. Unknown for documents stored before (NULL): their next frame is judged in
    // the transaction, which writes them.
    sql(r#"
ALTER TABLE documents ADD COLUMN heads BLOB;
"#),
];

/// Makes every record's summary again from its stored document.
fn summarize_again(tx: &Transaction<'_>) -> Result<(), StoreError> {
    for_each_record(tx, |doc_id, summary| {
        // Only the columns this migration's schema has: later migrations add more, and
        // an old database passes through this one before them.
        tx.execute(
            "UPDATE records SET unit = ?2, summary = ?3 WHERE doc_id = ?1",
            params![doc_id, summary.unit, serde_json::to_string(summary)?],
        )?;
        Ok(())
    })
}

/// Makes every record's summary again, with when it is done with.
fn record_done_at(tx: &Transaction<'_>) -> Result<(), StoreError> {
    for_each_record(tx, |doc_id, summary| {
        tx.execute(
            "UPDATE records SET summary = ?2, done_at = ?3 WHERE doc_id = ?1",
            params![doc_id, serde_json::to_string(summary)?, summary.done_at],
        )?;
        Ok(())
    })
}

/// Calls `write` with every record's summary made again from its stored document.
fn for_each_record(
    tx: &Transaction<'_>,
    mut write: impl FnMut(&[u8], &RecordSummary) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let rows: Vec<(Vec<u8>, i64)> = tx
        .prepare("SELECT doc_id, last_received_at FROM records")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (doc_id, last_received_at) in rows {
        let id = DocumentId::from_bytes(&doc_id)
            .map_err(|_| StoreError::Migration(format!("record with a bad id {doc_id:?}")))?;
        let stored = load_document(tx, &id)?
            .ok_or_else(|| StoreError::Migration(format!("record {id} has no document")))?;
        let record = read_record(&stored.doc)
            .map_err(|error| StoreError::Migration(format!("record {id}: {error}")))?;
        let first_received_at: i64 = tx.query_row(
            "SELECT created_at FROM documents WHERE id = ?1",
            params![doc_id],
            |row| row.get(0),
        )?;
        let summary = RecordSummary::of(id, &record, first_received_at, last_received_at);
        write(&doc_id, &summary)?;
    }
    Ok(())
}
