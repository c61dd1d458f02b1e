//! Sync of many documents with one peer over one connection, sans I/O.
//!
//! Each document has its own Automerge `sync::State`. The caller hands in documents and
//! received bytes and sends whatever `generate` returns; nothing here waits for anything,
//! so the first message of every changed document goes out in the same frame.

use std::collections::HashMap;

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;

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

/// The sync states of every document exchanged with one peer.
#[derive(Debug, Default)]
pub struct SyncSession {
    states: HashMap<DocumentId, sync::State>,
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
    pub fn receive(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        message: &[u8],
    ) -> Result<Vec<automerge::ChangeHash>, SyncError> {
        let message = sync::Message::decode(message)?;
        let their_heads = message.heads.clone();
        let state = self.states.entry(id).or_default();
        doc.receive_sync_message(state, message)?;
        Ok(their_heads)
    }

    /// Drops what we know of a document's sync with this peer.
    pub fn forget(&mut self, id: &DocumentId) {
        self.states.remove(id);
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
