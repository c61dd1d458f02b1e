//! The patrol log (巡逻记录): one patrol round with its checkpoint visits, findings and the
//! office's remarks. One Automerge document holds one patrol log.
//!
//! Lists are keyed by an ID minted on the writing device, so that a guard adding a visit
//! offline and a clerk adding a remark at the same time both survive the merge.

use automerge::{transaction::CommitOptions, ActorId, Automerge};
use autosurgeon::{hydrate, reconcile, Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::{check_optional_text, check_text, keys, Problem};

/// Longest checkpoint name, in characters.
pub const MAX_CHECKPOINT_CHARS: usize = 80;
/// Longest free-text note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// Longest short text (what, where, route, names), in characters.
pub const MAX_SHORT_CHARS: usize = 200;

/// Which kind of record a document holds. Stored in every record document so the server
/// and the office can tell record types apart without guessing from fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    PatrolLog,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::PatrolLog => "patrol_log",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "patrol_log" => Some(RecordKind::PatrolLog),
            _ => None,
        }
    }
}

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
    pub checkpoint: String,
    /// Device time of the visit, ms since the Unix epoch.
    pub visited_at: i64,
    pub note: String,
}

/// Something found on the round that somebody needs to know about.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Finding {
    #[key]
    pub id: String,
    /// What was found (a leak, an open door, a stranger...).
    pub what: String,
    /// Where: building, floor, spot.
    pub location: String,
    pub severity: Severity,
    /// Whether a repair request, warning sign or notice must follow.
    pub needs_follow_up: bool,
    pub found_at: i64,
}

/// An office remark on the log.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Remark {
    #[key]
    pub id: String,
    pub text: String,
    /// User ID of the writer.
    pub author: String,
    /// Display name of the writer at the time.
    pub author_name: String,
    pub written_at: i64,
}

/// A record document that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("document does not hold a patrol log: {0}")]
    Hydrate(#[from] autosurgeon::HydrateError),
    #[error("could not write patrol log: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error("invalid patrol log")]
    Invalid(Vec<Problem>),
}

fn new_entry_id() -> String {
    Uuid::new_v4().simple().to_string()
}

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
            visits: Vec::new(),
            findings: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = validate_patrol_log(&log);
        if problems.is_empty() {
            Ok(log)
        } else {
            Err(problems)
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Number of findings that still need follow-up.
    pub fn follow_ups(&self) -> usize {
        self.findings.iter().filter(|f| f.needs_follow_up).count()
    }
}

impl CheckpointVisit {
    pub fn new(checkpoint: &str, visited_at: i64, note: &str) -> Result<Self, Vec<Problem>> {
        let visit = Self {
            id: new_entry_id(),
            checkpoint: checkpoint.trim().to_owned(),
            visited_at,
            note: note.trim().to_owned(),
        };
        checked(visit, "visit", check_visit)
    }
}

impl Finding {
    pub fn new(
        what: &str,
        location: &str,
        severity: Severity,
        needs_follow_up: bool,
        found_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let finding = Self {
            id: new_entry_id(),
            what: what.trim().to_owned(),
            location: location.trim().to_owned(),
            severity,
            needs_follow_up,
            found_at,
        };
        checked(finding, "finding", check_finding)
    }
}

impl Remark {
    pub fn new(
        text: &str,
        author: &str,
        author_name: &str,
        written_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let remark = Self {
            id: new_entry_id(),
            text: text.trim().to_owned(),
            author: author.to_owned(),
            author_name: author_name.to_owned(),
            written_at,
        };
        checked(remark, "remark", check_remark)
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

fn check_visit(problems: &mut Vec<Problem>, path: &str, visit: &CheckpointVisit) {
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
}

fn check_finding(problems: &mut Vec<Problem>, path: &str, finding: &Finding) {
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

fn check_remark(problems: &mut Vec<Problem>, path: &str, remark: &Remark) {
    check_text(
        problems,
        format!("{path}.text"),
        &remark.text,
        MAX_NOTE_CHARS,
    );
    check_text(
        problems,
        format!("{path}.author"),
        &remark.author,
        MAX_SHORT_CHARS,
    );
}

/// Every rule a stored patrol log must satisfy. Returns every problem found; empty means valid.
pub fn validate_patrol_log(log: &PatrolLog) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_text(&mut problems, "estate_id", &log.estate_id, MAX_SHORT_CHARS);
    check_text(
        &mut problems,
        "created_by",
        &log.created_by,
        MAX_SHORT_CHARS,
    );
    check_text(
        &mut problems,
        "guard_name",
        &log.guard_name,
        MAX_SHORT_CHARS,
    );
    check_optional_text(&mut problems, "route", &log.route, MAX_SHORT_CHARS);
    if log.started_at <= 0 {
        problems.push(Problem::new("started_at", keys::REQUIRED));
    }
    if let Some(ended_at) = log.ended_at {
        if ended_at < log.started_at {
            problems.push(Problem::new("ended_at", keys::ENDS_BEFORE_START));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, visit) in log.visits.iter().enumerate() {
        let path = format!("visits[{i}]");
        check_visit(&mut problems, &path, visit);
        if visit.visited_at < log.started_at {
            problems.push(Problem::new(
                format!("{path}.visited_at"),
                keys::BEFORE_ROUND_START,
            ));
        }
        if !seen.insert(visit.id.as_str()) {
            problems.push(Problem::new(format!("{path}.id"), keys::DUPLICATE_ID));
        }
    }
    for (i, finding) in log.findings.iter().enumerate() {
        let path = format!("findings[{i}]");
        check_finding(&mut problems, &path, finding);
        if !seen.insert(finding.id.as_str()) {
            problems.push(Problem::new(format!("{path}.id"), keys::DUPLICATE_ID));
        }
    }
    for (i, remark) in log.remarks.iter().enumerate() {
        let path = format!("remarks[{i}]");
        check_remark(&mut problems, &path, remark);
        if !seen.insert(remark.id.as_str()) {
            problems.push(Problem::new(format!("{path}.id"), keys::DUPLICATE_ID));
        }
    }
    problems
}

/// How far ahead of the checker's clock a recorded time may be (phone clocks drift).
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;

/// The rules for a change from `before` (None for a new record) to `after`, written by user
/// `writer_id` who belongs to `writer_estates`, checked at `now_ms` by the checker's clock:
/// the record passes `validate_patrol_log`, no recorded time is in the future, it stays in
/// its estate (one of the writer's, for a new record), keeps its creator (the writer, for a
/// new record), and loses no entry.
pub fn validate_change(
    before: Option<&PatrolLog>,
    after: &PatrolLog,
    writer_id: &str,
    writer_estates: &[String],
    now_ms: i64,
) -> Vec<Problem> {
    let mut problems = validate_patrol_log(after);
    times_not_in_future(&mut problems, after, now_ms);
    match before {
        None => {
            if !writer_estates.contains(&after.estate_id) {
                problems.push(Problem::new("estate_id", keys::OTHER_ESTATE));
            }
            if after.created_by != writer_id {
                problems.push(Problem::new("created_by", keys::CREATOR_NOT_WRITER));
            }
        }
        Some(before) => {
            if after.estate_id != before.estate_id {
                problems.push(Problem::new("estate_id", keys::ESTATE_CHANGED));
            }
            if after.created_by != before.created_by {
                problems.push(Problem::new("created_by", keys::CREATOR_CHANGED));
            }
            deleted_entries(
                &mut problems,
                "visits",
                before.visits.iter().map(|v| &v.id),
                after.visits.iter().map(|v| &v.id),
            );
            deleted_entries(
                &mut problems,
                "findings",
                before.findings.iter().map(|f| &f.id),
                after.findings.iter().map(|f| &f.id),
            );
            deleted_entries(
                &mut problems,
                "remarks",
                before.remarks.iter().map(|r| &r.id),
                after.remarks.iter().map(|r| &r.id),
            );
        }
    }
    problems
}

/// A time later than the checker's clock allows means the writing device's clock is wrong;
/// a record with such a time would not stand up in a dispute.
fn times_not_in_future(problems: &mut Vec<Problem>, log: &PatrolLog, now_ms: i64) {
    let limit = now_ms.saturating_add(MAX_CLOCK_AHEAD_MS);
    let mut check = |path: String, time: i64| {
        if time > limit {
            problems.push(Problem::new(path, keys::IN_FUTURE));
        }
    };
    check("started_at".into(), log.started_at);
    if let Some(ended_at) = log.ended_at {
        check("ended_at".into(), ended_at);
    }
    for (i, visit) in log.visits.iter().enumerate() {
        check(format!("visits[{i}].visited_at"), visit.visited_at);
    }
    for (i, finding) in log.findings.iter().enumerate() {
        check(format!("findings[{i}].found_at"), finding.found_at);
    }
    for (i, remark) in log.remarks.iter().enumerate() {
        check(format!("remarks[{i}].written_at"), remark.written_at);
    }
}

fn deleted_entries<'a>(
    problems: &mut Vec<Problem>,
    list: &str,
    before: impl Iterator<Item = &'a String>,
    after: impl Iterator<Item = &'a String>,
) {
    let kept: std::collections::HashSet<&String> = after.collect();
    for (index, id) in before.enumerate() {
        if !kept.contains(id) {
            problems.push(Problem::new(
                format!("{list}[{index}]"),
                keys::ENTRY_DELETED,
            ));
        }
    }
}

/// Creates the document for a new patrol log, written by `actor` at device time `now_ms`.
pub fn create_document(
    actor: ActorId,
    log: &PatrolLog,
    now_ms: i64,
) -> Result<Automerge, RecordError> {
    let mut doc = Automerge::new().with_actor(actor);
    write_document(&mut doc, log, now_ms)?;
    Ok(doc)
}

/// Reads the patrol log in a document.
pub fn read_document(doc: &Automerge) -> Result<PatrolLog, RecordError> {
    Ok(hydrate(doc)?)
}

/// Writes `log` into the document as one change stamped with device time `now_ms`.
/// Only the fields that differ from the document become operations. Refuses a log that
/// breaks the rules, so an invalid record is never saved on the device.
pub fn write_document(
    doc: &mut Automerge,
    log: &PatrolLog,
    now_ms: i64,
) -> Result<(), RecordError> {
    let problems = validate_patrol_log(log);
    if !problems.is_empty() {
        return Err(RecordError::Invalid(problems));
    }
    doc.transact_with(
        |_| CommitOptions::default().with_time(now_ms),
        |tx| reconcile(tx, log),
    )
    .map_err(|failure| RecordError::Reconcile(failure.error))?;
    Ok(())
}

/// Reads the log, lets `edit` change it, and writes the result back as one change.
pub fn edit_document(
    doc: &mut Automerge,
    now_ms: i64,
    edit: impl FnOnce(&mut PatrolLog),
) -> Result<PatrolLog, RecordError> {
    let before = read_document(doc)?;
    let mut log = before.clone();
    edit(&mut log);
    // The same change rules the server applies, so the phone never saves what it would refuse.
    let problems = validate_change(
        Some(&before),
        &log,
        &before.created_by,
        std::slice::from_ref(&before.estate_id),
        now_ms,
    );
    if !problems.is_empty() {
        return Err(RecordError::Invalid(problems));
    }
    write_document(doc, &log, now_ms)?;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    fn round() -> PatrolLog {
        PatrolLog::start("estate-1", "user-guard", "王保安", "B2 car park", T0)
            .expect("valid round")
    }

    #[test]
    fn round_without_estate_or_guard_is_refused_with_each_field() {
        let problems = PatrolLog::start(" ", "", "王保安", "", T0).expect_err("must be refused");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["estate_id", "created_by"]);
        assert!(problems.iter().all(|p| p.key == keys::REQUIRED));
    }

    #[test]
    fn visit_without_checkpoint_is_refused() {
        let problems = CheckpointVisit::new("  ", T0, "ok").expect_err("must be refused");
        assert_eq!(problems, [Problem::new("visit.checkpoint", keys::REQUIRED)]);
    }

    #[test]
    fn overlong_note_is_refused() {
        let note = "水".repeat(MAX_NOTE_CHARS + 1);
        let problems = CheckpointVisit::new("Gate 1", T0, &note).expect_err("must be refused");
        assert_eq!(problems, [Problem::new("visit.note", keys::TOO_LONG)]);
    }

    #[test]
    fn finding_needs_what_and_where() {
        let problems = Finding::new("", "", Severity::High, true, T0).expect_err("must be refused");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["finding.what", "finding.location"]);
    }

    #[test]
    fn round_ending_before_it_started_is_invalid() {
        let mut log = round();
        log.ended_at = Some(T0 - 1);
        assert_eq!(
            validate_patrol_log(&log),
            [Problem::new("ended_at", keys::ENDS_BEFORE_START)]
        );
    }

    #[test]
    fn visit_before_round_start_names_its_index() {
        let mut log = round();
        log.visits
            .push(CheckpointVisit::new("Gate 1", T0, "").expect("valid"));
        log.visits
            .push(CheckpointVisit::new("Gate 2", T0 - 60_000, "").expect("valid"));
        assert_eq!(
            validate_patrol_log(&log),
            [Problem::new(
                "visits[1].visited_at",
                keys::BEFORE_ROUND_START
            )]
        );
    }

    #[test]
    fn invalid_log_is_never_written_to_the_document() {
        let mut doc = create_document(ActorId::random(), &round(), T0).expect("created");
        let heads = doc.get_heads();
        let mut bad = round();
        bad.guard_name.clear();
        assert!(matches!(
            write_document(&mut doc, &bad, T0),
            Err(RecordError::Invalid(_))
        ));
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn change_moving_estate_altering_creator_or_deleting_an_entry_is_refused() {
        let mut before = round();
        before
            .visits
            .push(CheckpointVisit::new("Gate 1", T0, "").expect("valid"));
        let mut after = before.clone();
        after.estate_id = "elsewhere".into();
        after.created_by = "someone-else".into();
        after.visits.clear();
        let keys: Vec<_> = validate_change(
            Some(&before),
            &after,
            "user-guard",
            &estates("estate-1"),
            T0,
        )
        .into_iter()
        .map(|p| (p.path, p.key))
        .collect();
        assert_eq!(
            keys,
            [
                ("estate_id".to_owned(), keys::ESTATE_CHANGED.to_owned()),
                ("created_by".to_owned(), keys::CREATOR_CHANGED.to_owned()),
                ("visits[0]".to_owned(), keys::ENTRY_DELETED.to_owned()),
            ]
        );
    }

    #[test]
    fn new_record_must_be_the_writers_and_in_their_estate() {
        let log = round();
        assert!(validate_change(None, &log, "user-guard", &estates("estate-1"), T0).is_empty());
        let two = vec!["estate-2".to_owned(), "estate-1".to_owned()];
        assert!(validate_change(None, &log, "user-guard", &two, T0).is_empty());
        let problems = validate_change(None, &log, "user-other", &estates("estate-2"), T0);
        assert_eq!(problems.len(), 2);
    }

    fn estates(id: &str) -> Vec<String> {
        vec![id.to_owned()]
    }

    #[test]
    fn times_ahead_of_the_checkers_clock_are_refused() {
        let mut log = round();
        log.visits.push(
            CheckpointVisit::new("Gate 1", T0 + MAX_CLOCK_AHEAD_MS + 60_000, "").expect("valid"),
        );
        // The writer's own clock agrees with the visit; the server's is behind it.
        assert!(validate_change(
            None,
            &log,
            "user-guard",
            &estates("estate-1"),
            T0 + 60_000 + MAX_CLOCK_AHEAD_MS
        )
        .is_empty());
        let problems = validate_change(None, &log, "user-guard", &estates("estate-1"), T0);
        assert_eq!(
            problems,
            [Problem::new("visits[0].visited_at", keys::IN_FUTURE)]
        );
    }

    #[test]
    fn edit_deleting_a_saved_entry_is_refused_on_the_device() {
        let mut log = round();
        log.visits
            .push(CheckpointVisit::new("Gate 1", T0, "").expect("valid"));
        let mut doc = create_document(ActorId::random(), &log, T0).expect("created");
        let heads = doc.get_heads();
        let refused = edit_document(&mut doc, T0 + 1, |log| log.visits.clear());
        assert!(matches!(refused, Err(RecordError::Invalid(p)) if p[0].key == keys::ENTRY_DELETED));
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn document_round_trips_the_log() {
        let mut log = round();
        log.visits
            .push(CheckpointVisit::new("Gate 1", T0 + 1, "all quiet").expect("valid"));
        log.findings.push(
            Finding::new("water leak", "B2 pump room", Severity::Medium, true, T0 + 2)
                .expect("valid"),
        );
        let doc = create_document(ActorId::random(), &log, T0).expect("created");
        let saved = doc.save();
        let loaded = Automerge::load(&saved).expect("loads");
        assert_eq!(read_document(&loaded).expect("reads"), log);
    }

    #[test]
    fn concurrent_visit_and_remark_both_survive() {
        let mut guard = create_document(ActorId::random(), &round(), T0).expect("created");
        let mut office = guard.fork().with_actor(ActorId::random());
        edit_document(&mut guard, T0 + 10, |log| {
            log.visits
                .push(CheckpointVisit::new("Gate 2", T0 + 10, "").expect("valid"))
        })
        .expect("guard edit");
        edit_document(&mut office, T0 + 20, |log| {
            log.remarks
                .push(Remark::new("checked", "user-clerk", "李客服", T0 + 20).expect("valid"))
        })
        .expect("office edit");
        guard.merge(&mut office).expect("merge");
        let merged = read_document(&guard).expect("reads");
        assert_eq!(merged.visits.len(), 1);
        assert_eq!(merged.remarks.len(), 1);
    }
}
