//! Sync of many documents with one peer over one connection, sans I/O.
//!
//! Each document has its own Automerge `sync::State`. The caller hands in documents and
//! received bytes and sends whatever `generate` returns; nothing here waits for anything,
//! so the first message of every changed document goes out in the same frame.

use std::collections::HashMap;

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ReadDoc};

use crate::protocol::DocSync;
use crate::DocumentId;

/// A sync message or a persisted sync state that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("undecodable sync message: {0}")]
    Decode(#[from] automerge::sync::ReadMessageError),
    #[error("undecodable sync state: {0}")]
    State(#[from] automerge::sync::DecodeStateError),
    #[error("sync message could not be applied: {0}")]
    Apply(#[from] automerge::AutomergeError),
}

/// Most bytes of received changes a session keeps for documents that could not take them
/// yet (see [`SyncSession::receive`]); past it, more are not kept, and that document waits
/// for the next connection, where the sender sends them again.
pub const MAX_WAITING_BYTES: usize = 1024 * 1024;

/// The sync states of every document exchanged with one peer.
#[derive(Debug, Default)]
pub struct SyncSession {
    states: HashMap<DocumentId, sync::State>,
    /// Per document, received changes that could not be applied yet: a dependency had not
    /// arrived.
    waiting: HashMap<DocumentId, Vec<u8>>,
    waiting_bytes: usize,
}

impl SyncSession {
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores what a previous connection learned (the heads both sides had), so a
    /// reconnect resumes rather than starts over.
    pub fn resume(&mut self, id: DocumentId, persisted: &[u8]) -> Result<(), SyncError> {
        self.states.insert(id, sync::State::decode(persisted)?);
        Ok(())
    }

    /// The part of a document's sync state worth keeping across connections.
    pub fn persisted(&self, id: &DocumentId) -> Option<Vec<u8>> {
        self.states.get(id).map(sync::State::encode)
    }

    /// Whether this session has exchanged anything about the document.
    pub fn is_tracking(&self, id: &DocumentId) -> bool {
        self.states.contains_key(id)
    }

    /// The next message for one document, if there is anything to say.
    pub fn generate(&mut self, id: DocumentId, doc: &Automerge) -> Option<DocSync> {
        let state = self.states.entry(id).or_default();
        doc.generate_sync_message(state).map(|message| DocSync {
            doc: id,
            message: message.encode(),
        })
    }

    /// Applies a message received for one document; returns the heads the peer advertised.
    ///
    /// A change whose dependencies have not arrived yet waits in the document's queue until
    /// they do, and the peer never sends a change twice on one connection. A side that loads
    /// the document afresh for every frame (the server) would lose the queue with the frame
    /// and the document would never sync again on this connection; so the session keeps
    /// such changes and gives them back to the document with the next message for it.
    pub fn receive(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        message: &[u8],
    ) -> Result<Vec<automerge::ChangeHash>, SyncError> {
        let message = sync::Message::decode(message)?;
        let their_heads = message.heads.clone();
        let arriving: Vec<u8> = message.changes.iter().flatten().copied().collect();
        let mut waiting = self.waiting.remove(&id).unwrap_or_default();
        self.waiting_bytes -= waiting.len();
        if !waiting.is_empty() {
            // Kept only after it was read once: it loads again.
            doc.load_incremental(&waiting)?;
        }
        let state = self.states.entry(id).or_default();
        doc.receive_sync_message(state, message)?;
        if !doc.get_missing_deps(&[]).is_empty() {
            waiting.extend_from_slice(&arriving);
            if self.waiting_bytes + waiting.len() <= MAX_WAITING_BYTES {
                self.waiting_bytes += waiting.len();
                self.waiting.insert(id, waiting);
            }
        }
        Ok(their_heads)
    }

    /// Starts the sync of a document the peer holds nothing of (one this device created and
    /// the server never acknowledged) as if the peer had said so, so that the first message
    /// carries the whole document instead of asking first: a new record takes one round
    /// trip, not two. Does nothing to a document already being synced. Were the peer to
    /// hold it after all, nothing is lost: it takes what it has again and answers with its
    /// heads.
    pub fn peer_holds_nothing(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
    ) -> Result<(), SyncError> {
        if self.states.contains_key(&id) {
            return Ok(());
        }
        self.peer_holds(id, doc, Vec::new())
    }

    /// Takes the server's `stored` entry for a document as its sync message (protocol
    /// version 3, which leaves the message out when `stored` says it all): when the stored
    /// `heads` are the document's own, the server holds exactly what we hold, and the state
    /// becomes what the server's message would have made it. Nothing more is generated
    /// until the document changes, and the next change is sent alone. Heads that are not
    /// ours change nothing: the server's message for the document is on its way, or our
    /// next message will bring it one.
    pub fn stored(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        heads: &[automerge::ChangeHash],
    ) -> Result<(), SyncError> {
        let ours = doc.get_heads();
        if heads.len() != ours.len() || !heads.iter().all(|head| ours.contains(head)) {
            return Ok(());
        }
        self.peer_holds(id, doc, ours)
    }

    /// Receives the message a peer holding exactly `heads` of `doc` sends: those heads, no
    /// need, and a bloom filter over nothing since them, with the flags of a peer running
    /// this Automerge (it takes a whole document at once).
    fn peer_holds(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        heads: Vec<automerge::ChangeHash>,
    ) -> Result<(), SyncError> {
        let mut flags = sync::MessageFlags::new();
        flags.set(sync::MessageFlags::SUPPORTS_SYNC_RESET);
        let message = sync::Message {
            heads: heads.clone(),
            need: Vec::new(),
            have: vec![sync::Have {
                last_sync: heads,
                bloom: sync::BloomFilter::default(),
            }],
            changes: Vec::<Vec<u8>>::new().into(),
            flags: Some(flags),
            version: sync::MessageVersion::V2,
        };
        doc.receive_sync_message(self.states.entry(id).or_default(), message)?;
        Ok(())
    }

    /// Drops what we know of a document's sync with this peer.
    pub fn forget(&mut self, id: &DocumentId) {
        self.states.remove(id);
        if let Some(waiting) = self.waiting.remove(id) {
            self.waiting_bytes -= waiting.len();
        }
    }

    /// A copy of what this session knows of the documents `ids` (their sync states and the
    /// changes waiting for them), to go back to with [`Self::restore`].
    pub fn part(&self, ids: &[DocumentId]) -> SyncSession {
        let mut part = SyncSession::new();
        for id in ids {
            if let Some(state) = self.states.get(id) {
                part.states.insert(*id, state.clone());
            }
            if let Some(waiting) = self.waiting.get(id) {
                part.waiting_bytes += waiting.len();
                part.waiting.insert(*id, waiting.clone());
            }
        }
        part
    }

    /// Puts what this session knows of document `id` back as it is in `part` (taken with
    /// [`Self::part`]): a message for it received since is as if never received.
    pub fn restore(&mut self, id: DocumentId, part: &SyncSession) {
        self.forget(&id);
        if let Some(state) = part.states.get(&id) {
            self.states.insert(id, state.clone());
        }
        if let Some(waiting) = part.waiting.get(&id) {
            self.waiting_bytes += waiting.len();
            self.waiting.insert(id, waiting.clone());
        }
    }

    /// Whether the peer has told us it has exactly our heads.
    pub fn peer_has(&self, id: &DocumentId, doc: &Automerge) -> bool {
        self.states
            .get(id)
            .and_then(|state| state.their_heads.as_ref())
            .is_some_and(|theirs| *theirs == doc.get_heads())
    }

    /// Forgets what belongs to the connection that ended, keeping what both sides had,
    /// as Automerge requires before the next connection.
    pub fn disconnected(&mut self) {
        self.waiting.clear();
        self.waiting_bytes = 0;
        for state in self.states.values_mut() {
            *state = sync::State::decode(&state.encode()).unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_support::{entry_id, GUARD};
    use crate::record::{create_document, edit_document, read_kind};
    use crate::{CheckpointVisit, PatrolLog};
    use automerge::ActorId;

    const T0: i64 = 1_780_000_000_000;

    fn new_log() -> Automerge {
        let log =
            PatrolLog::start("estate-1", GUARD.user_id, "王保安", "night", T0).expect("valid");
        create_document(ActorId::random(), &log, T0).expect("created")
    }

    /// Adds visit `n` (entry ID `n`, at `T0 + n`) to the patrol log `id`.
    fn add_visit(doc: &mut Automerge, id: DocumentId, n: u8, checkpoint: &str) {
        let at = T0 + i64::from(n);
        edit_document(doc, id, &GUARD, at, |log: &mut PatrolLog| {
            log.visits.push(
                CheckpointVisit::new(entry_id(n), GUARD.user_id, checkpoint, at, "")
                    .expect("valid"),
            );
        })
        .expect("edits");
    }

    /// Exchanges whole batches between two sessions until both are quiet; returns the number
    /// of round trips started by `a`.
    fn exchange(
        a: &mut SyncSession,
        a_docs: &mut HashMap<DocumentId, Automerge>,
        b: &mut SyncSession,
        b_docs: &mut HashMap<DocumentId, Automerge>,
    ) -> usize {
        let mut round_trips = 0;
        loop {
            let ids: Vec<_> = a_docs.keys().copied().collect();
            let outgoing: Vec<_> = ids
                .iter()
                .filter_map(|id| a.generate(*id, &a_docs[id]))
                .collect();
            if outgoing.is_empty() {
                return round_trips;
            }
            round_trips += 1;
            for m in &outgoing {
                let doc = b_docs.entry(m.doc).or_default();
                b.receive(m.doc, doc, &m.message).expect("b receives");
            }
            let replies: Vec<_> = outgoing
                .iter()
                .filter_map(|m| b.generate(m.doc, &b_docs[&m.doc]))
                .collect();
            for m in replies {
                let doc = a_docs.get_mut(&m.doc).expect("a has it");
                a.receive(m.doc, doc, &m.message).expect("a receives");
            }
        }
    }

    /// A phone's round `id` as the server stored it, then two visits added on the phone:
    /// the phone's document, the stored bytes, and the two visits' change hashes in order.
    fn two_visits_on_a_stored_round(
        id: DocumentId,
    ) -> (Automerge, Vec<u8>, Vec<automerge::ChangeHash>) {
        let mut phone = new_log();
        let stored = phone.save();
        let mut hashes = Vec::new();
        for n in 1..=2 {
            add_visit(&mut phone, id, n, "东门");
            hashes.push(phone.get_heads()[0]);
        }
        (phone, stored, hashes)
    }

    /// A message carrying only the changes `hashes` of `doc`, as a peer sends what the
    /// other side asked for or what its bloom filter did not cover.
    fn carrying(doc: &Automerge, hashes: &[automerge::ChangeHash]) -> Vec<u8> {
        let changes: Vec<Vec<u8>> = hashes
            .iter()
            .map(|h| {
                doc.get_change_by_hash(h)
                    .expect("held")
                    .raw_bytes()
                    .to_vec()
            })
            .collect();
        sync::Message {
            heads: doc.get_heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: changes.into(),
            flags: None,
            version: sync::MessageVersion::V1,
        }
        .encode()
    }

    /// Found by the simulation (`server/tests/simulate.rs`): a phone's bloom filter answer
    /// let a change through before the one it depends on; the server, which loads the
    /// document afresh for every frame, lost the early change with its frame, and since a
    /// change is never sent twice on one connection, the document never synced again.
    #[test]
    fn a_change_that_arrives_before_its_dependency_is_kept_for_the_next_frame() {
        let id = DocumentId::from_random([7; 16]);
        let (phone, stored, hashes) = two_visits_on_a_stored_round(id);
        let mut server = SyncSession::new();
        // The later change first: it cannot be applied, and its frame's document is dropped.
        let mut doc = Automerge::load(&stored).expect("loads");
        server
            .receive(id, &mut doc, &carrying(&phone, &hashes[1..]))
            .expect("receives");
        assert!(doc.get_change_by_hash(&hashes[1]).is_none());
        // Then the one it depends on, into the document loaded again from storage.
        let mut doc = Automerge::load(&stored).expect("loads");
        server
            .receive(id, &mut doc, &carrying(&phone, &hashes[..1]))
            .expect("receives");
        assert_eq!(doc.get_heads(), phone.get_heads(), "both changes applied");
        assert_eq!(server.waiting_bytes, 0, "nothing left waiting");
    }

    /// The server judges a frame before its transaction and, should a document have
    /// changed meanwhile, again inside it: the second time starts from the session as it
    /// was before the first.
    #[test]
    fn a_document_restored_from_a_part_receives_its_message_again_as_the_first_time() {
        let (id, other) = (
            DocumentId::from_random([3; 16]),
            DocumentId::from_random([4; 16]),
        );
        let (phone, stored, hashes) = two_visits_on_a_stored_round(id);
        let mut server = SyncSession::new();
        // A change waiting for its dependency, and another document tracked.
        let mut doc = Automerge::load(&stored).expect("loads");
        server
            .receive(id, &mut doc, &carrying(&phone, &hashes[1..]))
            .expect("receives");
        let mut other_doc = new_log();
        server
            .receive(other, &mut other_doc, &carrying(&phone, &[]))
            .expect("receives");
        let before = server.part(&[id]);
        let (waiting, persisted) = (server.waiting_bytes, server.persisted(&id));
        assert!(waiting > 0 && before.waiting_bytes == waiting);
        // The dependency arrives: both changes apply, nothing waits.
        let message = carrying(&phone, &hashes[..1]);
        let mut first = Automerge::load(&stored).expect("loads");
        server.receive(id, &mut first, &message).expect("receives");
        assert_eq!(first.get_heads(), phone.get_heads());
        assert_eq!(server.waiting_bytes, 0);
        // Back to before that message, and the same message again: the same document.
        server.restore(id, &before);
        assert_eq!(
            (server.waiting_bytes, server.persisted(&id)),
            (waiting, persisted)
        );
        let mut again = Automerge::load(&stored).expect("loads");
        server.receive(id, &mut again, &message).expect("receives");
        assert_eq!(again.get_heads(), phone.get_heads());
        assert_eq!(server.waiting_bytes, 0);
        // A document the part does not hold is forgotten by restoring it.
        assert!(server.is_tracking(&other));
        server.restore(other, &before);
        assert!(!server.is_tracking(&other));
    }

    #[test]
    fn batch_of_new_documents_syncs_in_two_round_trips() {
        let mut phone_docs: HashMap<_, _> = (0..50)
            .map(|n| (DocumentId::from_random([n; 16]), new_log()))
            .collect();
        let mut server_docs = HashMap::new();
        let (mut phone, mut server) = (SyncSession::new(), SyncSession::new());
        let round_trips = exchange(&mut phone, &mut phone_docs, &mut server, &mut server_docs);
        assert_eq!(round_trips, 2);
        for (id, doc) in &phone_docs {
            assert_eq!(server_docs[id].get_heads(), doc.get_heads());
        }
    }

    #[test]
    fn reconnect_after_sync_sends_only_the_new_change() {
        let id = DocumentId::from_random([1; 16]);
        let mut phone_docs = HashMap::from([(id, new_log())]);
        let mut server_docs = HashMap::new();
        let (mut phone, mut server) = (SyncSession::new(), SyncSession::new());
        exchange(&mut phone, &mut phone_docs, &mut server, &mut server_docs);

        let persisted = phone.persisted(&id).expect("tracked");
        let mut phone = SyncSession::new();
        phone.resume(id, &persisted).expect("resumes");
        server.disconnected();
        let doc = phone_docs.get_mut(&id).expect("present");
        edit_document(doc, id, &GUARD, T0 + 5, |log: &mut PatrolLog| {
            log.visits.push(
                CheckpointVisit::new(entry_id(1), GUARD.user_id, "Gate", T0 + 5, "")
                    .expect("valid"),
            )
        })
        .expect("edit");
        exchange(&mut phone, &mut phone_docs, &mut server, &mut server_docs);
        assert_eq!(
            read_kind::<PatrolLog>(&server_docs[&id])
                .expect("reads")
                .visits
                .len(),
            1
        );
    }

    /// A record the server never had goes whole in the first message: one round trip.
    #[test]
    fn a_document_the_peer_holds_nothing_of_syncs_in_one_round_trip() {
        let mut phone_docs: HashMap<_, _> = (0..20)
            .map(|n| (DocumentId::from_random([n; 16]), new_log()))
            .collect();
        let mut phone = SyncSession::new();
        for (id, doc) in phone_docs.iter_mut() {
            phone.peer_holds_nothing(*id, doc).expect("starts");
        }
        let (mut server, mut server_docs) = (SyncSession::new(), HashMap::new());
        let round_trips = exchange(&mut phone, &mut phone_docs, &mut server, &mut server_docs);
        assert_eq!(round_trips, 1);
        for (id, doc) in &phone_docs {
            assert_eq!(server_docs[id].get_heads(), doc.get_heads());
        }
        // Were the server to hold it already, it would answer with its heads, and the
        // phone's own session, already started, is left as it is.
        let (id, doc) = phone_docs.iter_mut().next().expect("one");
        let before = phone.persisted(id);
        phone.peer_holds_nothing(*id, doc).expect("nothing to do");
        assert_eq!(phone.persisted(id), before);
        assert!(phone.peer_has(id, doc));
    }

    /// Protocol version 3: the server answers the frame that brought a document to the
    /// phone's heads with `stored` alone. The phone takes that as the server's message: it
    /// has nothing more to send, and its next change goes alone.
    #[test]
    fn a_stored_entry_at_our_heads_stands_for_the_servers_answer() {
        let id = DocumentId::from_random([9; 16]);
        let mut phone_doc = new_log();
        for n in 1..=4 {
            add_visit(&mut phone_doc, id, n, "东门");
        }
        let mut server_doc = Automerge::new();
        let (mut phone, mut server) = (SyncSession::new(), SyncSession::new());
        // Round 1: the phone's heads; the server answers that it has nothing.
        let hello = phone.generate(id, &phone_doc).expect("first message");
        server
            .receive(id, &mut server_doc, &hello.message)
            .expect("server receives");
        let answer = server.generate(id, &server_doc).expect("server answers");
        phone
            .receive(id, &mut phone_doc, &answer.message)
            .expect("phone receives");
        // Round 2: the changes; the server stores them and says only `stored`.
        let changes = phone.generate(id, &phone_doc).expect("the changes");
        server
            .receive(id, &mut server_doc, &changes.message)
            .expect("server receives");
        assert_eq!(server_doc.get_heads(), phone_doc.get_heads());
        // Heads that are not the phone's change nothing.
        phone
            .stored(id, &mut phone_doc, &Automerge::new().get_heads())
            .expect("ignored");
        assert!(!phone.peer_has(&id, &phone_doc));
        phone
            .stored(id, &mut phone_doc, &server_doc.get_heads())
            .expect("taken");
        assert!(phone.peer_has(&id, &phone_doc));
        assert!(
            phone.generate(id, &phone_doc).is_none(),
            "nothing more to say"
        );
        // The next connection starts from the stored heads, not from nothing.
        let persisted = phone.persisted(&id).expect("tracked");
        assert_eq!(
            sync::State::decode(&persisted)
                .expect("decodes")
                .shared_heads,
            server_doc.get_heads()
        );

        add_visit(&mut phone_doc, id, 9, "西门");
        let next = phone.generate(id, &phone_doc).expect("the new change");
        let decoded = sync::Message::decode(&next.message).expect("decodes");
        assert_eq!(decoded.changes.len(), 1, "only the new change is sent");
        server
            .receive(id, &mut server_doc, &next.message)
            .expect("server receives");
        assert_eq!(server_doc.get_heads(), phone_doc.get_heads());
    }

    #[test]
    fn garbage_message_is_an_error_not_a_panic() {
        let mut session = SyncSession::new();
        let mut doc = Automerge::new();
        assert!(session
            .receive(
                DocumentId::from_random([3; 16]),
                &mut doc,
                &[0x42, 0xff, 0xff]
            )
            .is_err());
        assert!(session
            .receive(DocumentId::from_random([3; 16]), &mut doc, b"")
            .is_err());
    }
}
