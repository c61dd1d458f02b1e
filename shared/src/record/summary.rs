//! What the office lists: one row per record, materialized by the server when a change is
//! stored, so listing never loads Automerge documents.

use serde::{Deserialize, Serialize};

use crate::patrol_log::{PatrolLog, RecordKind};
use crate::DocumentId;

/// The listed fields of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub doc: DocumentId,
    pub kind: RecordKind,
    pub estate_id: String,
    pub created_by: String,
    /// Who wrote it (the guard's name for a patrol log).
    pub author_name: String,
    /// A short title: the route for a patrol log.
    pub title: String,
    /// Device time the record was started.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub visit_count: u32,
    pub finding_count: u32,
    pub follow_up_count: u32,
    pub remark_count: u32,
    /// Server time of the first and the latest stored change, ms since the Unix epoch.
    pub first_received_at: i64,
    pub last_received_at: i64,
}

impl RecordSummary {
    /// The summary of a patrol log as stored at `received_at`.
    pub fn of_patrol_log(
        doc: DocumentId,
        log: &PatrolLog,
        first_received_at: i64,
        last_received_at: i64,
    ) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            doc,
            kind: RecordKind::PatrolLog,
            estate_id: log.estate_id.clone(),
            created_by: log.created_by.clone(),
            author_name: log.guard_name.clone(),
            title: log.route.clone(),
            started_at: log.started_at,
            ended_at: log.ended_at,
            visit_count: count(log.visits.len()),
            finding_count: count(log.findings.len()),
            follow_up_count: count(log.follow_ups()),
            remark_count: count(log.remarks.len()),
            first_received_at,
            last_received_at,
        }
    }
}
