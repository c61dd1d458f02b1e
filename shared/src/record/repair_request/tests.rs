use super::*;
use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, T0, TECH};
use crate::record::{judge, AnyRecord};

fn finding_doc() -> DocumentId {
    DocumentId::from_random([3; 16])
}

fn request(assignee: &str) -> RepairRequest {
    let name = if assignee.is_empty() { "" } else { "张师傅" };
    RepairRequest::new(
        "estate-1",
        "user-clerk",
        "李客服",
        "3栋地下车库",
        "消防通道灯不亮",
        Component::Lighting,
        "王保安",
        "",
        Some((finding_doc(), "finding-1")),
        Assignment::new(entry_id(1), "user-clerk", assignee, name, T0),
        T0,
    )
    .expect("valid request")
}

fn taking(n: u8, author: &str) -> Taking {
    Taking {
        id: entry_id(n).to_string(),
        author: author.into(),
        corrects: None,
        technician_name: "张师傅".into(),
        repair: DocumentId::from_random([n; 16]).to_string(),
        taken_at: T0 + 100,
    }
}

fn keys_of(result: Result<(), Vec<Problem>>) -> Vec<crate::problem::ProblemKey> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.key)
        .collect()
}

fn change(
    before: &RepairRequest,
    after: &RepairRequest,
    writer: &Writer<'_>,
) -> Vec<crate::problem::ProblemKey> {
    keys_of(judge(
        Some(&AnyRecord::RepairRequest(before.clone())),
        &AnyRecord::RepairRequest(after.clone()),
        writer,
        *DOC,
        T0 + 1_000,
    ))
}

fn other_tech() -> Writer<'static> {
    Writer {
        user_id: "user-tech-2",
        ..*TECH
    }
}

#[test]
fn the_office_writes_a_request_from_a_finding_and_only_the_office_may() {
    let new = AnyRecord::RepairRequest(request("user-tech"));
    assert_eq!(judge(None, &new, &CLERK, *DOC, T0 + 1_000), Ok(()));
    assert!(keys_of(judge(None, &new, &TECH, *DOC, T0 + 1_000)).contains(&keys::ROLE_FORBIDS));
    assert!(keys_of(judge(None, &new, &GUARD, *DOC, T0 + 1_000)).contains(&keys::ROLE_FORBIDS));
    let AnyRecord::RepairRequest(r) = new else {
        unreachable!()
    };
    assert_eq!(r.status(), RequestStatus::Assigned);
    assert_eq!(r.addressed_to(), Some("user-tech"));
    assert_eq!(Kind::links_to(&r), Some(finding_doc()));
    assert_eq!(r.done_at(), None);
    assert_eq!(request("").status(), RequestStatus::Pooled);
    assert_eq!(request("").addressed_to(), None);
}

#[test]
fn a_request_names_its_finding_whole_or_not_at_all() {
    let mut r = request("");
    r.finding_doc = None;
    assert!(Kind::validate(&r).contains(&Problem::new("finding_doc", keys::REQUIRED)));
    r.finding = None;
    assert!(
        Kind::validate(&r).is_empty(),
        "a request from a call names no finding"
    );
    r.finding_doc = Some("not a document".into());
    r.finding = Some("f".into());
    assert!(Kind::validate(&r).contains(&Problem::new("finding_doc", keys::UNKNOWN_VALUE)));
    let mut r = request("");
    r.assignments.clear();
    assert!(Kind::validate(&r).contains(&Problem::new("assignments", keys::REQUIRED)));
}

#[test]
fn the_assigned_technician_takes_it_and_another_may_not() {
    let before = request("user-tech");
    let mut after = before.clone();
    after.takings.push(taking(2, "user-tech"));
    assert_eq!(change(&before, &after, &TECH), vec![]);
    assert_eq!(after.status(), RequestStatus::Taken);
    assert_eq!(after.done_at(), Some(T0 + 100));

    let mut stolen = before.clone();
    stolen.takings.push(taking(2, "user-tech-2"));
    assert_eq!(
        change(&before, &stolen, &other_tech()),
        vec![keys::NOT_ASSIGNED]
    );
    // Nor may anyone take it in a technician's name.
    assert!(change(&before, &after, &other_tech()).contains(&keys::AUTHOR_NOT_WRITER));
    // A guard or a clerk does not take work orders.
    let mut by_guard = before.clone();
    by_guard.takings.push(taking(2, "user-guard"));
    assert!(change(&before, &by_guard, &GUARD).contains(&keys::ROLE_FORBIDS));
    let mut by_clerk = before.clone();
    by_clerk.takings.push(taking(2, "user-clerk"));
    assert!(change(&before, &by_clerk, &CLERK).contains(&keys::ROLE_FORBIDS));
}

#[test]
fn any_technician_of_the_estate_takes_a_pooled_request_once() {
    let before = request("");
    let mut after = before.clone();
    after.takings.push(taking(2, "user-tech-2"));
    assert_eq!(change(&before, &after, &other_tech()), vec![]);
    assert_eq!(
        after.addressed_to(),
        Some("user-tech-2"),
        "the taker's phone keeps it"
    );
    // A second phone that took it offline reaches a server that holds the first taking.
    let mut late = after.clone();
    late.takings.push(taking(3, "user-tech"));
    let found = change(&after, &late, &TECH);
    assert!(found.contains(&keys::REQUEST_CLOSED), "{found:?}");
    assert!(found.contains(&keys::TOO_MANY), "{found:?}");
}

#[test]
fn a_technician_moved_off_an_order_may_not_take_it_and_is_told_why() {
    let mut before = request("user-tech");
    before.assignments.push(Assignment::new(
        entry_id(5),
        "user-clerk",
        "user-tech-2",
        "刘师傅",
        T0 + 50,
    ));
    assert_eq!(before.addressed_to(), Some("user-tech-2"));
    let mut after = before.clone();
    after.takings.push(taking(2, "user-tech"));
    assert_eq!(change(&before, &after, &TECH), vec![keys::NOT_ASSIGNED]);
    let mut by_new = before.clone();
    by_new.takings.push(taking(3, "user-tech-2"));
    assert_eq!(change(&before, &by_new, &other_tech()), vec![]);
    // A reassignment dated before the one in force would never count: refused.
    let mut backdated = before.clone();
    backdated.assignments.push(Assignment::new(
        entry_id(6),
        "user-clerk",
        "user-tech",
        "张师傅",
        T0 + 10,
    ));
    assert_eq!(
        change(&before, &backdated, &CLERK),
        vec![keys::STEP_OUT_OF_ORDER]
    );
}

#[test]
fn the_office_assigns_and_cancels_only_while_nobody_has_taken_it() {
    let open = request("");
    let mut reassigned = open.clone();
    reassigned.assignments.push(Assignment::new(
        entry_id(5),
        "user-clerk",
        "user-tech",
        "张师傅",
        T0 + 50,
    ));
    assert_eq!(change(&open, &reassigned, &CLERK), vec![]);
    assert_eq!(reassigned.status(), RequestStatus::Assigned);
    // A technician does not assign.
    let mut by_tech = open.clone();
    by_tech.assignments.push(Assignment::new(
        entry_id(5),
        "user-tech",
        "user-tech",
        "张师傅",
        T0 + 50,
    ));
    assert!(change(&open, &by_tech, &TECH).contains(&keys::ROLE_FORBIDS));

    let mut taken = open.clone();
    taken.takings.push(taking(2, "user-tech"));
    let mut late = taken.clone();
    late.assignments.push(Assignment::new(
        entry_id(6),
        "user-clerk",
        "user-tech-2",
        "刘师傅",
        T0 + 200,
    ));
    assert!(change(&taken, &late, &CLERK).contains(&keys::REQUEST_CLOSED));
    let mut cancelled = taken.clone();
    cancelled.cancellations.push(Cancellation {
        id: entry_id(7).to_string(),
        author: "user-clerk".into(),
        corrects: None,
        reason: "业主已自行维修".into(),
        cancelled_at: T0 + 200,
    });
    assert!(change(&taken, &cancelled, &CLERK).contains(&keys::REQUEST_CLOSED));
    // The fault a technician took on does not change under them.
    let mut rewritten = taken.clone();
    rewritten.fault = "另一个故障".into();
    assert_eq!(
        change(&taken, &rewritten, &CLERK),
        vec![keys::RECORD_CLOSED]
    );
}

#[test]
fn a_cancelled_request_cannot_be_taken() {
    let open = request("user-tech");
    let mut cancelled = open.clone();
    cancelled.cancellations.push(Cancellation {
        id: entry_id(7).to_string(),
        author: "user-clerk".into(),
        corrects: None,
        reason: "重复报修".into(),
        cancelled_at: T0 + 200,
    });
    assert_eq!(change(&open, &cancelled, &CLERK), vec![]);
    assert_eq!(cancelled.status(), RequestStatus::Cancelled);
    let mut taken = cancelled.clone();
    taken.takings.push(taking(2, "user-tech"));
    let found = change(&cancelled, &taken, &TECH);
    assert!(found.contains(&keys::REQUEST_CLOSED), "{found:?}");
}

#[test]
fn a_taking_names_a_repair_document() {
    let before = request("user-tech");
    let mut after = before.clone();
    let mut bad = taking(2, "user-tech");
    bad.repair = "repair-1".into();
    after.takings.push(bad);
    assert_eq!(change(&before, &after, &TECH), vec![keys::UNKNOWN_VALUE]);
}
