//! The patrol log (巡逻记录): one patrol round with its checkpoint visits, findings and the
//! office's remarks. One Automerge document holds one patrol log.
//!
//! Lists are keyed by an ID minted on the writing device, so that a guard adding a visit
//! offline and a clerk adding a remark at the same time both survive the merge.
//!
//! Who writes what: the guard who started the round records visits and findings while it is
//! open, and ends it; office staff add remarks. Every entry names its author and is never
//! changed; a mistake is corrected by a new entry that names the one it corrects.

use std::collections::HashSet;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::entry::{corrected_ids, impl_entry, Entry, EntryId};
use super::patrol_route::{
    name_key, valid_checkpoint_id, Checkpoint, PatrolRoute, MAX_ROUND_MINUTES,
};
use super::remark::check_remark;
pub use super::remark::Remark;
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::user::Role;
use crate::DocumentId;

/// Longest checkpoint name, in characters.
pub const MAX_CHECKPOINT_CHARS: usize = 80;
/// Longest free-text note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// Longest short text (what, where, route, names), in characters.
pub const MAX_SHORT_CHARS: usize = 200;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// How a visit was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitMethod {
    /// The checkpoint's QR code was scanned.
    Scanned,
    /// Picked from the route's list (the code damaged or missing): the office sees it was.
    Picked,
    /// Typed: a place not on the round's route.
    Typed,
}

impl VisitMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitMethod::Scanned => "scanned",
            VisitMethod::Picked => "picked",
            VisitMethod::Typed => "typed",
        }
    }
}

/// Whether a round started at `started_at` has taken longer than `max_minutes` allow: it
/// ended later than that, or it is still open at `now`.
pub fn is_overdue(
    started_at: i64,
    ended_at: Option<i64>,
    max_minutes: Option<u32>,
    now: i64,
) -> bool {
    max_minutes
        .is_some_and(|m| ended_at.unwrap_or(now).saturating_sub(started_at) > i64::from(m) * 60_000)
}

/// One patrol round.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct PatrolLog {
    /// Always `PatrolLog`; lets readers check what the document is.
    pub kind: RecordKind,
    /// The estate the record belongs to, forever.
    pub estate_id: String,
    /// User ID of the guard who started the round; never changes.
    pub created_by: String,
    /// The guard's display name at the time, as on the paper form.
    pub guard_name: String,
    /// The route or round name (e.g. "B2 car park night round").
    pub route: String,
    /// Device time the round started, ms since the Unix epoch.
    pub started_at: i64,
    /// Device time the round ended; `None` while the round is in progress.
    pub ended_at: Option<i64>,
    /// The route document the round follows; `None`: a round named by hand.
    #[autosurgeon(missing = "Default::default")]
    pub route_id: Option<String>,
    /// The route's checkpoints, in order, as they stood when the round started.
    #[autosurgeon(missing = "Default::default")]
    pub planned: Vec<Checkpoint>,
    /// How long the round may take (minutes), from its route.
    #[autosurgeon(missing = "Default::default")]
    pub max_minutes: Option<u32>,
    pub visits: Vec<CheckpointVisit>,
    pub findings: Vec<Finding>,
    /// Remarks written by the office afterwards.
    pub remarks: Vec<Remark>,
}

/// Arriving at a checkpoint.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CheckpointVisit {
    /// Minted on the device; keys the list entry for merging.
    #[key]
    pub id: String,
    /// User ID of the writer; `None` in visits of the first version (the round's guard).
    #[autosurgeon(missing = "Default::default")]
    pub author: Option<String>,
    /// The visit this one corrects.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub checkpoint: String,
    /// The route's checkpoint visited (scanned or picked); `None`: a place typed by hand.
    #[autosurgeon(missing = "Default::default")]
    pub checkpoint_id: Option<String>,
    /// How it was recorded; `None` in visits written before routes (typed).
    #[autosurgeon(missing = "Default::default")]
    pub method: Option<VisitMethod>,
    /// Device time of the visit, ms since the Unix epoch.
    pub visited_at: i64,
    pub note: String,
}

/// Something found on the round that somebody needs to know about.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Finding {
    #[key]
    pub id: String,
    /// User ID of the writer; `None` in findings of the first version (the round's guard).
    #[autosurgeon(missing = "Default::default")]
    pub author: Option<String>,
    /// The finding this one corrects.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// What was found (a leak, an open door, a stranger...).
    pub what: String,
    /// Where: building, floor, spot.
    pub location: String,
    pub severity: Severity,
    /// Whether a repair request, warning sign or notice must follow.
    pub needs_follow_up: bool,
    pub found_at: i64,
}

impl_entry!(maybe_authored: CheckpointVisit, Finding);

impl PatrolLog {
    /// Starts a round. Fails with every problem in the input.
    pub fn start(
        estate_id: &str,
        created_by: &str,
        guard_name: &str,
        route: &str,
        started_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let log = Self {
            kind: RecordKind::PatrolLog,
            estate_id: estate_id.trim().to_owned(),
            created_by: created_by.trim().to_owned(),
            guard_name: guard_name.trim().to_owned(),
            route: route.trim().to_owned(),
            started_at,
            ended_at: None,
            route_id: None,
            planned: Vec::new(),
            max_minutes: None,
            visits: Vec::new(),
            findings: Vec::new(),
            remarks: Vec::new(),
        };
        let mut problems = log.validate();
        if log.route.is_empty() {
            problems.push(Problem::new("route", keys::REQUIRED));
        }
        if problems.is_empty() {
            Ok(log)
        } else {
            Err(problems)
        }
    }

    /// Starts a round on `route` (document `route_doc`) as its revision in force stands.
    pub fn start_on_route(
        estate_id: &str,
        created_by: &str,
        guard_name: &str,
        route_doc: DocumentId,
        route: &PatrolRoute,
        started_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let Some(revision) = route.current() else {
            return Err(vec![Problem::new("route_id", keys::UNKNOWN_ENTRY)]);
        };
        let mut log = Self::start(
            estate_id,
            created_by,
            guard_name,
            &revision.name,
            started_at,
        )?;
        log.route_id = Some(route_doc.to_string());
        log.planned = revision.checkpoints.clone();
        log.max_minutes = Some(revision.max_minutes);
        let problems = log.validate();
        if problems.is_empty() {
            Ok(log)
        } else {
            Err(problems)
        }
    }

    /// The route's checkpoints visited, by ID (a visit a later one corrects does not count).
    pub fn visited_ids(&self) -> HashSet<&str> {
        let corrected = corrected_ids(&self.visits);
        self.visits
            .iter()
            .filter(|v| !corrected.contains(v.id.as_str()))
            .filter_map(|v| v.checkpoint_id.as_deref())
            .collect()
    }

    /// The route's checkpoints not visited, in the route's order.
    pub fn not_visited(&self) -> Vec<&Checkpoint> {
        let visited = self.visited_ids();
        self.planned
            .iter()
            .filter(|c| !visited.contains(c.id.as_str()))
            .collect()
    }

    /// The checkpoint a guard goes to next: the first of the route not visited.
    pub fn next_checkpoint(&self) -> Option<&Checkpoint> {
        self.not_visited().into_iter().next()
    }

    /// Whether the round has taken longer than its route allows (see [`is_overdue`]).
    pub fn is_overdue(&self, now: i64) -> bool {
        is_overdue(self.started_at, self.ended_at, self.max_minutes, now)
    }

    pub fn is_ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Number of findings, as corrected, that still need follow-up.
    pub fn follow_ups(&self) -> usize {
        let corrected = corrected_ids(&self.findings);
        self.findings
            .iter()
            .filter(|f| f.needs_follow_up && !corrected.contains(f.id.as_str()))
            .count()
    }
}

impl CheckpointVisit {
    pub fn new(
        id: EntryId,
        author: &str,
        checkpoint: &str,
        visited_at: i64,
        note: &str,
    ) -> Result<Self, Vec<Problem>> {
        let visit = Self {
            id: id.to_string(),
            author: Some(author.to_owned()),
            corrects: None,
            checkpoint: checkpoint.trim().to_owned(),
            checkpoint_id: None,
            method: Some(VisitMethod::Typed),
            visited_at,
            note: note.trim().to_owned(),
        };
        checked(visit, "visit", check_visit)
    }

    /// A visit to the route's checkpoint `checkpoint`, scanned or picked from the list.
    pub fn on_route(
        id: EntryId,
        author: &str,
        checkpoint: &Checkpoint,
        method: VisitMethod,
        visited_at: i64,
        note: &str,
    ) -> Result<Self, Vec<Problem>> {
        let visit = Self {
            id: id.to_string(),
            author: Some(author.to_owned()),
            corrects: None,
            checkpoint: checkpoint.name.clone(),
            checkpoint_id: Some(checkpoint.id.clone()),
            method: Some(method),
            visited_at,
            note: note.trim().to_owned(),
        };
        checked(visit, "visit", check_visit)
    }
}

impl Finding {
    pub fn new(
        id: EntryId,
        author: &str,
        what: &str,
        location: &str,
        severity: Severity,
        needs_follow_up: bool,
        found_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let finding = Self {
            id: id.to_string(),
            author: Some(author.to_owned()),
            corrects: None,
            what: what.trim().to_owned(),
            location: location.trim().to_owned(),
            severity,
            needs_follow_up,
            found_at,
        };
        checked(finding, "finding", check_finding)
    }
}

/// `value` if `check` finds no problem at `path`, else every problem it found.
fn checked<T>(
    value: T,
    path: &str,
    check: fn(&mut Vec<Problem>, &str, &T),
) -> Result<T, Vec<Problem>> {
    let mut problems = Vec::new();
    check(&mut problems, path, &value);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

fn check_author(problems: &mut Vec<Problem>, path: &str, author: Option<&str>) {
    if let Some(author) = author {
        check_text(problems, format!("{path}.author"), author, MAX_SHORT_CHARS);
    }
}

fn check_visit(problems: &mut Vec<Problem>, path: &str, visit: &CheckpointVisit) {
    check_author(problems, path, visit.author.as_deref());
    check_text(
        problems,
        format!("{path}.checkpoint"),
        &visit.checkpoint,
        MAX_CHECKPOINT_CHARS,
    );
    check_optional_text(
        problems,
        format!("{path}.note"),
        &visit.note,
        MAX_NOTE_CHARS,
    );
    let typed = matches!(visit.method, None | Some(VisitMethod::Typed));
    if typed == visit.checkpoint_id.is_some() {
        problems.push(Problem::new(format!("{path}.method"), keys::UNKNOWN_VALUE));
    }
}

/// A visit against the round's route: one scanned or picked names a checkpoint of the route,
/// by its ID and its name; one typed names a place that is not on it (a checkpoint of the
/// route is scanned, or picked when its code is damaged, so the office can tell).
fn check_visit_on_route(
    problems: &mut Vec<Problem>,
    path: &str,
    log: &PatrolLog,
    visit: &CheckpointVisit,
) {
    match &visit.checkpoint_id {
        Some(id) => match log.planned.iter().find(|c| &c.id == id) {
            None => problems.push(Problem::new(
                format!("{path}.checkpoint_id"),
                keys::NOT_ON_ROUTE,
            )),
            Some(planned) if planned.name != visit.checkpoint => {
                problems.push(Problem::new(
                    format!("{path}.checkpoint"),
                    keys::NOT_ON_ROUTE,
                ));
            }
            Some(_) => {}
        },
        None => {
            let key = name_key(&visit.checkpoint);
            if log.planned.iter().any(|c| name_key(&c.name) == key) {
                problems.push(Problem::new(format!("{path}.checkpoint"), keys::ON_ROUTE));
            }
        }
    }
}

fn check_finding(problems: &mut Vec<Problem>, path: &str, finding: &Finding) {
    check_author(problems, path, finding.author.as_deref());
    check_text(
        problems,
        format!("{path}.what"),
        &finding.what,
        MAX_SHORT_CHARS,
    );
    check_text(
        problems,
        format!("{path}.location"),
        &finding.location,
        MAX_SHORT_CHARS,
    );
}

impl Kind for PatrolLog {
    const KIND: RecordKind = RecordKind::PatrolLog;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.guard_name,
            unit: "",
            title: &self.route,
            started_at: self.started_at,
            closed_at: self.ended_at,
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("guard_name", Field::Text(&self.guard_name)),
            ("route", Field::Text(&self.route)),
            ("started_at", Field::Time(Some(self.started_at))),
            ("ended_at", Field::Time(self.ended_at)),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::PatrolLog {
            problems.push(Problem::new("kind", keys::NOT_A_RECORD));
        }
        check_text(&mut problems, "estate_id", &self.estate_id, MAX_SHORT_CHARS);
        check_text(
            &mut problems,
            "created_by",
            &self.created_by,
            MAX_SHORT_CHARS,
        );
        check_text(
            &mut problems,
            "guard_name",
            &self.guard_name,
            MAX_SHORT_CHARS,
        );
        check_optional_text(&mut problems, "route", &self.route, MAX_SHORT_CHARS);
        if self.started_at <= 0 {
            problems.push(Problem::new("started_at", keys::REQUIRED));
        }
        if let Some(ended_at) = self.ended_at {
            if ended_at < self.started_at {
                problems.push(Problem::new("ended_at", keys::ENDS_BEFORE_START));
            }
        }
        match &self.route_id {
            Some(route) if route.parse::<DocumentId>().is_err() => {
                problems.push(Problem::new("route_id", keys::UNKNOWN_VALUE));
            }
            Some(_) if self.planned.is_empty() => {
                problems.push(Problem::new("planned", keys::REQUIRED));
            }
            None if !self.planned.is_empty() => {
                problems.push(Problem::new("route_id", keys::REQUIRED));
            }
            _ => {}
        }
        let mut planned = HashSet::new();
        for (i, checkpoint) in self.planned.iter().enumerate() {
            if !valid_checkpoint_id(&checkpoint.id) || !planned.insert(checkpoint.id.as_str()) {
                problems.push(Problem::new(
                    format!("planned[{i}].id"),
                    keys::UNKNOWN_VALUE,
                ));
            }
            check_text(
                &mut problems,
                format!("planned[{i}].name"),
                &checkpoint.name,
                MAX_CHECKPOINT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("planned[{i}].hint"),
                &checkpoint.hint,
                super::patrol_route::MAX_HINT_CHARS,
            );
        }
        if self
            .max_minutes
            .is_some_and(|m| m == 0 || m > MAX_ROUND_MINUTES)
        {
            problems.push(Problem::new("max_minutes", keys::OUT_OF_RANGE));
        }
        for (i, visit) in self.visits.iter().enumerate() {
            let path = format!("visits[{i}]");
            check_visit(&mut problems, &path, visit);
            check_visit_on_route(&mut problems, &path, self, visit);
            if visit.visited_at < self.started_at {
                problems.push(Problem::new(
                    format!("{path}.visited_at"),
                    keys::BEFORE_ROUND_START,
                ));
            }
        }
        for (i, finding) in self.findings.iter().enumerate() {
            check_finding(&mut problems, &format!("findings[{i}]"), finding);
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "visits",
            self.visits.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "findings",
            self.findings.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        corrections_point_into(&mut problems, "visits", &self.visits);
        corrections_point_into(&mut problems, "findings", &self.findings);
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("started_at".to_owned(), self.started_at)];
        if let Some(ended_at) = self.ended_at {
            times.push(("ended_at".to_owned(), ended_at));
        }
        for (i, visit) in self.visits.iter().enumerate() {
            times.push((format!("visits[{i}].visited_at"), visit.visited_at));
        }
        for (i, finding) in self.findings.iter().enumerate() {
            times.push((format!("findings[{i}].found_at"), finding.found_at));
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            times.push((format!("remarks[{i}].written_at"), remark.written_at));
        }
        times
    }

    /// The guard who started the round adds visits and findings while it is open; office
    /// staff add remarks at any time.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        _doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        // A new round names its route (a round without one has no title anywhere); rounds
        // stored before this rule keep theirs, empty or not.
        if before.is_none() && after.route.trim().is_empty() {
            problems.push(Problem::new("route", keys::REQUIRED));
        }
        // What the round was asked to visit is set when it starts, for good.
        if before.is_some_and(|b| {
            (&b.route_id, &b.planned, b.max_minutes)
                != (&after.route_id, &after.planned, after.max_minutes)
        }) {
            problems.push(Problem::new("planned", keys::ROUTE_CHANGED));
        }
        let open = before.is_none_or(|b| b.ended_at.is_none());
        let guard_may_add = open && writer.user_id == after.created_by;
        let office_may_add = writer.role == Role::Office;
        let creator = after.created_by.as_str();
        check_entries(
            problems,
            "visits",
            before.map_or(&[][..], |b| &b.visits),
            &after.visits,
            writer,
            guard_may_add,
            creator,
        );
        check_entries(
            problems,
            "findings",
            before.map_or(&[][..], |b| &b.findings),
            &after.findings,
            writer,
            guard_may_add,
            creator,
        );
        check_entries(
            problems,
            "remarks",
            before.map_or(&[][..], |b| &b.remarks),
            &after.remarks,
            writer,
            office_may_add,
            creator,
        );
    }

    fn detail(&self) -> SummaryDetail {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let standing = |total: usize, corrected: usize| count(total.saturating_sub(corrected));
        SummaryDetail::PatrolLog {
            visit_count: standing(self.visits.len(), corrected_ids(&self.visits).len()),
            finding_count: standing(self.findings.len(), corrected_ids(&self.findings).len()),
            follow_up_count: count(self.follow_ups()),
            remark_count: standing(self.remarks.len(), corrected_ids(&self.remarks).len()),
            route_id: self.route_id.as_deref().and_then(|r| r.parse().ok()),
            planned_count: count(self.planned.len()),
            missed: self
                .not_visited()
                .into_iter()
                .map(|c| c.name.clone())
                .collect(),
            visited: {
                let mut ids: Vec<String> =
                    self.visited_ids().into_iter().map(str::to_owned).collect();
                ids.sort_unstable();
                ids
            },
            max_minutes: self.max_minutes,
        }
    }

    fn status(&self) -> &'static str {
        if self.is_ended() {
            "ended"
        } else {
            "in_progress"
        }
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::PatrolLog(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::PatrolLog(log) => Some(log),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
