//! What the office lists: one row per record, materialized by the server when a change is
//! stored, so listing never loads Automerge documents. Common columns for every kind, and a
//! per-kind detail.

use serde::{Deserialize, Serialize};

use super::{AnyRecord, RecordKind};
use crate::DocumentId;

/// The listed fields of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub doc: DocumentId,
    pub kind: RecordKind,
    pub estate_id: String,
    /// The unit (房号) the record concerns; empty where it concerns none.
    pub unit: String,
    /// A short title: the route of a patrol log.
    pub title: String,
    pub created_by: String,
    /// The creator's name as written on the record.
    pub author_name: String,
    /// Device time the record was started.
    pub started_at: i64,
    /// Device time it was closed (a patrol round ended).
    pub closed_at: Option<i64>,
    /// Where it stands, derived from its content: a key per kind (`in_progress`, `ended`).
    pub status: String,
    /// Server time of the first and the latest stored change, ms since the Unix epoch.
    pub first_received_at: i64,
    pub last_received_at: i64,
    /// What is listed of this kind beyond the common columns.
    pub detail: SummaryDetail,
    /// When (ms since the Unix epoch) the record is done with on the devices that follow its
    /// kind: they keep it for the estate's retention period after; absent: never done with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<i64>,
    /// The one user whose devices the follow set sends the record to (a work order's
    /// technician); absent: every user whose role follows the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_to: Option<String>,
    /// The record this one follows from (a work order's patrol log, a repair's work order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_to: Option<DocumentId>,
}

/// The per-kind part of a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryDetail {
    /// Counts of entries as corrected (an entry a later one corrects is not counted).
    PatrolLog {
        visit_count: u32,
        finding_count: u32,
        follow_up_count: u32,
        remark_count: u32,
        /// The route (a patrol route document) the round follows; absent: named by hand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route_id: Option<DocumentId>,
        /// How many checkpoints its route had when it started.
        #[serde(default)]
        planned_count: u32,
        /// The route's checkpoints not visited (yet, while the round is open), by name, as the
        /// round's own plan has them.
        #[serde(default)]
        missed: Vec<String>,
        /// The IDs of the route's checkpoints visited (as corrected); the office's report
        /// checks them against the route itself.
        #[serde(default)]
        visited: Vec<String>,
        /// How long the round may take (minutes), from its route.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_minutes: Option<u32>,
    },
    /// What is repaired, the fee in force (fen), and where the signatures stand.
    Repair {
        component: super::repair::Component,
        fee_fen: Option<i64>,
        /// The owner's consent covers the estimate in force.
        consent_current: bool,
        accepted: bool,
        outcome: Option<super::repair::Outcome>,
    },
    /// A patrol route as it stands.
    PatrolRoute {
        checkpoint_count: u32,
        /// Times of day (`HH:MM`) its rounds are due.
        due_times: Vec<String>,
        max_minutes: u32,
    },
    /// How many units the document holds (their latest entries).
    Registry { unit_count: u32 },
    /// How many items the slip lists and how many checks were made at the gate, and the
    /// last day goods may leave on it.
    ReleaseSlip {
        item_count: u32,
        check_count: u32,
        valid_until: String,
        /// Every check at the gate, as the goods release register lists it.
        #[serde(default)]
        register: Vec<super::release_slip::RegisterLine>,
    },
    /// A found item: what, where, whether a valuable, and whether the desk's count differed
    /// from the finder's.
    FoundItem {
        category: super::found_item::Category,
        valuable: bool,
        /// Building and floor where it was found.
        place: String,
        found_at: i64,
        count_mismatch: bool,
        /// Who holds it now, as written (the finder, the clerk, the claimant).
        holder_name: String,
    },
    /// To whom a work order is assigned, the finding it follows up, and who took it for
    /// which repair record.
    RepairRequest {
        /// Empty: the estate's pool.
        assignee_name: String,
        /// The finding's entry ID in the patrol log the request links to.
        finding: Option<String>,
        taken_by: Option<String>,
        repair: Option<DocumentId>,
    },
}

impl RecordSummary {
    /// The summary of a record as stored, first received at `first_received_at` and last
    /// at `last_received_at` (server times).
    pub fn of(
        doc: DocumentId,
        record: &AnyRecord,
        first_received_at: i64,
        last_received_at: i64,
    ) -> Self {
        let header = record.header();
        Self {
            doc,
            kind: header.kind,
            estate_id: header.estate_id.to_owned(),
            unit: header.unit.to_owned(),
            title: header.title.to_owned(),
            created_by: header.created_by.to_owned(),
            author_name: header.author_name.to_owned(),
            started_at: header.started_at,
            closed_at: header.closed_at,
            status: record.status().to_owned(),
            first_received_at,
            last_received_at,
            detail: record.detail(),
            done_at: record.done_at(),
            addressed_to: record.addressed_to().map(str::to_owned),
            links_to: record.links_to(),
        }
    }
}
