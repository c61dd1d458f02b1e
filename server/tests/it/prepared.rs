//! A frame judged on a read connection before the writer's transaction (`sync::prepare`) is
//! stored as judged only if the document and the session are still those it was judged
//! against; otherwise it is judged again inside the transaction. Tried here as the race a
//! hostile or merely unlucky pair of connections makes: something else stored between the
//! two steps.

use std::path::Path;

use gatehouse_server::auth::token_hash;
use gatehouse_server::store::Store;
use gatehouse_server::sync::{
    apply_prepared, apply_sync_batch, prepare, Applied, BatchOutcome, Limits, Prepared,
    SessionRefused,
};
use gatehouse_shared::protocol::{DocSync, ServerMessage};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{DocumentId, PatrolLog, Role, UserInfo};

use crate::device::{visit, Device};

const ESTATE: &str = "estate";
const T0: i64 = 1_780_000_000_000;
const LIMITS: Limits = Limits {
    max_document_bytes: 1024 * 1024,
};
const VERSION: u32 = gatehouse_shared::protocol::STORED_ANSWERS_VERSION;

/// A phone signed in: its device, its session's token hash, the server's sync session.
struct Phone {
    device: Device,
    hash: Vec<u8>,
    server_side: SyncSession,
}

/// The guard `user` with a phone signed in (a user may have several phones).
fn phone(store: &Store, user: &str, role: Role) -> Phone {
    let device = Device::new();
    let info = UserInfo {
        id: user.into(),
        username: user.into(),
        display_name: user.into(),
        role,
        estate_id: ESTATE.into(),
        estate_name: String::new(),
        estates: Vec::new(),
    };
    store.upsert_user(&info, "!", T0).expect("user");
    store
        .enrol_device(user, &device.enrolment(user), T0)
        .expect("enrols");
    let token = format!("{user}-{}", device.device_id);
    let hash = token_hash(&token);
    store
        .create_session(&hash, user, &device.device_id, T0, T0 + 86_400_000)
        .expect("session");
    Phone {
        device,
        hash,
        server_side: SyncSession::new(),
    }
}

fn open(dir: &Path) -> (Store, Store) {
    let path = dir.join("gatehouse.db");
    let store = Store::open(&path).expect("opens");
    store.upsert_estate(ESTATE, "Estate").expect("estate");
    (store, Store::open_reader(&path).expect("reader"))
}

fn frame(phone: &mut Phone, id: DocumentId) -> Vec<DocSync> {
    vec![phone.device.outgoing(id).expect("something to send")]
}

/// Stores a frame the way the server does without group commit, and hands the answer to
/// the phone.
fn store_now(store: &mut Store, phone: &mut Phone, docs: Vec<DocSync>, now: i64) -> BatchOutcome {
    let outcome = apply_sync_batch(
        store,
        &phone.hash,
        &mut phone.server_side,
        docs,
        now,
        1,
        LIMITS,
        VERSION,
    )
    .expect("store works")
    .expect("session valid");
    deliver(phone, &outcome);
    outcome
}

/// Stores a frame judged before, the way the writer does, and commits.
fn store_prepared(
    store: &mut Store,
    phone: &mut Phone,
    prepared: Prepared,
    now: i64,
) -> Result<Applied, SessionRefused> {
    let tx = store.begin().expect("begins");
    let applied = apply_prepared(
        &tx,
        &phone.hash,
        &mut phone.server_side,
        prepared,
        now,
        1,
        LIMITS,
    )
    .expect("store works");
    tx.commit().expect("commits");
    applied
}

fn deliver(phone: &mut Phone, outcome: &BatchOutcome) {
    phone
        .device
        .handle(ServerMessage::Stored {
            docs: outcome.stored.clone(),
        })
        .expect("stored");
    phone
        .device
        .handle(ServerMessage::Sync {
            docs: outcome.replies.clone(),
            pushed: false,
            more: false,
        })
        .expect("sync");
}

fn visits(summary: &gatehouse_shared::RecordSummary) -> u32 {
    match summary.detail {
        SummaryDetail::PatrolLog { visit_count, .. } => visit_count,
        _ => panic!("not a patrol log"),
    }
}

#[test]
fn a_frame_judged_against_a_copy_changed_meanwhile_is_judged_again_and_both_changes_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, reader) = open(dir.path());
    // One guard, two phones: each writes visits into the same round.
    let (mut a, mut b) = (
        phone(&store, "guard", Role::Guard),
        phone(&store, "guard", Role::Guard),
    );
    let id = a.device.start_round(ESTATE, "guard", "night", T0);
    let docs = frame(&mut a, id);
    store_now(&mut store, &mut a, docs, T0 + 1);
    let copy = a.device.docs[&id].fork().with_actor(b.device.actor.clone());
    b.device.docs.insert(id, copy);

    // Phone A's visit is judged against the round as stored ...
    a.device.edit(id, T0 + 2, |log: &mut PatrolLog| {
        log.visits.push(visit("guard", "东门", T0 + 2, ""));
    });
    let docs = frame(&mut a, id);
    let prepared = prepare(&reader, &a.hash, &mut a.server_side, docs, T0 + 3, LIMITS);
    // ... then phone B's visit is stored before A's frame reaches the writer.
    b.device.edit(id, T0 + 3, |log: &mut PatrolLog| {
        log.visits.push(visit("guard", "西门", T0 + 3, ""));
    });
    let docs = frame(&mut b, id);
    let by_b = store_now(&mut store, &mut b, docs, T0 + 4);
    assert_eq!(by_b.stored.len(), 1, "{by_b:?}");

    let mut applied = store_prepared(&mut store, &mut a, prepared, T0 + 5).expect("session valid");
    let changed = applied.take_changed();
    let outcome = applied.answer(&mut a.server_side, VERSION);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    // What is stored and announced holds both visits: it was judged again against the round
    // with B's visit, not stored as judged against the copy without it.
    let stored = store.load_document(&id).expect("reads").expect("stored");
    let log: PatrolLog = gatehouse_shared::record::read_kind(&stored.doc).expect("a round");
    assert_eq!(log.visits.len(), 2);
    let acknowledged: Vec<Vec<u8>> = outcome.stored[0].heads.iter().map(|h| h.to_vec()).collect();
    let held: Vec<Vec<u8>> = stored
        .doc
        .get_heads()
        .iter()
        .map(|h| h.0.to_vec())
        .collect();
    assert_eq!(acknowledged, held);
    let summary = changed[0].summary.as_ref().expect("a record");
    assert_eq!(visits(summary), 2);
    let listed = store
        .list_records(&[ESTATE.to_owned()], 10, None)
        .expect("lists");
    assert_eq!(visits(&listed[0]), 2);
    // And phone A, answered, ends with both visits and nothing left to send.
    deliver(&mut a, &outcome);
    let docs = frame(&mut a, id);
    let again = store_now(&mut store, &mut a, docs, T0 + 6);
    assert!(again.errors.is_empty());
    assert_eq!(a.device.read(id).visits.len(), 2);
}

#[test]
fn a_device_revoked_between_judging_and_storing_stores_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, reader) = open(dir.path());
    let mut a = phone(&store, "guard", Role::Guard);
    let id = a.device.start_round(ESTATE, "guard", "night", T0);
    let docs = frame(&mut a, id);
    let prepared = prepare(&reader, &a.hash, &mut a.server_side, docs, T0 + 1, LIMITS);
    assert!(store
        .revoke_device(&a.device.device_id, T0 + 2)
        .expect("revokes"));
    let applied = store_prepared(&mut store, &mut a, prepared, T0 + 3);
    assert!(applied.is_err(), "stored for a revoked device");
    assert!(store.load_document(&id).expect("reads").is_none());
}

#[test]
fn a_frame_refused_as_judged_before_is_refused_as_the_store_holds_it_now() {
    // The office's clerk may not start a patrol log: refused when judged before the
    // transaction, and the same in it (nothing changed meanwhile), nothing stored.
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, reader) = open(dir.path());
    let mut clerk = phone(&store, "clerk", Role::Office);
    let id = clerk.device.start_round(ESTATE, "clerk", "night", T0);
    let docs = frame(&mut clerk, id);
    let prepared = prepare(
        &reader,
        &clerk.hash,
        &mut clerk.server_side,
        docs,
        T0 + 1,
        LIMITS,
    );
    let applied = store_prepared(&mut store, &mut clerk, prepared, T0 + 2).expect("session valid");
    let outcome = applied.answer(&mut clerk.server_side, VERSION);
    assert_eq!(outcome.errors.len(), 1, "{outcome:?}");
    assert!(outcome.stored.is_empty());
    assert!(store.load_document(&id).expect("reads").is_none());
}

#[test]
fn a_frame_that_cannot_be_judged_before_leaves_the_session_as_it_was_and_is_judged_in_the_transaction(
) {
    // The estate's rules cannot be read while the frame is judged ahead (here: stored
    // corrupt, then mended): the message was already received into the session by then,
    // and is received again in the transaction. The session must be as before the frame,
    // or the second receipt would count the message twice.
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, reader) = open(dir.path());
    let mut a = phone(&store, "guard", Role::Guard);
    let id = a.device.start_round(ESTATE, "guard", "night", T0);
    let docs = frame(&mut a, id);
    let raw = rusqlite::Connection::open(dir.path().join("gatehouse.db")).expect("opens");
    raw.execute("UPDATE estates SET rules = 'not json'", [])
        .expect("corrupts");
    let prepared = prepare(&reader, &a.hash, &mut a.server_side, docs, T0 + 1, LIMITS);
    assert!(
        !a.server_side.is_tracking(&id),
        "the message counts as received though nothing was judged"
    );
    raw.execute("UPDATE estates SET rules = '{}'", [])
        .expect("mends");
    let applied = store_prepared(&mut store, &mut a, prepared, T0 + 2).expect("session valid");
    let outcome = applied.answer(&mut a.server_side, VERSION);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.stored.len(), 1, "{outcome:?}");
    assert!(store.load_document(&id).expect("reads").is_some());
    deliver(&mut a, &outcome);
    assert!(a.device.is_stored(id));
}
