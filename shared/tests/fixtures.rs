//! Documents saved by released versions stay readable and pass their rules forever.
//!
//! `tests/fixtures/patrol_log_v1_*.automerge` were written by the first version's
//! `shared::patrol_log` (before entries carried their author): a round in progress with two
//! visits and a finding, the same round ended on the phone and merged with an office remark,
//! and an empty round ended at once. Each is checked field by field, judged as a new upload
//! from its guard (as a phone that kept it offline across the update would send it), and
//! edited with today's code.

use automerge::{ActorId, Automerge};
use gatehouse_shared::record::{edit_document, judge, read_record, AnyRecord};
use gatehouse_shared::{CheckpointVisit, DocumentId, EntryId, PatrolLog, Role, Severity, Writer};

const T0: i64 = 1_790_000_000_000;

fn load(name: &str) -> Automerge {
    // Read when the test runs (cargo sets the variable), not where it was compiled: a build
    // cache shared by two clones must not send one clone's tests to the other's files.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo");
    let path = format!("{root}/tests/fixtures/{name}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Automerge::load(&bytes).unwrap_or_else(|e| panic!("{path} does not load: {e}"))
}

fn patrol_log(doc: &Automerge) -> PatrolLog {
    read_record(doc)
        .expect("reads as a record")
        .as_patrol_log()
        .cloned()
        .expect("a patrol log")
}

fn guard(estates: &[String]) -> Writer<'_> {
    Writer {
        user_id: "u-guard",
        role: Role::Guard,
        estates,
        device_id: "device-1",
        device_key: &[],
        verify_key: gatehouse_shared::signature::ed25519_verifies,
        estate_settings: &[],
    }
}

#[test]
fn first_version_round_in_progress_reads_and_passes_the_rules() {
    let doc = load("patrol_log_v1_in_progress.automerge");
    let log = patrol_log(&doc);
    assert_eq!(log.estate_id, "sunny-garden");
    assert_eq!(log.created_by, "u-guard");
    assert_eq!(log.guard_name, "王保安");
    assert_eq!(log.route, "地下车库夜间巡逻");
    assert_eq!(log.started_at, T0);
    assert_eq!(log.ended_at, None);
    let checkpoints: Vec<_> = log.visits.iter().map(|v| v.checkpoint.as_str()).collect();
    assert_eq!(checkpoints, ["B2 东门", "B2 西门"]);
    assert!(log
        .visits
        .iter()
        .all(|v| v.author.is_none() && v.corrects.is_none()));
    assert_eq!(log.findings.len(), 1);
    assert_eq!(log.findings[0].severity, Severity::High);
    assert!(log.findings[0].needs_follow_up);
    let estates = vec!["sunny-garden".to_owned()];
    let record = AnyRecord::PatrolLog(log);
    assert_eq!(record.validate(), []);
    assert_eq!(
        judge(
            None,
            &record,
            &guard(&estates),
            DocumentId::from_random([1; 16]),
            T0
        ),
        Ok(())
    );
}

#[test]
fn first_version_round_with_remark_reads_and_passes_the_rules() {
    let doc = load("patrol_log_v1_ended_with_remark.automerge");
    let log = patrol_log(&doc);
    assert_eq!(log.ended_at, Some(T0 + 240_000));
    assert_eq!(log.remarks.len(), 1);
    assert_eq!(log.remarks[0].author, "u-clerk");
    assert_eq!(log.remarks[0].text, "已通知保洁跟进");
    assert_eq!(log.visits.len(), 2);
    assert_eq!(AnyRecord::PatrolLog(log).validate(), []);
}

#[test]
fn first_version_empty_round_reads_and_passes_the_rules() {
    let doc = load("patrol_log_v1_empty_ended.automerge");
    let log = patrol_log(&doc);
    assert_eq!(log.estate_id, "jade-lake");
    assert_eq!(log.route, "");
    assert_eq!(log.ended_at, Some(T0 + 2));
    assert_eq!(AnyRecord::PatrolLog(log).validate(), []);
}

#[test]
fn a_first_version_round_takes_an_authored_visit_and_keeps_its_old_entries() {
    let mut doc = load("patrol_log_v1_in_progress.automerge").with_actor(ActorId::random());
    let before = patrol_log(&doc);
    let estates = vec!["sunny-garden".to_owned()];
    let writer = guard(&estates);
    let id = DocumentId::from_random([2; 16]);
    let after = edit_document(
        &mut doc,
        id,
        &writer,
        T0 + 300_000,
        |log: &mut PatrolLog| {
            log.visits.push(
                CheckpointVisit::new(
                    EntryId::from_random([5; 16]),
                    "u-guard",
                    "B1",
                    T0 + 300_000,
                    "",
                )
                .expect("valid"),
            )
        },
    )
    .expect("the edit is accepted");
    assert_eq!(after.visits.len(), 3);
    // The old entries read the same after today's code wrote the document.
    let reread = patrol_log(&Automerge::load(&doc.save()).expect("loads"));
    assert_eq!(reread.visits[..2], before.visits[..]);
    assert_eq!(reread.findings, before.findings);
}
