use super::*;
use crate::problem::ProblemKey;
use crate::record::patrol_log::{CheckpointVisit, PatrolLog, VisitMethod};
use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, T0};
use crate::record::{judge, AnyRecord};

fn checkpoints(names: &[&str]) -> Vec<Checkpoint> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Checkpoint {
            id: checkpoint_id([i as u8 + 1; 8]),
            name: (*name).to_owned(),
            hint: String::new(),
        })
        .collect()
}

fn revision(n: u8, names: &[&str], due: &[&str], at: i64) -> RouteRevision {
    let due: Vec<String> = due.iter().map(|d| (*d).to_owned()).collect();
    RouteRevision::new(
        entry_id(n),
        "user-clerk",
        "夜间巡逻A线",
        checkpoints(names),
        &due,
        40,
        false,
        at,
    )
    .expect("valid revision")
}

fn route() -> PatrolRoute {
    PatrolRoute::new(
        "estate-1",
        "user-clerk",
        "李客服",
        revision(1, &["1号门岗", "B2车库", "3栋天台"], &["22:00", "2:00"], T0),
        T0,
    )
    .expect("valid route")
}

fn keys_of(result: Result<(), Vec<Problem>>) -> Vec<ProblemKey> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.key)
        .collect()
}

fn judge_route(
    before: Option<&PatrolRoute>,
    after: &PatrolRoute,
    writer: &Writer<'_>,
) -> Vec<ProblemKey> {
    keys_of(judge(
        before.map(|b| AnyRecord::PatrolRoute(b.clone())).as_ref(),
        &AnyRecord::PatrolRoute(after.clone()),
        writer,
        *DOC,
        T0 + 10_000,
    ))
}

fn judge_round(before: Option<&PatrolLog>, after: &PatrolLog) -> Vec<ProblemKey> {
    keys_of(judge(
        before.map(|b| AnyRecord::PatrolLog(b.clone())).as_ref(),
        &AnyRecord::PatrolLog(after.clone()),
        &GUARD,
        *DOC,
        T0 + 10_000_000,
    ))
}

fn round() -> PatrolLog {
    PatrolLog::start_on_route(
        "estate-1",
        "user-guard",
        "王保安",
        DocumentId::from_random([5; 16]),
        &route(),
        T0 + 1_000,
    )
    .expect("round on the route")
}

#[test]
fn a_clerk_defines_a_route_and_a_guard_may_not() {
    assert_eq!(judge_route(None, &route(), &CLERK), vec![]);
    let mut by_guard = route();
    by_guard.created_by = "user-guard".into();
    by_guard.revisions[0].author = "user-guard".into();
    let problems = judge_route(None, &by_guard, &GUARD);
    assert!(problems.contains(&keys::ROLE_FORBIDS), "{problems:?}");
}

#[test]
fn due_times_are_read_sorted_and_bad_ones_named() {
    let r = revision(1, &["门岗"], &["2:00", "22:00", "02:00"], T0);
    assert_eq!(r.due_times, vec!["02:00", "22:00"]);
    let bad = RouteRevision::new(
        entry_id(1),
        "u",
        "A",
        checkpoints(&["门岗"]),
        &["25:00".into(), "7:5".into()],
        40,
        false,
        T0,
    )
    .expect_err("bad times");
    assert_eq!(bad.iter().filter(|p| p.key == keys::BAD_TIME).count(), 2);
}

#[test]
fn a_route_needs_checkpoints_with_distinct_names_and_a_sensible_length() {
    let problems =
        RouteRevision::new(entry_id(1), "u", "A", vec![], &[], 0, false, T0).expect_err("empty");
    let found: Vec<_> = problems.iter().map(|p| (p.path.as_str(), p.key)).collect();
    assert!(
        found.contains(&("revision.checkpoints", keys::REQUIRED)),
        "{found:?}"
    );
    assert!(
        found.contains(&("revision.max_minutes", keys::OUT_OF_RANGE)),
        "{found:?}"
    );
    let problems = RouteRevision::new(
        entry_id(1),
        "u",
        "A",
        checkpoints(&["B2 车库", "b2车库"]),
        &[],
        30,
        false,
        T0,
    )
    .expect_err("same name twice");
    assert_eq!(problems[0].key, keys::DUPLICATE_NAME);
}

#[test]
fn a_revision_replaces_the_route_and_comes_after_the_one_in_force() {
    let before = route();
    let mut after = before.clone();
    after
        .revisions
        .push(revision(2, &["1号门岗", "3栋天台"], &["23:00"], T0 + 5_000));
    assert_eq!(judge_route(Some(&before), &after, &CLERK), vec![]);
    assert_eq!(after.current().map(|r| r.checkpoints.len()), Some(2));
    let mut late = before.clone();
    late.revisions.push(revision(3, &["1号门岗"], &[], T0 - 1));
    assert_eq!(
        judge_route(Some(&before), &late, &CLERK),
        vec![keys::STEP_OUT_OF_ORDER]
    );
    let mut changed = before.clone();
    changed.revisions[0].name = "改过".into();
    assert_eq!(
        judge_route(Some(&before), &changed, &CLERK),
        vec![keys::ENTRY_CHANGED]
    );
}

#[test]
fn qr_codes_hold_the_checkpoint_id_and_nothing_else_reads_as_one() {
    let c = &route().revisions[0].checkpoints[0];
    assert_eq!(checkpoint_in_code(&c.qr_text()), Some(c.id.as_str()));
    assert_eq!(checkpoint_in_code("https://example.com"), None);
    assert_eq!(checkpoint_in_code("GH1:CP:bad id!"), None);
}

#[test]
fn a_round_on_a_route_takes_scanned_and_picked_visits_of_its_checkpoints() {
    let before = round();
    assert_eq!(judge_round(None, &before), vec![]);
    assert_eq!(
        before.next_checkpoint().map(|c| c.name.as_str()),
        Some("1号门岗")
    );
    let mut after = before.clone();
    let planned = before.planned.clone();
    after.visits.push(
        CheckpointVisit::on_route(
            entry_id(10),
            "user-guard",
            &planned[0],
            VisitMethod::Scanned,
            T0 + 2_000,
            "",
        )
        .expect("visit"),
    );
    after.visits.push(
        CheckpointVisit::on_route(
            entry_id(11),
            "user-guard",
            &planned[2],
            VisitMethod::Picked,
            T0 + 3_000,
            "",
        )
        .expect("visit"),
    );
    assert_eq!(judge_round(Some(&before), &after), vec![]);
    assert_eq!(
        after.next_checkpoint().map(|c| c.name.as_str()),
        Some("B2车库")
    );
    assert_eq!(after.not_visited().len(), 1);
    let AnyRecord::PatrolLog(ref log) = AnyRecord::PatrolLog(after.clone()) else {
        unreachable!()
    };
    match crate::record::Kind::detail(log) {
        crate::record::SummaryDetail::PatrolLog {
            missed,
            planned_count,
            ..
        } => {
            assert_eq!(missed, vec!["B2车库".to_owned()]);
            assert_eq!(planned_count, 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hostile_client_cannot_type_a_route_checkpoint_or_scan_one_the_route_lacks() {
    let before = round();
    let mut typed = before.clone();
    typed.visits.push(
        CheckpointVisit::new(entry_id(10), "user-guard", " b2 车库 ", T0 + 2_000, "")
            .expect("visit"),
    );
    assert_eq!(judge_round(Some(&before), &typed), vec![keys::ON_ROUTE]);

    let mut elsewhere = before.clone();
    elsewhere.visits.push(
        CheckpointVisit::new(entry_id(10), "user-guard", "垃圾房", T0 + 2_000, "").expect("visit"),
    );
    assert_eq!(judge_round(Some(&before), &elsewhere), vec![]);

    let stranger = Checkpoint {
        id: "cp-ffff".into(),
        name: "B2车库".into(),
        hint: String::new(),
    };
    let mut unknown = before.clone();
    unknown.visits.push(
        CheckpointVisit::on_route(
            entry_id(10),
            "user-guard",
            &stranger,
            VisitMethod::Scanned,
            T0 + 2_000,
            "",
        )
        .expect("visit"),
    );
    assert_eq!(
        judge_round(Some(&before), &unknown),
        vec![keys::NOT_ON_ROUTE]
    );

    let mut renamed = before.clone();
    let mut visit = CheckpointVisit::on_route(
        entry_id(10),
        "user-guard",
        &before.planned[0],
        VisitMethod::Scanned,
        T0 + 2_000,
        "",
    )
    .expect("visit");
    visit.checkpoint = "别处".into();
    renamed.visits.push(visit);
    assert_eq!(
        judge_round(Some(&before), &renamed),
        vec![keys::NOT_ON_ROUTE]
    );

    let mut scanned_without_id = before.clone();
    let mut visit =
        CheckpointVisit::new(entry_id(10), "user-guard", "垃圾房", T0 + 2_000, "").expect("visit");
    visit.method = Some(VisitMethod::Scanned);
    scanned_without_id.visits.push(visit);
    assert_eq!(
        judge_round(Some(&before), &scanned_without_id),
        vec![keys::UNKNOWN_VALUE]
    );
}

#[test]
fn what_a_round_was_asked_to_visit_never_changes() {
    let before = round();
    let mut fewer = before.clone();
    fewer.planned.pop();
    assert_eq!(
        judge_round(Some(&before), &fewer),
        vec![keys::ROUTE_CHANGED]
    );
    let mut longer = before.clone();
    longer.max_minutes = Some(600);
    assert_eq!(
        judge_round(Some(&before), &longer),
        vec![keys::ROUTE_CHANGED]
    );
}

#[test]
fn a_round_open_longer_than_its_route_allows_is_overdue() {
    let log = round();
    assert!(!log.is_overdue(T0 + 1_000 + 40 * 60_000));
    assert!(log.is_overdue(T0 + 1_000 + 40 * 60_000 + 1));
    let mut ended = log.clone();
    ended.ended_at = Some(T0 + 1_000 + 10 * 60_000);
    assert!(!ended.is_overdue(T0 + 100 * 60_000 * 60));
}

#[test]
fn the_day_report_says_which_due_rounds_were_done_and_what_was_missed() {
    let route = PatrolRoute::new(
        "estate-1",
        "user-clerk",
        "李客服",
        revision(
            1,
            &["1号门岗", "B2车库", "3栋天台"],
            &["22:00", "02:00"],
            T0 - 86_400_000,
        ),
        T0 - 86_400_000,
    )
    .expect("route");
    let day = T0 - T0 % 86_400_000;
    let at = |h: i64, m: i64| day + (h * 60 + m) * 60_000;
    let ids = |n: &[usize]| -> Vec<String> {
        n.iter()
            .map(|i| route.revisions[0].checkpoints[*i].id.clone())
            .collect()
    };
    let visited = ids(&[0, 2]);
    let rounds = [RoundFacts {
        started_at: at(1, 45),
        ended_at: Some(at(2, 20)),
        visited: &visited,
    }];
    // 02:00 done by the round at 01:45 (within 30 min early); 22:00 still to come at 12:00.
    let report = route_day(&route, &rounds, day, at(12, 0));
    assert_eq!(
        report.slots,
        vec![
            ("02:00".into(), Slot::Done(at(1, 45))),
            ("22:00".into(), Slot::Pending)
        ]
    );
    assert_eq!(report.missed, vec![("B2车库".to_owned(), 1)]);
    assert_eq!(report.overdue_rounds, 0);
    // At the day's end, 22:00 was not done; a round that started too early counts for none.
    let none: Vec<String> = Vec::new();
    let early = [RoundFacts {
        started_at: at(1, 0),
        ended_at: Some(at(1, 50)),
        visited: &none,
    }];
    let report = route_day(&route, &early, day, at(23, 59));
    assert_eq!(report.not_done(), 2);
    assert_eq!(report.rounds, 1);
    // 50 minutes on a route that allows 40: overdue; every checkpoint missed.
    assert_eq!(report.overdue_rounds, 1);
    assert_eq!(report.missed.len(), 3);
}

#[test]
fn a_round_is_judged_against_the_route_not_the_plan_it_carries() {
    let route = route();
    // A phone started the round with a plan of one checkpoint and visited it.
    let mut forged = round();
    forged.planned.truncate(1);
    let first = forged.planned[0].clone();
    forged.visits.push(
        CheckpointVisit::on_route(
            entry_id(10),
            "user-guard",
            &first,
            VisitMethod::Scanned,
            T0 + 2_000,
            "",
        )
        .expect("visit"),
    );
    forged.ended_at = Some(T0 + 3_000);
    let visited: Vec<String> = forged
        .visited_ids()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let day = T0 - T0 % 86_400_000;
    let facts = [RoundFacts {
        started_at: forged.started_at,
        ended_at: forged.ended_at,
        visited: &visited,
    }];
    let report = route_day(&route, &facts, day, T0 + 4_000);
    let names: Vec<&str> = report.missed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["B2车库", "3栋天台"]);
}

#[test]
fn look_alike_names_are_the_same_checkpoint() {
    assert_eq!(name_key("Ｂ２车库"), name_key("b2 车库"));
    assert_eq!(name_key("B2\u{200B}车库"), name_key("B2车库"));
    assert_eq!(parse_time_of_day("+7:30"), None);
    assert_eq!(parse_time_of_day("07:+5"), None);
}
