//! Changes that break the rules are refused with their reasons, and nothing of them is stored.

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ROOT};
use gatehouse_server::store::Store;
use gatehouse_shared::protocol::ErrorCode;
use gatehouse_shared::record::read_kind;
use gatehouse_shared::{DocumentId, Finding, PatrolLog, Problem, Severity};

use crate::device::{remark, visit, Device};
use crate::helpers::{spawn_app, TestApp, CLERK, GUARD, T0};

fn stored_heads(app: &TestApp, id: DocumentId) -> Vec<ChangeHash> {
    let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
    store
        .load_document(&id)
        .expect("loads")
        .expect("stored")
        .doc
        .get_heads()
}

/// Syncs a valid round with one visit, then writes `forge` into the document directly (as a
/// tampered or buggy client would, bypassing the phone's own checks) and syncs again.
/// Returns the problems the server gave and whether the stored heads stayed as they were.
async fn forge(mutate: impl FnOnce(&mut PatrolLog)) -> (ErrorCode, Vec<Problem>, bool) {
    forge_document(|doc| {
        let mut log: PatrolLog = read_kind(doc).expect("reads");
        mutate(&mut log);
        doc.transact::<_, _, autosurgeon::ReconcileError>(|tx| autosurgeon::reconcile(tx, &log))
            .expect("forged");
    })
    .await
}

/// Like `forge`, writing into the Automerge document directly.
async fn forge_document(mutate: impl FnOnce(&mut Automerge)) -> (ErrorCode, Vec<Problem>, bool) {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0);
    phone.edit(id, T0 + 1, |log| {
        log.visits.push(visit(&guard.user.id, "Gate 1", T0 + 1, ""))
    });
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let accepted = stored_heads(&app, id);

    mutate(phone.docs.get_mut(&id).expect("has it"));
    phone.sync(&mut socket).await.expect("exchange completes");

    let unchanged = stored_heads(&app, id) == accepted;
    let (code, problems) = phone.refusal(id).expect("server refused the change");
    assert!(!phone.is_stored(id), "a refused change is not acknowledged");
    (code, problems, unchanged)
}

fn keys(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems
        .iter()
        .map(|p| (p.path.as_str(), p.key.as_str()))
        .collect()
}

#[tokio::test]
async fn change_moving_a_record_to_another_estate_is_rejected() {
    let (code, problems, unchanged) = forge(|log| log.estate_id = "another-estate".into()).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        keys(&problems),
        [("estate_id", "validation.estate_changed")]
    );
    assert!(unchanged);
}

#[tokio::test]
async fn change_altering_the_creator_is_rejected() {
    let (code, problems, unchanged) = forge(|log| log.created_by = "user-clerk".into()).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        keys(&problems),
        [("created_by", "validation.creator_changed")]
    );
    assert!(unchanged);
}

#[tokio::test]
async fn change_breaking_a_validation_rule_is_rejected() {
    let (code, problems, unchanged) = forge(|log| log.visits[0].checkpoint = "  ".into()).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        keys(&problems),
        [
            ("visits[0].checkpoint", "validation.required"),
            ("visits[0]", "validation.entry_changed")
        ]
    );
    assert!(unchanged);
}

#[tokio::test]
async fn change_deleting_a_saved_entry_is_rejected() {
    let (code, problems, unchanged) = forge(|log| log.visits.clear()).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(keys(&problems), [("visits[0]", "validation.entry_deleted")]);
    assert!(unchanged);
}

#[tokio::test]
async fn change_making_the_record_unreadable_is_rejected() {
    let (code, problems, unchanged) = forge_document(|doc| {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "visits", "no longer a list")?;
            Ok(())
        })
        .expect("forged");
    })
    .await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(keys(&problems), [("", "validation.not_a_record")]);
    assert!(unchanged);
}

/// A guard's round with a visit and a finding, stored; then the clerk's desk, which follows
/// the record, writes `mutate` into its copy directly and syncs it. Returns the clerk's
/// refusal and whether the stored heads stayed as they were.
async fn forge_as_clerk(
    mutate: impl FnOnce(&mut PatrolLog, &str),
) -> (ErrorCode, Vec<Problem>, bool) {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0);
    phone.edit(id, T0 + 1, |log| {
        log.visits
            .push(visit(&guard.user.id, "Gate 1", T0 + 1, "all quiet"));
        log.findings.push(
            Finding::new(
                crate::device::entry_id(),
                &guard.user.id,
                "water leak",
                "B2",
                Severity::Low,
                false,
                T0 + 2,
            )
            .expect("valid"),
        );
    });
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let accepted = stored_heads(&app, id);

    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    desk.follow(id);
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("connects");
    desk.sync(&mut desk_socket).await.expect("fetches");
    desk.edit(id, T0 + 10, |log| mutate(log, &clerk.user.id));
    desk.sync(&mut desk_socket)
        .await
        .expect("exchange completes");

    let unchanged = stored_heads(&app, id) == accepted;
    let (code, problems) = desk.refusal(id).expect("server refused the change");
    assert!(!desk.is_stored(id), "a refused change is not acknowledged");
    (code, problems, unchanged)
}

#[tokio::test]
async fn office_rewriting_a_guards_visit_note_is_rejected() {
    let (code, problems, unchanged) =
        forge_as_clerk(|log, _| log.visits[0].note = "nothing to see".into()).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(keys(&problems), [("visits[0]", "validation.entry_changed")]);
    assert!(unchanged);
}

#[tokio::test]
async fn office_raising_a_findings_severity_is_rejected() {
    let (code, problems, unchanged) =
        forge_as_clerk(|log, _| log.findings[0].severity = Severity::High).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        keys(&problems),
        [("findings[0]", "validation.entry_changed")]
    );
    assert!(unchanged);
}

#[tokio::test]
async fn office_moving_a_rounds_start_is_rejected() {
    let (code, problems, unchanged) =
        forge_as_clerk(|log, _| log.started_at = T0 - 3_600_000).await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(keys(&problems), [("started_at", "validation.not_creator")]);
    assert!(unchanged);
}

#[tokio::test]
async fn a_remark_in_another_users_name_is_rejected() {
    let (code, problems, unchanged) = forge_as_clerk(|log, _| {
        log.remarks
            .push(remark("user-guard", "the guard says so", T0 + 10))
    })
    .await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        keys(&problems),
        [("remarks[0].author", "validation.author_not_writer")]
    );
    assert!(unchanged);
}

#[tokio::test]
async fn office_adding_a_visit_to_a_guards_round_is_rejected() {
    let (code, problems, unchanged) =
        forge_as_clerk(|log, clerk| log.visits.push(visit(clerk, "Gate 9", T0 + 10, ""))).await;
    // Not the clerk's to do at all: forbidden, as an estate or role refusal is.
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(keys(&problems), [("visits[1]", "validation.role_forbids")]);
    assert!(unchanged);
}

#[tokio::test]
async fn a_guard_reopening_an_ended_round_or_adding_to_it_is_rejected() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0);
    phone.edit(id, T0 + 1, |log| log.ended_at = Some(T0 + 1));
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id), "ending a round is the guard's to do");
    let accepted = stored_heads(&app, id);

    phone.edit(id, T0 + 2, |log| {
        log.ended_at = None;
        log.visits
            .push(visit(&guard.user.id, "Gate 1", T0 + 2, "late"));
    });
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems) = phone.refusal(id).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(
        keys(&problems),
        [
            ("ended_at", "validation.record_closed"),
            ("visits[0]", "validation.role_forbids")
        ]
    );
    assert_eq!(stored_heads(&app, id), accepted);
}

#[tokio::test]
async fn changes_that_leave_the_record_as_it_was_are_rejected() {
    // Unknown keys only use up the document's size limit.
    let (code, problems, unchanged) = forge_document(|doc| {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "padding", "x".repeat(10_000))?;
            Ok(())
        })
        .expect("forged");
    })
    .await;
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(keys(&problems), [("", "validation.no_change")]);
    assert!(unchanged);
}
