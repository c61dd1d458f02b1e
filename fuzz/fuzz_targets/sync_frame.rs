//! Decoding and receiving sync frames on the server, as a connected device sends them.
//!
//! The first byte picks what the rest is: a whole WebSocket frame (decoded, and applied if
//! it is a `sync` message); the Automerge sync message of one document that is already
//! stored; or edits (offset, byte pairs) to a valid first message of a new record by the
//! device, so the fuzzer reaches Automerge's decoding and the record rules quickly. Every
//! input must end in an answer, never a panic, and the store must keep working.

#![no_main]

use std::sync::{Mutex, OnceLock};

use gatehouse_server::store::Store;
use gatehouse_server::sync::{apply_sync_batch, Limits};
use gatehouse_shared::automerge::ActorId;
use gatehouse_shared::device::DeviceEnrolment;
use gatehouse_shared::record::create_document;
use gatehouse_shared::protocol::{self, ClientMessage, DocSync};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{CheckpointVisit, DocumentId, EntryId, PatrolLog, Role, UserInfo};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_780_000_000_000;
const TOKEN_HASH: &[u8] = &[7; 32];
const LIMITS: Limits = Limits {
    max_document_bytes: 256 * 1024,
};

struct World {
    store: Store,
    /// A stored record, the target of raw sync messages.
    doc: DocumentId,
    /// A valid first sync message for a new record by the device.
    valid: Vec<u8>,
}

fn world() -> &'static Mutex<World> {
    static WORLD: OnceLock<Mutex<World>> = OnceLock::new();
    WORLD.get_or_init(|| {
        let store = Store::open(std::path::Path::new(":memory:")).expect("in-memory store");
        store.upsert_estate("estate", "Estate").expect("estate");
        let user = UserInfo {
            id: "user-guard".into(),
            username: "guard".into(),
            display_name: "Guard".into(),
            role: Role::Guard,
            estate_id: "estate".into(),
            estate_name: "Estate".into(),
            estates: Vec::new(),
        };
        store.upsert_user(&user, "not-a-hash", NOW).expect("user");
        let actor = ActorId::from([1u8; 16].as_slice());
        let enrolment =
            DeviceEnrolment::sign("guard", "dev-1", &actor.to_bytes(), &[3; 32], "fuzz");
        store
            .enrol_device("user-guard", &enrolment, NOW)
            .expect("device");
        store
            .create_session(TOKEN_HASH, "user-guard", "dev-1", NOW, i64::MAX)
            .expect("session");
        // A stored record to aim raw sync messages at.
        let mut store = store;
        let doc = DocumentId::from_random([3; 16]);
        let mut log = PatrolLog::start("estate", "user-guard", "Guard", "night", NOW - 10_000)
            .expect("valid");
        log.visits.push(
            CheckpointVisit::new(EntryId::from_random([4; 16]), "user-guard", "Gate", NOW - 5_000, "")
                .expect("valid"),
        );
        let automerge = create_document(actor, &log, NOW - 10_000).expect("document");
        let mut device = SyncSession::new();
        let first = device.generate(doc, &automerge).expect("message");
        let mut server = SyncSession::new();
        apply_sync_batch(
            &mut store,
            TOKEN_HASH,
            &mut server,
            vec![first],
            NOW,
            1,
            LIMITS,
            protocol::STORED_ANSWERS_VERSION,
        )
        .expect("store works")
        .expect("session valid");
        let mut next = log.clone();
        next.route = "day".into();
        let fresh = create_document(ActorId::from([1u8; 16].as_slice()), &next, NOW - 1_000)
            .expect("document");
        let valid = SyncSession::new()
            .generate(DocumentId::from_random([5; 16]), &fresh)
            .expect("message")
            .message;
        Mutex::new(World { store, doc, valid })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut world = world().lock().unwrap_or_else(|p| p.into_inner());
    let World { store, doc, valid } = &mut *world;
    let docs = match mode % 3 {
        0 => match protocol::decode::<ClientMessage>(rest) {
            Ok(ClientMessage::Sync { docs }) => docs,
            _ => return,
        },
        1 => vec![DocSync {
            doc: *doc,
            message: rest.to_vec(),
        }],
        _ => {
            let mut message = valid.clone();
            for edit in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % message.len();
                message[at] = edit[2];
            }
            // One fixed ID keeps runs reproducible.
            let id = DocumentId::from_bytes(&[9; 16]).expect("16 bytes");
            vec![DocSync { doc: id, message }]
        }
    };
    // A fresh sync session per input, as for a new connection.
    let mut session = SyncSession::new();
    let outcome = apply_sync_batch(
        store,
        TOKEN_HASH,
        &mut session,
        docs,
        NOW,
        2,
        LIMITS,
        protocol::STORED_ANSWERS_VERSION,
    )
    .expect("the store keeps working")
    .expect("the session stays valid");
    // Whatever came in, the server answers with exactly one sync frame's worth of replies.
    let _ = protocol::encode(&gatehouse_shared::protocol::ServerMessage::Sync {
        docs: outcome.replies,
        pushed: false,
        more: false,
    });
});
