//! Backups: a consistent copy of the database made while the server runs (SQLite's online
//! backup API), and putting one back while no server uses the database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::migrations::MIGRATIONS;
use super::{Store, StoreError};

/// Waited before trying again when the source is busy.
const PAUSE_WHEN_BUSY: Duration = Duration::from_millis(5);

/// Copies every page in one step: a copy in several steps starts over whenever another
/// connection commits meanwhile, and might never end on a busy server. In WAL mode the one
/// step reads a snapshot without holding writers up.
fn copy_all(source: &Connection, destination: &mut Connection) -> Result<(), StoreError> {
    let backup = Backup::new(source, destination)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            _ => std::thread::sleep(PAUSE_WHEN_BUSY),
        }
    }
}

impl Store {
    /// Copies the whole database into a new file at `target` (refused if one is there): a
    /// consistent snapshot even while the server writes.
    pub fn backup_to(&self, target: &Path) -> Result<(), StoreError> {
        copy(&self.conn, target)
    }
}

fn copy(source: &Connection, target: &Path) -> Result<(), StoreError> {
    if target.exists() {
        return Err(StoreError::Backup(format!(
            "{} already exists; a backup never overwrites a file",
            target.display()
        )));
    }
    let mut destination = Connection::open(target)?;
    copy_all(source, &mut destination)
}

/// Puts the backup at `source` in place of the database at `live`, which no server may be
/// using (the caller holds the data directory's lock). The backup is checked first (SQLite's
/// integrity check, a Gatehouse schema no newer than this version's); the database it
/// replaces is kept beside it, at the path returned. Nothing is changed if the check fails.
pub fn restore(source: &Path, live: &Path, now_ms: i64) -> Result<PathBuf, StoreError> {
    let backup = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = backup
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|error| StoreError::Backup(format!("not a database: {error}")))?;
    if integrity != "ok" {
        return Err(StoreError::Backup(format!(
            "the backup fails SQLite's integrity check: {integrity}"
        )));
    }
    let version: usize = backup.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == 0 || version > MIGRATIONS.len() {
        return Err(StoreError::Backup(format!(
            "not a Gatehouse database this version can read (schema {version}, this version {})",
            MIGRATIONS.len()
        )));
    }
    let kept = PathBuf::from(format!("{}.before-restore-{now_ms}", live.display()));
    if live.exists() {
        let current = Connection::open(live)?;
        copy(&current, &kept)?;
    }
    let mut destination = Connection::open(live)?;
    copy_all(&backup, &mut destination)?;
    drop(destination);
    // Brings an older backup's schema up to date.
    Store::open(live)?;
    Ok(kept)
}
