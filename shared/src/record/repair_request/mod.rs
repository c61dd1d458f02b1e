//! The repair request (维修工单): a work order the office writes from a patrol finding that
//! needs follow-up or from an owner's call, assigned to a technician or to the estate's pool.
//! It reaches the technician's phone (the follow set), and the technician who takes it starts
//! the repair record that does the work; the request then names that record, and the record
//! names the request.
//!
//! Who writes what: office staff start it with its first assignment, assign it again or
//! cancel it while nobody has taken it, and add remarks; a technician it is assigned to (or
//! any technician of the estate while it is in the pool) takes it, once. The status is
//! derived from the entries, never stored.

use std::collections::HashSet;

use autosurgeon::{Hydrate, Reconcile};

use super::entry::{impl_entry, Entry};
use super::remark::{check_remark, Remark};
use super::repair::Component;
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::user::Role;
use crate::DocumentId;

/// Longest short text (unit, names, contact), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Longest free text (the fault, a reason), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// In the estate's pool: any of its technicians may take it.
    Pooled,
    /// Assigned to one technician, not taken yet.
    Assigned,
    /// A technician took it and started the repair record.
    Taken,
    /// The office cancelled it before anyone took it.
    Cancelled,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pooled => "pooled",
            RequestStatus::Assigned => "assigned",
            RequestStatus::Taken => "taken",
            RequestStatus::Cancelled => "cancelled",
        }
    }
}

/// One work order.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RepairRequest {
    /// Always `RepairRequest`.
    pub kind: RecordKind,
    pub estate_id: String,
    /// User ID of the clerk who wrote it.
    pub created_by: String,
    /// The clerk's name at the time.
    pub clerk_name: String,
    /// The unit, or where in the estate (B2 car park, lift lobby of building 3).
    pub unit: String,
    /// The fault as reported or found.
    pub fault: String,
    pub component: Component,
    /// Who reported it (the caller, the guard who found it) and how to reach them.
    pub reported_by: String,
    pub contact: String,
    /// The patrol log whose finding this request follows up, and that finding's entry ID;
    /// both absent for a request from a call.
    pub finding_doc: Option<String>,
    pub finding: Option<String>,
    /// Device time it was written.
    pub created_at: i64,
    pub assignments: Vec<Assignment>,
    pub takings: Vec<Taking>,
    pub cancellations: Vec<Cancellation>,
    pub remarks: Vec<Remark>,
}

/// To whom the office assigns the request. The latest assignment is in force.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Assignment {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// The technician's user ID; empty: the estate's pool.
    pub assignee: String,
    /// The technician's name at the time; empty for the pool.
    pub assignee_name: String,
    pub assigned_at: i64,
}

/// A technician takes the request and starts a repair record for it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Taking {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub technician_name: String,
    /// The repair record's document ID.
    pub repair: String,
    pub taken_at: i64,
}

/// The office withdraws the request before anyone took it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Cancellation {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub reason: String,
    pub cancelled_at: i64,
}

impl_entry!(authored: Assignment, Taking, Cancellation);

/// What the office lists of a request beyond the common columns.
pub fn detail_of(request: &RepairRequest) -> SummaryDetail {
    let taking = request.taking();
    SummaryDetail::RepairRequest {
        assignee_name: request
            .assignment()
            .map(|a| a.assignee_name.clone())
            .unwrap_or_default(),
        finding: request.finding.clone(),
        taken_by: taking.map(|t| t.technician_name.clone()),
        repair: taking.and_then(|t| t.repair.parse().ok()),
    }
}

impl RepairRequest {
    /// Writes a request with its first assignment (`assignee` empty: the pool). Fails with
    /// every problem in the input.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        estate_id: &str,
        created_by: &str,
        clerk_name: &str,
        unit: &str,
        fault: &str,
        component: Component,
        reported_by: &str,
        contact: &str,
        finding: Option<(DocumentId, &str)>,
        assignment: Assignment,
        created_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let request = Self {
            kind: RecordKind::RepairRequest,
            estate_id: estate_id.trim().to_owned(),
            created_by: created_by.trim().to_owned(),
            clerk_name: clerk_name.trim().to_owned(),
            unit: unit.trim().to_owned(),
            fault: fault.trim().to_owned(),
            component,
            reported_by: reported_by.trim().to_owned(),
            contact: contact.trim().to_owned(),
            finding_doc: finding.map(|(doc, _)| doc.to_string()),
            finding: finding.map(|(_, entry)| entry.to_owned()),
            created_at,
            assignments: vec![assignment],
            takings: Vec::new(),
            cancellations: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = Kind::validate(&request);
        if problems.is_empty() {
            Ok(request)
        } else {
            Err(problems)
        }
    }

    /// The assignment in force: the latest (ties broken by ID).
    pub fn assignment(&self) -> Option<&Assignment> {
        self.assignments
            .iter()
            .max_by(|a, b| a.assigned_at.cmp(&b.assigned_at).then(a.id.cmp(&b.id)))
    }

    /// Whether the request sits in the estate's pool.
    pub fn is_pooled(&self) -> bool {
        self.assignment().is_none_or(|a| a.assignee.is_empty())
    }

    /// The taking (the rules allow one).
    pub fn taking(&self) -> Option<&Taking> {
        self.takings
            .iter()
            .min_by(|a, b| a.taken_at.cmp(&b.taken_at).then(a.id.cmp(&b.id)))
    }

    pub fn cancellation(&self) -> Option<&Cancellation> {
        self.cancellations
            .iter()
            .min_by(|a, b| a.cancelled_at.cmp(&b.cancelled_at).then(a.id.cmp(&b.id)))
    }

    pub fn status(&self) -> RequestStatus {
        if self.cancellation().is_some() {
            RequestStatus::Cancelled
        } else if self.taking().is_some() {
            RequestStatus::Taken
        } else if self.is_pooled() {
            RequestStatus::Pooled
        } else {
            RequestStatus::Assigned
        }
    }

    /// When it was taken or cancelled: the request is closed then, and its own fields, its
    /// assignment and its cancellation are settled.
    pub fn closed_at(&self) -> Option<i64> {
        self.cancellation()
            .map(|c| c.cancelled_at)
            .or_else(|| self.taking().map(|t| t.taken_at))
    }

    /// Whether `user_id` (a technician) may take it: it is open, and it is in the pool or
    /// assigned to them.
    pub fn takeable_by(&self, user_id: &str) -> bool {
        self.closed_at().is_none() && self.is_for(user_id)
    }

    /// Whether the request is in the pool or the assignment in force names `user_id`. A
    /// technician the office moved it away from may not take it, even if their phone had
    /// not heard of the move yet: the refusal says so (`not_assigned`), and the office
    /// settles it.
    pub fn is_for(&self, user_id: &str) -> bool {
        self.assignment()
            .is_none_or(|a| a.assignee.is_empty() || a.assignee == user_id)
    }

    /// Whose phone it is sent to: the technician who took it, else the one it is assigned
    /// to; `None` while in the pool (every technician of the estate).
    pub fn addressed_to(&self) -> Option<&str> {
        match self.taking() {
            Some(taking) => Some(&taking.author),
            None => self
                .assignment()
                .map(|a| a.assignee.as_str())
                .filter(|a| !a.is_empty()),
        }
    }

    /// A request is done with once taken or cancelled; technicians' phones keep it the
    /// estate's retention period after that.
    pub fn done_at(&self) -> Option<i64> {
        self.closed_at()
    }
}

impl Assignment {
    /// An assignment to `assignee` (empty: the pool).
    pub fn new(
        id: crate::record::EntryId,
        author: &str,
        assignee: &str,
        assignee_name: &str,
        assigned_at: i64,
    ) -> Self {
        Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            assignee: assignee.trim().to_owned(),
            assignee_name: assignee_name.trim().to_owned(),
            assigned_at,
        }
    }
}

mod kind;

#[cfg(test)]
mod tests;
