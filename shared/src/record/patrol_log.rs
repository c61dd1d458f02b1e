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
    /// User ID of the writer; `None` in visits of the first version (the round's guard).
    #[autosurgeon(missing = "Default::default")]
    pub author: Option<String>,
    /// The visit this one corrects.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
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
            visits: Vec::new(),
            findings: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = log.validate();
        if problems.is_empty() {
            Ok(log)
        } else {
            Err(problems)
        }
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
        for (i, visit) in self.visits.iter().enumerate() {
            let path = format!("visits[{i}]");
            check_visit(&mut problems, &path, visit);
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
mod tests {
    use automerge::{ActorId, Automerge};

    use super::*;
    use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, OTHER_GUARD, T0};
    use crate::record::{
        create_document, edit_document, judge, read_kind, write_document, RecordError,
        MAX_CLOCK_AHEAD_MS,
    };

    fn round() -> PatrolLog {
        PatrolLog::start("estate-1", GUARD.user_id, "王保安", "B2 car park", T0)
            .expect("valid round")
    }

    fn visit(n: u8, at: i64) -> CheckpointVisit {
        CheckpointVisit::new(entry_id(n), GUARD.user_id, "Gate 1", at, "").expect("valid")
    }

    fn remark(n: u8) -> Remark {
        Remark::new(entry_id(n), "checked", CLERK.user_id, "李客服", T0 + 20).expect("valid")
    }

    fn keys_of(result: Result<(), Vec<Problem>>) -> Vec<(String, String)> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.path, p.key))
            .collect()
    }

    fn change(before: &PatrolLog, after: &PatrolLog, writer: &Writer<'_>) -> Vec<(String, String)> {
        keys_of(judge(
            Some(&before.clone().into_any()),
            &after.clone().into_any(),
            writer,
            *DOC,
            T0 + 60_000,
        ))
    }

    fn pair(path: &str, key: &str) -> (String, String) {
        (path.to_owned(), key.to_owned())
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
        let problems = CheckpointVisit::new(entry_id(1), "g", "  ", T0, "ok").expect_err("refused");
        assert_eq!(problems, [Problem::new("visit.checkpoint", keys::REQUIRED)]);
    }

    #[test]
    fn overlong_note_is_refused() {
        let note = "水".repeat(MAX_NOTE_CHARS + 1);
        let problems =
            CheckpointVisit::new(entry_id(1), "g", "Gate 1", T0, &note).expect_err("refused");
        assert_eq!(problems, [Problem::new("visit.note", keys::TOO_LONG)]);
    }

    #[test]
    fn finding_needs_what_and_where() {
        let problems = Finding::new(entry_id(1), "g", "", "", Severity::High, true, T0)
            .expect_err("must be refused");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["finding.what", "finding.location"]);
    }

    #[test]
    fn round_ending_before_it_started_is_invalid() {
        let mut log = round();
        log.ended_at = Some(T0 - 1);
        assert_eq!(
            log.validate(),
            [Problem::new("ended_at", keys::ENDS_BEFORE_START)]
        );
    }

    #[test]
    fn visit_before_round_start_names_its_index() {
        let mut log = round();
        log.visits.push(visit(1, T0));
        log.visits.push(visit(2, T0 - 60_000));
        assert_eq!(
            log.validate(),
            [Problem::new(
                "visits[1].visited_at",
                keys::BEFORE_ROUND_START
            )]
        );
    }

    #[test]
    fn the_same_id_twice_is_refused() {
        let mut log = round();
        log.visits.push(visit(1, T0));
        log.visits.push(visit(1, T0 + 1));
        assert_eq!(
            log.validate(),
            [Problem::new("visits[1].id", keys::DUPLICATE_ID)]
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
        before.visits.push(visit(1, T0));
        let mut after = before.clone();
        after.estate_id = "elsewhere".into();
        after.created_by = "someone-else".into();
        after.visits.clear();
        assert_eq!(
            change(&before, &after, &GUARD),
            [
                pair("estate_id", keys::ESTATE_CHANGED),
                pair("created_by", keys::CREATOR_CHANGED),
                pair("visits[0]", keys::ENTRY_DELETED),
            ]
        );
    }

    #[test]
    fn new_record_must_be_the_writers_in_their_estate_and_of_a_kind_they_start() {
        let log = round().into_any();
        assert_eq!(judge(None, &log, &GUARD, *DOC, T0), Ok(()));
        let problems = keys_of(judge(None, &log, &OTHER_GUARD, *DOC, T0));
        assert_eq!(
            problems,
            [
                pair("estate_id", keys::OTHER_ESTATE),
                pair("created_by", keys::CREATOR_NOT_WRITER)
            ]
        );
        let mut by_clerk = round();
        by_clerk.created_by = CLERK.user_id.into();
        assert_eq!(
            keys_of(judge(None, &by_clerk.into_any(), &CLERK, *DOC, T0)),
            [pair("kind", keys::ROLE_FORBIDS)]
        );
    }

    #[test]
    fn times_ahead_of_the_judges_clock_are_refused() {
        let mut log = round();
        log.visits.push(visit(1, T0 + MAX_CLOCK_AHEAD_MS + 60_000));
        let log = log.into_any();
        // The writer's own clock agrees with the visit; the server's is behind it.
        assert_eq!(
            judge(None, &log, &GUARD, *DOC, T0 + 60_000 + MAX_CLOCK_AHEAD_MS),
            Ok(())
        );
        assert_eq!(
            keys_of(judge(None, &log, &GUARD, *DOC, T0)),
            [pair("visits[0].visited_at", keys::IN_FUTURE)]
        );
    }

    #[test]
    fn office_changing_a_guards_visit_finding_or_round_is_refused() {
        let mut before = round();
        before.visits.push(visit(1, T0));
        before.findings.push(
            Finding::new(
                entry_id(2),
                GUARD.user_id,
                "leak",
                "B2",
                Severity::Low,
                false,
                T0,
            )
            .expect("valid"),
        );
        let mut after = before.clone();
        after.visits[0].note = "rewritten by the office".into();
        after.findings[0].severity = Severity::High;
        after.started_at = T0 - 3_600_000;
        after.route = "another route".into();
        assert_eq!(
            change(&before, &after, &CLERK),
            [
                pair("route", keys::NOT_CREATOR),
                pair("started_at", keys::NOT_CREATOR),
                pair("visits[0]", keys::ENTRY_CHANGED),
                pair("findings[0]", keys::ENTRY_CHANGED),
            ]
        );
        // Not even the guard changes a written entry.
        let mut own = before.clone();
        own.visits[0].checkpoint = "Gate 9".into();
        assert_eq!(
            change(&before, &own, &GUARD),
            [pair("visits[0]", keys::ENTRY_CHANGED)]
        );
    }

    #[test]
    fn a_remark_in_another_users_name_is_refused() {
        let before = round();
        let mut after = before.clone();
        let mut forged = remark(3);
        forged.author = "user-someone-else".into();
        after.remarks.push(forged);
        assert_eq!(
            change(&before, &after, &CLERK),
            [pair("remarks[0].author", keys::AUTHOR_NOT_WRITER)]
        );
        let mut honest = before.clone();
        honest.remarks.push(remark(3));
        assert!(change(&before, &honest, &CLERK).is_empty());
    }

    #[test]
    fn an_entry_without_author_counts_as_the_creators_only() {
        let before = round();
        let mut legacy = before.clone();
        let mut v = visit(6, T0);
        v.author = None;
        legacy.visits.push(v);
        // A phone of the first version uploading the guard's own visit: accepted.
        assert!(change(&before, &legacy, &GUARD).is_empty());
        // Anyone else sending an author-less entry: it is not theirs to write.
        let mut clerk_remark = before.clone();
        clerk_remark.visits = legacy.visits.clone();
        assert_eq!(
            change(&before, &clerk_remark, &CLERK),
            [
                pair("visits[0]", keys::ROLE_FORBIDS),
                pair("visits[0].author", keys::AUTHOR_NOT_WRITER)
            ]
        );
    }

    #[test]
    fn who_adds_which_entry_is_the_kinds_rule() {
        let before = round();
        // A guard does not write remarks; the office does not write visits.
        let mut guard_remark = before.clone();
        let mut own = remark(3);
        own.author = GUARD.user_id.into();
        guard_remark.remarks.push(own);
        assert_eq!(
            change(&before, &guard_remark, &GUARD),
            [pair("remarks[0]", keys::ROLE_FORBIDS)]
        );
        let mut office_visit = before.clone();
        let mut v = visit(4, T0);
        v.author = Some(CLERK.user_id.into());
        office_visit.visits.push(v);
        assert_eq!(
            change(&before, &office_visit, &CLERK),
            [pair("visits[0]", keys::ROLE_FORBIDS)]
        );
        // Another guard of the estate does not add to this guard's round.
        let mut other = before.clone();
        let mut v = visit(5, T0);
        v.author = Some(OTHER_GUARD.user_id.into());
        other.visits.push(v);
        assert_eq!(
            change(&before, &other, &OTHER_GUARD),
            [pair("visits[0]", keys::ROLE_FORBIDS)]
        );
    }

    #[test]
    fn an_ended_round_takes_no_visit_and_keeps_its_fields() {
        let mut before = round();
        before.ended_at = Some(T0 + 10);
        let mut after = before.clone();
        after.visits.push(visit(1, T0 + 5));
        after.ended_at = None;
        assert_eq!(
            change(&before, &after, &GUARD),
            [
                pair("ended_at", keys::RECORD_CLOSED),
                pair("visits[0]", keys::ROLE_FORBIDS)
            ]
        );
        // The office still remarks on it.
        let mut remarked = before.clone();
        remarked.remarks.push(remark(2));
        assert!(change(&before, &remarked, &CLERK).is_empty());
    }

    #[test]
    fn a_correction_names_an_own_entry_of_the_same_list() {
        let mut before = round();
        before.visits.push(visit(1, T0));
        let mut after = before.clone();
        let mut fix = visit(2, T0 + 1);
        fix.checkpoint = "Gate 2".into();
        fix.corrects = Some(before.visits[0].id.clone());
        after.visits.push(fix);
        assert!(change(&before, &after, &GUARD).is_empty());
        let summary = after.detail();
        assert_eq!(
            summary,
            SummaryDetail::PatrolLog {
                visit_count: 1,
                finding_count: 0,
                follow_up_count: 0,
                remark_count: 0
            }
        );
        // A correction of nothing, or of another user's entry, is refused.
        let mut dangling = before.clone();
        let mut fix = visit(3, T0 + 1);
        fix.corrects = Some("no-such-entry".into());
        dangling.visits.push(fix);
        assert_eq!(
            change(&before, &dangling, &GUARD),
            [pair("visits[1].corrects", keys::BAD_CORRECTION)]
        );
        let mut remarked = before.clone();
        remarked.remarks.push(remark(4));
        let mut other_clerks = remarked.clone();
        let mut fix = remark(5);
        fix.author = "user-clerk-2".into();
        fix.corrects = Some(remarked.remarks[0].id.clone());
        other_clerks.remarks.push(fix);
        let second_clerk = Writer {
            user_id: "user-clerk-2",
            ..*CLERK
        };
        assert_eq!(
            change(&remarked, &other_clerks, &second_clerk),
            [pair("remarks[1].corrects", keys::BAD_CORRECTION)]
        );
    }

    #[test]
    fn edit_deleting_a_saved_entry_is_refused_on_the_device() {
        let mut log = round();
        log.visits.push(visit(1, T0));
        let mut doc = create_document(ActorId::random(), &log, T0).expect("created");
        let heads = doc.get_heads();
        let refused = edit_document(&mut doc, *DOC, &GUARD, T0 + 1, |log: &mut PatrolLog| {
            log.visits.clear()
        });
        assert!(matches!(refused, Err(RecordError::Invalid(p)) if p[0].key == keys::ENTRY_DELETED));
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn document_round_trips_the_log() {
        let mut log = round();
        log.visits.push(visit(1, T0 + 1));
        log.findings.push(
            Finding::new(
                entry_id(2),
                GUARD.user_id,
                "water leak",
                "B2 pump room",
                Severity::Medium,
                true,
                T0 + 2,
            )
            .expect("valid"),
        );
        let doc = create_document(ActorId::random(), &log, T0).expect("created");
        let loaded = Automerge::load(&doc.save()).expect("loads");
        assert_eq!(read_kind::<PatrolLog>(&loaded).expect("reads"), log);
    }

    #[test]
    fn concurrent_visit_and_remark_both_survive() {
        let mut guard = create_document(ActorId::random(), &round(), T0).expect("created");
        let mut office = guard.fork().with_actor(ActorId::random());
        edit_document(&mut guard, *DOC, &GUARD, T0 + 10, |log: &mut PatrolLog| {
            log.visits.push(visit(1, T0 + 10))
        })
        .expect("guard edit");
        edit_document(&mut office, *DOC, &CLERK, T0 + 20, |log: &mut PatrolLog| {
            log.remarks.push(remark(2))
        })
        .expect("office edit");
        guard.merge(&mut office).expect("merge");
        let merged: PatrolLog = read_kind(&guard).expect("reads");
        assert_eq!(merged.visits.len(), 1);
        assert_eq!(merged.remarks.len(), 1);
    }
}
