use crate::problem::ProblemKey;
use automerge::{ActorId, Automerge};

use super::*;
use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, OTHER_GUARD, T0};
use crate::record::{
    create_document, edit_document, judge, read_kind, write_document, RecordError,
    MAX_CLOCK_AHEAD_MS,
};

fn round() -> PatrolLog {
    PatrolLog::start("estate-1", GUARD.user_id, "王保安", "B2 car park", T0).expect("valid round")
}

fn visit(n: u8, at: i64) -> CheckpointVisit {
    CheckpointVisit::new(entry_id(n), GUARD.user_id, "Gate 1", at, "").expect("valid")
}

fn remark(n: u8) -> Remark {
    Remark::new(entry_id(n), "checked", CLERK.user_id, "李客服", T0 + 20).expect("valid")
}

fn keys_of(result: Result<(), Vec<Problem>>) -> Vec<(String, ProblemKey)> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.path, p.key))
        .collect()
}

fn change(before: &PatrolLog, after: &PatrolLog, writer: &Writer<'_>) -> Vec<(String, ProblemKey)> {
    keys_of(judge(
        Some(&before.clone().into_any()),
        &after.clone().into_any(),
        writer,
        *DOC,
        T0 + 60_000,
    ))
}

fn pair(path: &str, key: ProblemKey) -> (String, ProblemKey) {
    (path.to_owned(), key)
}

#[test]
fn round_without_estate_or_guard_is_refused_with_each_field() {
    let problems = PatrolLog::start(" ", "", "王保安", "", T0).expect_err("must be refused");
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["estate_id", "created_by", "route"]);
    assert!(problems.iter().all(|p| p.key == keys::REQUIRED));
}

#[test]
fn a_new_round_names_its_route_and_an_old_one_without_keeps_working() {
    // A hostile client starts a round with no route: refused.
    let mut nameless = round();
    nameless.route = "  ".into();
    let found = keys_of(judge(
        None,
        &nameless.clone().into_any(),
        &GUARD,
        *DOC,
        T0 + 60_000,
    ));
    assert_eq!(found, vec![pair("route", keys::REQUIRED)]);
    // One stored before the rule still takes visits.
    let mut visited = nameless.clone();
    visited.visits.push(visit(1, T0 + 10));
    assert_eq!(change(&nameless, &visited, &GUARD), vec![]);
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
            remark_count: 0,
            route_id: None,
            planned_count: 0,
            missed: vec![],
            visited: vec![],
            max_minutes: None,
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
