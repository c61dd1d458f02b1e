//! A device for tests and benchmarks: holds record documents like a phone does and syncs
//! them with a real server over a loopback WebSocket, counting round trips and bytes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;

use anyhow::{bail, Context};
use automerge::{ActorId, Automerge};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::device::DeviceEnrolment;
use gatehouse_shared::protocol::{
    self, ClientMessage, DocSync, ErrorCode, ServerMessage, StoredDoc,
};
use gatehouse_shared::record::{create_document, read_kind, write_document, Kind};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{CheckpointVisit, DocumentId, EntryId, PatrolLog, Remark};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What one sync exchange cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    pub round_trips: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// A phone: its documents and its sync state with the server.
pub struct Device {
    /// The identity the device enrols with when it signs in.
    pub device_id: String,
    pub seed: [u8; 32],
    pub actor: ActorId,
    pub docs: HashMap<DocumentId, Automerge>,
    pub session: SyncSession,
    /// The latest acknowledgement per document.
    pub stored: HashMap<DocumentId, StoredDoc>,
    /// Errors the server sent.
    pub errors: Vec<ServerMessage>,
    /// Documents the server said this device follows.
    pub followed: std::collections::HashSet<DocumentId>,
    /// Every frame received, as sent (for tests that inspect the bytes).
    pub frames: Vec<Vec<u8>>,
    pub traffic: Traffic,
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

impl Device {
    pub fn new() -> Self {
        Self {
            device_id: format!("test-{}", uuid::Uuid::new_v4()),
            seed: rand::random(),
            actor: ActorId::random(),
            docs: HashMap::new(),
            session: SyncSession::new(),
            stored: HashMap::new(),
            errors: Vec::new(),
            followed: std::collections::HashSet::new(),
            frames: Vec::new(),
            traffic: Traffic::default(),
        }
    }

    /// What the device sends with a sign-in for `username`.
    pub fn enrolment(&self, username: &str) -> DeviceEnrolment {
        DeviceEnrolment::sign(
            username,
            &self.device_id,
            self.actor.to_bytes(),
            &self.seed,
            "test device",
        )
    }

    /// Writes a new patrol log on the device (no network involved).
    pub fn start_round(
        &mut self,
        estate_id: &str,
        user_id: &str,
        route: &str,
        now: i64,
    ) -> DocumentId {
        let log = PatrolLog::start(estate_id, user_id, "王保安", route, now).expect("valid round");
        let doc = create_document(self.actor.clone(), &log, now).expect("document");
        let id = DocumentId::from_random(rand::random());
        self.docs.insert(id, doc);
        id
    }

    /// Starts following a document the device does not have yet (the office opening a record).
    pub fn follow(&mut self, id: DocumentId) {
        self.docs
            .entry(id)
            .or_insert_with(|| Automerge::new().with_actor(self.actor.clone()));
    }

    /// Writes a new record of any kind on the device (no network involved).
    pub fn start<K: Kind>(&mut self, record: &K, now: i64) -> DocumentId {
        let doc = create_document(self.actor.clone(), record, now).expect("document");
        let id = DocumentId::from_random(rand::random());
        self.docs.insert(id, doc);
        id
    }

    /// Changes a record as a raw client may: only the record's own shape is checked here,
    /// never the change rules, so tests can send what the server must judge.
    pub fn edit_kind<K: Kind>(&mut self, id: DocumentId, now: i64, edit: impl FnOnce(&mut K)) {
        let doc = self.docs.get_mut(&id).expect("device has the document");
        let mut record: K = read_kind(doc).expect("readable record");
        edit(&mut record);
        write_document(doc, &record, now).expect("edit applies");
    }

    /// Changes a record as a hostile client may: not even the record's own shape is checked.
    pub fn edit_raw<K: Kind>(&mut self, id: DocumentId, now: i64, edit: impl FnOnce(&mut K)) {
        let doc = self.docs.get_mut(&id).expect("device has the document");
        let mut record: K = read_kind(doc).expect("readable record");
        edit(&mut record);
        doc.transact_with::<_, _, autosurgeon::ReconcileError, _>(
            |_| automerge::transaction::CommitOptions::default().with_time(now),
            |tx| autosurgeon::reconcile(tx, &record),
        )
        .expect("edit applies");
    }

    /// Changes a patrol log the same way.
    pub fn edit(&mut self, id: DocumentId, now: i64, edit: impl FnOnce(&mut PatrolLog)) {
        self.edit_kind(id, now, edit);
    }

    /// The record of kind `K`, if the device holds a readable one.
    pub fn read_kind_opt<K: Kind>(&self, id: DocumentId) -> Option<K> {
        self.docs.get(&id).and_then(|doc| read_kind(doc).ok())
    }

    pub fn read_kind<K: Kind>(&self, id: DocumentId) -> K {
        read_kind(&self.docs[&id]).expect("readable record")
    }

    /// The patrol log, if the device holds a readable one.
    pub fn read_opt(&self, id: DocumentId) -> Option<PatrolLog> {
        self.read_kind_opt(id)
    }

    pub fn read(&self, id: DocumentId) -> PatrolLog {
        self.read_kind(id)
    }

    /// Opens the sync socket and says hello with `token`; returns the server's first answer.
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
        versions: &[u32],
    ) -> anyhow::Result<(Socket, ServerMessage)> {
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/api/sync")).await?;
        let hello = ClientMessage::Hello {
            versions: versions.to_vec(),
            token: token.to_owned(),
        };
        socket
            .send(Message::Binary(protocol::encode(&hello).into()))
            .await?;
        let answer = next_message(&mut socket)
            .await?
            .context("closed before answering hello")?;
        Ok((socket, answer))
    }

    /// Connects with the newest version and expects a welcome, then the complete follow set
    /// (which it drops: see `connect_following`).
    pub async fn connect_ok(addr: SocketAddr, token: &str) -> anyhow::Result<Socket> {
        let (socket, _) = Self::connect_with_follows(addr, token).await?;
        Ok(socket)
    }

    /// Connects with the newest version: the socket and the follow set sent after `welcome`.
    pub async fn connect_with_follows(
        addr: SocketAddr,
        token: &str,
    ) -> anyhow::Result<(Socket, Vec<DocumentId>)> {
        let (mut socket, answer) = Self::connect(addr, token, protocol::SUPPORTED_VERSIONS).await?;
        if !matches!(answer, ServerMessage::Welcome { .. }) {
            bail!("expected welcome, got {answer:?}");
        }
        match next_message(&mut socket).await? {
            Some(ServerMessage::Follows {
                docs,
                complete: true,
            }) => Ok((socket, docs)),
            other => bail!("expected the follow set, got {other:?}"),
        }
    }

    /// Connects as a phone does: follows what the server says, holding an empty document
    /// for each followed one it does not have yet, so that `sync` fetches it.
    pub async fn connect_following(
        &mut self,
        addr: SocketAddr,
        token: &str,
    ) -> anyhow::Result<Socket> {
        let (socket, docs) = Self::connect_with_follows(addr, token).await?;
        self.follow_all(&docs);
        Ok(socket)
    }

    /// Adds documents the server says the device follows.
    pub fn follow_all(&mut self, docs: &[DocumentId]) {
        for id in docs {
            self.followed.insert(*id);
            self.follow(*id);
        }
    }

    /// Syncs every document until neither side has anything to say. Each round trip sends
    /// one frame holding the messages of all documents and waits for the server's one reply.
    pub async fn sync(&mut self, socket: &mut Socket) -> anyhow::Result<Traffic> {
        let ids: Vec<_> = self.docs.keys().copied().collect();
        self.sync_documents(socket, &ids).await
    }

    /// Syncs only `ids`, the same way.
    pub async fn sync_documents(
        &mut self,
        socket: &mut Socket,
        ids: &[DocumentId],
    ) -> anyhow::Result<Traffic> {
        let start = self.traffic;
        loop {
            let outgoing: Vec<_> = ids.iter().filter_map(|id| self.outgoing(*id)).collect();
            if outgoing.is_empty() {
                break;
            }
            let frame = protocol::encode(&ClientMessage::Sync { docs: outgoing });
            self.traffic.bytes_up += frame.len() as u64;
            self.traffic.round_trips += 1;
            socket.send(Message::Binary(frame.into())).await?;
            loop {
                let Some((message, frame)) = next_frame(socket).await? else {
                    bail!("server closed the socket")
                };
                self.traffic.bytes_down += frame.len() as u64;
                self.frames.push(frame);
                if self.handle(message)? {
                    break;
                }
            }
        }
        Ok(Traffic {
            round_trips: self.traffic.round_trips - start.round_trips,
            bytes_up: self.traffic.bytes_up - start.bytes_up,
            bytes_down: self.traffic.bytes_down - start.bytes_down,
        })
    }

    /// The next message for one document, as the app makes it: a document of its own the
    /// server never acknowledged starts as one the server holds nothing of, and goes whole.
    pub fn outgoing(&mut self, id: DocumentId) -> Option<DocSync> {
        let doc = self.docs.get_mut(&id)?;
        if !self.stored.contains_key(&id) && !doc.get_heads().is_empty() {
            self.session
                .peer_holds_nothing(id, doc)
                .expect("a document of its own starts");
        }
        self.session.generate(id, &self.docs[&id])
    }

    /// Applies one server message; true when it was the `sync` reply that ends the answer to
    /// a frame (a pushed `sync` is applied but ends nothing).
    pub fn handle(&mut self, message: ServerMessage) -> anyhow::Result<bool> {
        match message {
            ServerMessage::Sync { docs, pushed, more } => {
                for entry in docs {
                    let doc = self.docs.entry(entry.doc).or_default();
                    self.session.receive(entry.doc, doc, &entry.message)?;
                }
                Ok(!pushed && !more)
            }
            ServerMessage::Follows { docs, .. } => {
                self.follow_all(&docs);
                Ok(false)
            }
            ServerMessage::Stored { docs } => {
                for stored in docs {
                    // Version 3 leaves out the sync message this entry stands for.
                    if let Some(doc) = self.docs.get_mut(&stored.doc) {
                        self.session
                            .stored(stored.doc, doc, &stored_heads(&stored))?;
                    }
                    self.stored.insert(stored.doc, stored);
                }
                Ok(false)
            }
            error @ ServerMessage::Error { fatal: true, .. } => {
                bail!("fatal error from server: {error:?}")
            }
            error @ ServerMessage::Error { .. } => {
                self.errors.push(error);
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// The server's refusal of document `id`, if it refused it: the code and every problem.
    pub fn refusal(&self, id: DocumentId) -> Option<(ErrorCode, Vec<gatehouse_shared::Problem>)> {
        self.errors.iter().find_map(|e| match e {
            ServerMessage::Error {
                code,
                doc: Some(doc),
                problems,
                ..
            } if *doc == id => Some((*code, problems.clone())),
            _ => None,
        })
    }

    /// Whether the server acknowledged the document at its current heads.
    pub fn is_stored(&self, id: DocumentId) -> bool {
        let heads: Vec<Vec<u8>> = self.docs[&id]
            .get_heads()
            .iter()
            .map(|h| h.0.to_vec())
            .collect();
        self.stored.get(&id).is_some_and(|s| {
            let mut acked: Vec<Vec<u8>> = s.heads.iter().map(|h| h.to_vec()).collect();
            let mut ours = heads.clone();
            acked.sort();
            ours.sort();
            acked == ours
        })
    }
}

/// The heads of a `stored` entry (a malformed hash is left out: the server sends none).
pub fn stored_heads(stored: &StoredDoc) -> Vec<automerge::ChangeHash> {
    stored
        .heads
        .iter()
        .filter_map(|h| automerge::ChangeHash::try_from(h.as_slice()).ok())
        .collect()
}

/// A fresh entry ID.
pub fn entry_id() -> EntryId {
    EntryId::from_random(rand::random())
}

/// A visit by `author`.
pub fn visit(author: &str, checkpoint: &str, at: i64, note: &str) -> CheckpointVisit {
    CheckpointVisit::new(entry_id(), author, checkpoint, at, note).expect("valid visit")
}

/// A remark by `author`.
pub fn remark(author: &str, text: &str, at: i64) -> Remark {
    Remark::new(entry_id(), text, author, "李客服", at).expect("valid remark")
}

/// Whether `message` is a fatal error with code `expected`.
pub fn is_fatal(message: &ServerMessage, expected: ErrorCode) -> bool {
    matches!(message, ServerMessage::Error { code, fatal: true, .. } if *code == expected)
}

/// Connects with `token` and asserts the hello is refused with a fatal `code`.
pub async fn assert_hello_refused(addr: SocketAddr, token: &str, code: ErrorCode) {
    let (_, answer) = Device::connect(addr, token, protocol::SUPPORTED_VERSIONS)
        .await
        .expect("answers");
    assert!(is_fatal(&answer, code), "expected {code:?}, got {answer:?}");
}

/// Asserts the server ends an open connection with a fatal `code` within `seconds`.
pub async fn assert_told(socket: &mut Socket, code: ErrorCode, seconds: u64) {
    let told = tokio::time::timeout(
        std::time::Duration::from_secs(seconds),
        next_message(socket),
    )
    .await
    .expect("told in time")
    .expect("reads");
    assert!(
        told.as_ref().is_some_and(|m| is_fatal(m, code)),
        "expected {code:?}, got {told:?}"
    );
}

/// The next decoded server message, or `None` when the socket closed.
pub async fn next_message(socket: &mut Socket) -> anyhow::Result<Option<ServerMessage>> {
    Ok(next_frame(socket).await?.map(|(m, _)| m))
}

async fn next_frame(socket: &mut Socket) -> anyhow::Result<Option<(ServerMessage, Vec<u8>)>> {
    while let Some(frame) = socket.next().await {
        match frame? {
            Message::Binary(bytes) => return Ok(Some((protocol::decode(&bytes)?, bytes.to_vec()))),
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
    Ok(None)
}
