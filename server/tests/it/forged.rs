//! Changes that break the rules are refused with their reasons, and nothing of them is stored.

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ROOT};
use gatehouse_server::store::Store;
use gatehouse_shared::patrol_log::read_document;
use gatehouse_shared::protocol::{ErrorCode, ServerMessage};
use gatehouse_shared::{CheckpointVisit, DocumentId, PatrolLog, Problem};

use crate::device::Device;
use crate::helpers::{spawn_app, TestApp, GUARD, T0};

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
        let mut log = read_document(doc).expect("reads");
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
        log.visits
            .push(CheckpointVisit::new("Gate 1", T0 + 1, "").expect("valid"))
    });
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let accepted = stored_heads(&app, id);

    mutate(phone.docs.get_mut(&id).expect("has it"));
    phone.sync(&mut socket).await.expect("exchange completes");

    let unchanged = stored_heads(&app, id) == accepted;
    let error = phone.errors.iter().find_map(|e| match e {
        ServerMessage::Error {
            code,
            doc: Some(doc),
            problems,
            ..
        } if *doc == id => Some((*code, problems.clone())),
        _ => None,
    });
    let (code, problems) = error.expect("server refused the change");
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
        [("visits[0].checkpoint", "validation.required")]
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
