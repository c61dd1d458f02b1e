//! The WebSocket sync endpoint.
//!
//! A device sends `hello`, then `sync` frames carrying Automerge sync messages for any number
//! of documents. The server applies one frame's messages in one database transaction, and
//! only after the commit answers with `stored` (what is now durable) and one `sync` frame
//! holding its replies (version 2: split over several when they do not fit one). Changes stored through one connection are pushed to every other
//! connection that follows the same document, and record summaries to office staff.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::Automerge;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{
    self, ClientMessage, DocSync, ErrorCode, ServerMessage, StoredDoc, MAX_DOCS_PER_MESSAGE,
    MAX_FRAME_BYTES,
};
use gatehouse_shared::record::{judge, read_record};
use gatehouse_shared::sync_session::{SyncError, SyncSession};
use gatehouse_shared::{DocumentId, Problem, RecordSummary, UserInfo, Writer};
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};

mod follow;
use crate::{now_ms, AppState};
use follow::FollowSet;

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Close code for a policy violation (RFC 6455).
const CLOSE_POLICY: u16 = 1008;
/// Close code for a message too big to process (RFC 6455).
const CLOSE_TOO_BIG: u16 = 1009;
/// How long a closing connection waits for the device's own close.
const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// What the hub tells every connection.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// A document changed.
    Changed(Box<DocChanged>),
    /// A session, device or user was ended or changed: connections check theirs again.
    AccessChanged,
}

/// A document changed on the server.
#[derive(Debug, Clone)]
pub struct DocChanged {
    pub doc: DocumentId,
    pub estate_id: String,
    pub summary: Option<RecordSummary>,
    /// The connection whose frame made the change.
    pub origin: u64,
}

/// What applying one `sync` frame produced.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Documents now durably stored, and at which heads.
    pub stored: Vec<StoredDoc>,
    /// Replies to send, one entry per document that has something to say.
    pub replies: Vec<DocSync>,
    /// Per-document refusals.
    pub errors: Vec<ServerMessage>,
    /// What to tell the other connections.
    pub changed: Vec<DocChanged>,
    /// The writer as read inside the transaction (roles and estates may have changed).
    pub user: Option<UserInfo>,
}

fn doc_error(
    code: ErrorCode,
    doc: DocumentId,
    problems: Vec<Problem>,
    changes: &[automerge::ChangeHash],
) -> ServerMessage {
    ServerMessage::Error {
        code,
        doc: Some(doc),
        fatal: false,
        supported: Vec::new(),
        problems,
        changes: changes
            .iter()
            .map(|h| serde_bytes::ByteBuf::from(h.0.to_vec()))
            .collect(),
    }
}

/// A frame that could not be used; the connection goes on.
fn malformed() -> ServerMessage {
    ServerMessage::Error {
        code: ErrorCode::Malformed,
        doc: None,
        fatal: false,
        supported: Vec::new(),
        problems: Vec::new(),
        changes: Vec::new(),
    }
}

fn fatal_error(code: ErrorCode) -> ServerMessage {
    ServerMessage::Error {
        code,
        doc: None,
        fatal: true,
        supported: protocol::SUPPORTED_VERSIONS.to_vec(),
        problems: Vec::new(),
        changes: Vec::new(),
    }
}

fn same_heads(a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]) -> bool {
    a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
}

/// Why a connection may no longer sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefused {
    /// The session expired, was signed out, or its user was revoked.
    Unauthorized,
    /// An admin revoked the device.
    DeviceRevoked,
}

impl SessionRefused {
    fn code(self) -> ErrorCode {
        match self {
            SessionRefused::Unauthorized => ErrorCode::Unauthorized,
            SessionRefused::DeviceRevoked => ErrorCode::DeviceRevoked,
        }
    }
}

/// Limits a frame's documents are held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most bytes of stored history per document.
    pub max_document_bytes: i64,
}

/// Applies one frame's sync messages for the session behind `token_hash` in a single
/// transaction. The session is checked again inside the transaction, so a device revoked or
/// signed out while connected stores nothing more.
pub fn apply_sync_batch(
    store: &mut Store,
    token_hash: &[u8],
    session: &mut SyncSession,
    docs: Vec<DocSync>,
    now: i64,
    origin: u64,
    limits: Limits,
) -> Result<Result<BatchOutcome, SessionRefused>, StoreError> {
    let mut outcome = BatchOutcome::default();
    let mut working: Vec<(DocumentId, Automerge)> = Vec::with_capacity(docs.len());
    let tx = store.begin()?;
    let writer = match tx.session(token_hash, now)? {
        None => return Ok(Err(SessionRefused::Unauthorized)),
        Some(writer) if writer.device_revoked => return Ok(Err(SessionRefused::DeviceRevoked)),
        Some(writer) => writer,
    };
    let user = &writer.user;
    let writer_estates = user.estate_ids();
    for DocSync { doc: id, message } in docs {
        let (mut doc, stored_at, stored_size) = match tx.load_document(&id)? {
            Some(stored)
                if !user.in_estate(&stored.estate_id)
                    || stored.kind.is_some_and(|kind| !user.role.reads(kind)) =>
            {
                outcome
                    .errors
                    .push(doc_error(ErrorCode::Forbidden, id, Vec::new(), &[]));
                continue;
            }
            Some(stored) => (stored.doc, Some(stored.updated_at), stored.size_bytes),
            None => (Automerge::new(), None, 0),
        };
        let before = doc.get_heads();
        let their_heads = match session.receive(id, &mut doc, &message) {
            Ok(heads) => heads,
            Err(error) => {
                tracing::debug!(%id, %error, "refused sync message");
                // Say what is wrong when it is known: one device's actor wrote two different
                // changes with the same sequence number (two tabs of one phone).
                let problems = match error {
                    SyncError::Apply(automerge::AutomergeError::DuplicateSeqNumber(..)) => {
                        vec![Problem::new("changes", keys::DUPLICATE_CHANGE)]
                    }
                    _ => Vec::new(),
                };
                outcome
                    .errors
                    .push(doc_error(ErrorCode::BadSyncMessage, id, problems, &[]));
                continue;
            }
        };
        let after = doc.get_heads();
        if after != before {
            // Check the document as it would be stored; refuse all of its new changes if it
            // breaks a rule. The working copy is dropped, so the stored heads stay as they were.
            let new_changes = doc.get_changes_meta(&before);
            let change_hashes: Vec<_> = new_changes.iter().map(|c| c.hash).collect();
            let mut problems = Vec::new();
            // Every change the server does not hold yet must be this device's own.
            for change in &new_changes {
                if change.actor.to_bytes() != writer.actor.as_slice() {
                    problems.push(Problem::new(
                        format!("changes[{}]", change.hash),
                        keys::FOREIGN_ACTOR,
                    ));
                }
            }
            let new_bytes = doc.save_after(&before);
            if stored_size.saturating_add(new_bytes.len() as i64) > limits.max_document_bytes {
                problems.push(Problem::new("", keys::DOCUMENT_TOO_LARGE));
            }
            // The stored record as it was, read only now that something changed.
            let before_record = match stored_at {
                Some(_) => doc
                    .fork_at(&before)
                    .ok()
                    .and_then(|old| read_record(&old).ok()),
                None => None,
            };
            // A stored document always held a readable record; were it not to, judging the
            // change as a new record would let anyone who starts the kind rewrite its creator.
            if stored_at.is_some() && before_record.is_none() {
                problems.push(Problem::new("", keys::NOT_A_RECORD));
            }
            let record = match read_record(&doc) {
                Ok(record) => {
                    let judged_as = Writer {
                        user_id: &user.id,
                        role: user.role,
                        estates: &writer_estates,
                        device_id: &writer.device_id,
                        device_key: &writer.public_key,
                        verify_key: gatehouse_shared::signature::ed25519_verifies,
                    };
                    if let Err(refused) =
                        judge(before_record.as_ref(), &record, &judged_as, id, now)
                    {
                        problems.extend(refused);
                    }
                    // Changes that leave the record as it was (unknown keys, values rewritten
                    // to themselves) only use up the document's size limit: refused.
                    if before_record.as_ref() == Some(&record) {
                        problems.push(Problem::new("", keys::NO_CHANGE));
                    }
                    Some(record)
                }
                // Only readable records are ever stored, and every change leaves one: a
                // change that makes a record unreadable would escape every rule.
                Err(_) => {
                    problems.push(Problem::new("", keys::NOT_A_RECORD));
                    None
                }
            };
            if !problems.is_empty() {
                let code = if problems
                    .iter()
                    .any(|p| p.key == keys::OTHER_ESTATE || p.key == keys::ROLE_FORBIDS)
                {
                    ErrorCode::Forbidden
                } else {
                    ErrorCode::Rejected
                };
                tracing::info!(%id, user = %user.username, device = %writer.device_id, ?problems, "rejected changes");
                outcome
                    .errors
                    .push(doc_error(code, id, problems, &change_hashes));
                session.forget(&id);
                continue;
            }
            let first_received_at = tx.first_received_at(&id)?.unwrap_or(now);
            let estate_id = record.as_ref().map_or_else(
                || user.estate_id.clone(),
                |record| record.header().estate_id.to_owned(),
            );
            let summary = record
                .as_ref()
                .map(|record| RecordSummary::of(id, record, first_received_at, now));
            tx.save_changes(&id, &estate_id, &doc, &new_bytes, summary.as_ref(), now)?;
            outcome.stored.push(stored_doc(id, &after, now));
            outcome.changed.push(DocChanged {
                doc: id,
                estate_id,
                summary,
                origin,
            });
        } else if let Some(updated_at) = stored_at {
            if same_heads(&their_heads, &after) {
                // The device already has everything stored; tell it again in case the
                // earlier acknowledgement was lost with its connection.
                outcome.stored.push(stored_doc(id, &after, updated_at));
            }
        }
        working.push((id, doc));
    }
    tx.commit()?;
    for (id, doc) in &working {
        outcome.replies.extend(session.generate(*id, doc));
    }
    outcome.user = Some(writer.user);
    Ok(Ok(outcome))
}

fn stored_doc(doc: DocumentId, heads: &[automerge::ChangeHash], received_at: i64) -> StoredDoc {
    StoredDoc {
        doc,
        heads: heads
            .iter()
            .map(|h| serde_bytes::ByteBuf::from(h.0.to_vec()))
            .collect(),
        received_at,
    }
}

async fn send(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    message: &ServerMessage,
) -> bool {
    socket
        .send(Message::Binary(protocol::encode(message).into()))
        .await
        .is_ok()
}

async fn close(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    reason: &'static str,
) {
    close_with(socket, CLOSE_POLICY, reason).await;
}

async fn close_with(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &'static str,
) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Closes with `code`, then reads and drops what the device still sends until it closes too
/// (a few seconds at most): a socket dropped with unread data is reset, and the device would
/// see 1006 instead of `code`.
async fn close_and_drain(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    code: u16,
    reason: &'static str,
) {
    close_with(sink, code, reason).await;
    let drained = async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_LINGER, drained).await;
}

/// A sync frame names each document once; one naming a document twice is malformed (which
/// of the two would count?), and nothing of it is stored.
fn names_a_document_twice(docs: &[DocSync]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(docs.len());
    docs.iter().any(|doc| !seen.insert(doc.doc))
}

/// Runs blocking store work off the async threads.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&mut Store) -> T + Send + 'static,
) -> Option<T> {
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut guard)
    })
    .await;
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "store task failed");
            None
        }
    }
}

/// Who a connection belongs to.
struct Peer {
    /// The protocol version both sides speak.
    version: u32,
    token_hash: Vec<u8>,
    user: UserInfo,
    device_id: String,
}

/// Checks a session again; `Err` says why the connection must end.
async fn recheck(state: &AppState, token_hash: &[u8]) -> Result<UserInfo, ErrorCode> {
    let hash = token_hash.to_vec();
    match with_store(state, move |store| store.session(&hash, now_ms())).await {
        Some(Ok(Some(session))) if session.device_revoked => Err(ErrorCode::DeviceRevoked),
        Some(Ok(Some(session))) => Ok(session.user),
        Some(Err(error)) => {
            tracing::error!(%error, "session lookup failed");
            Err(ErrorCode::Internal)
        }
        _ => Err(ErrorCode::Unauthorized),
    }
}

/// Waits for the hello and checks version, session and device.
async fn handshake(
    state: &AppState,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<Peer, ServerMessage> {
    let frame = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => bytes,
        _ => return Err(fatal_error(ErrorCode::Malformed)),
    };
    let Ok(ClientMessage::Hello { versions, token }) = protocol::decode::<ClientMessage>(&frame)
    else {
        return Err(fatal_error(ErrorCode::Malformed));
    };
    let Some(version) = protocol::negotiate(&versions) else {
        return Err(fatal_error(ErrorCode::UnsupportedVersion));
    };
    let hash = crate::auth::token_hash(&token);
    let lookup = hash.clone();
    let found = with_store(state, move |store| {
        let session = store.session(&lookup, now_ms())?;
        if let Some(session) = session.as_ref().filter(|s| !s.device_revoked) {
            store.touch_device(&session.device_id, now_ms())?;
        }
        Ok::<_, StoreError>(session)
    })
    .await;
    match found {
        Some(Ok(Some(session))) if session.device_revoked => {
            Err(fatal_error(ErrorCode::DeviceRevoked))
        }
        Some(Ok(Some(session))) => Ok(Peer {
            version,
            token_hash: hash,
            user: session.user,
            device_id: session.device_id,
        }),
        Some(Err(error)) => {
            tracing::error!(%error, "session lookup failed");
            Err(fatal_error(ErrorCode::Internal))
        }
        _ => Err(fatal_error(ErrorCode::Unauthorized)),
    }
}

/// Serves one device's WebSocket until it closes.
pub async fn serve_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let Peer {
        version,
        token_hash,
        mut user,
        device_id,
    } = match handshake(&state, &mut stream).await {
        Ok(peer) => peer,
        Err(refusal) => {
            send(&mut sink, &refusal).await;
            close(&mut sink, "refused").await;
            return;
        }
    };
    if !send(
        &mut sink,
        &ServerMessage::Welcome {
            version,
            server_time: now_ms(),
        },
    )
    .await
    {
        return;
    }
    let origin = state.next_connection.fetch_add(1, Ordering::Relaxed);
    // Subscribed before the follow set is read, so no document stored in between is missed.
    let mut events = state.hub.subscribe();
    let mut follows = FollowSet::new(version);
    if !send_follow_set(&state, &mut sink, &mut follows, &user).await {
        return;
    }
    let mut session = Some(SyncSession::new());
    let limits = Limits {
        max_document_bytes: state.config.max_document_bytes,
    };
    tracing::info!(user = %user.username, device = %device_id, origin, "device connected");
    // An open connection checks its session again now and then, so an expiry, or a
    // revocation made by another process (`gatehouse-server admin`), ends it even while it
    // only listens.
    let mut recheck_timer = tokio::time::interval(Duration::from_secs(
        state.config.session_recheck_secs.max(1),
    ));
    recheck_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the handshake has just checked.
    recheck_timer.tick().await;
    loop {
        tokio::select! {
            _ = recheck_timer.tick() => {
                match recheck(&state, &token_hash).await {
                    Ok(current) => {
                        user = current;
                        if follows.is_stale(&user) && !send_follow_set(&state, &mut sink, &mut follows, &user).await { break }
                    }
                    Err(code) => {
                        end_session(&mut sink, code, &user.username, &device_id).await;
                        break;
                    }
                }
            }
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(Message::Binary(bytes))) if bytes.len() > MAX_FRAME_BYTES => {
                        close_and_drain(&mut sink, &mut stream, CLOSE_TOO_BIG, "message too big").await;
                        break;
                    }
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Text(_))) => {
                        if !send(&mut sink, &malformed()).await { break }
                        continue;
                    }
                    Some(Err(error)) => {
                        // A message past the size limit: say so with the protocol's close code.
                        if is_capacity_error(&error) {
                            close_with(&mut sink, CLOSE_TOO_BIG, "message too big").await;
                        }
                        break;
                    }
                    _ => break,
                };
                let message = match protocol::decode::<ClientMessage>(&bytes) {
                    Ok(message) => message,
                    Err(_) => {
                        if !send(&mut sink, &malformed()).await { break }
                        continue;
                    }
                };
                match message {
                    ClientMessage::Ping { nonce } => {
                        if !send(&mut sink, &ServerMessage::Pong { nonce }).await { break }
                    }
                    ClientMessage::Hello { .. } => {
                        if !send(&mut sink, &malformed()).await { break }
                    }
                    ClientMessage::Sync { docs } if docs.len() > MAX_DOCS_PER_MESSAGE || names_a_document_twice(&docs) => {
                        if !send(&mut sink, &malformed()).await { break }
                    }
                    ClientMessage::Sync { docs } => {
                        let Some(mut owned) = session.take() else { break };
                        let hash = token_hash.clone();
                        let result = with_store(&state, move |store| {
                            let outcome = apply_sync_batch(store, &hash, &mut owned, docs, now_ms(), origin, limits);
                            (owned, outcome)
                        }).await;
                        let Some((owned, outcome)) = result else { break };
                        session = Some(owned);
                        let outcome = match outcome {
                            Ok(Ok(outcome)) => outcome,
                            Ok(Err(refused)) => {
                                end_session(&mut sink, refused.code(), &user.username, &device_id).await;
                                break;
                            }
                            Err(error) => {
                                tracing::error!(%error, "storing a sync batch failed");
                                send(&mut sink, &fatal_error(ErrorCode::Internal)).await;
                                break;
                            }
                        };
                        if let Some(current) = outcome.user.clone() {
                            user = current;
                        }
                        if !deliver_outcome(&state, &mut sink, outcome, version).await { break }
                    }
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "connection fell behind on change events");
                        // A document may have joined the follow set meanwhile: send it whole.
                        if !send_follow_set(&state, &mut sink, &mut follows, &user).await { break }
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                let changed = match event {
                    HubEvent::AccessChanged => {
                        match recheck(&state, &token_hash).await {
                            Ok(current) => {
                                user = current;
                                if follows.is_stale(&user) && !send_follow_set(&state, &mut sink, &mut follows, &user).await { break }
                                continue;
                            }
                            Err(code) => {
                                end_session(&mut sink, code, &user.username, &device_id).await;
                                break;
                            }
                        }
                    }
                    HubEvent::Changed(changed) => *changed,
                };
                // Nothing of another estate, or of a kind the role does not work with, is
                // ever sent.
                if !user.in_estate(&changed.estate_id)
                    || changed
                        .summary
                        .as_ref()
                        .is_some_and(|summary| !user.role.reads(summary.kind))
                {
                    continue;
                }
                if let Some(addition) = follows.addition(&user, &changed) {
                    if !send(&mut sink, &addition).await { break }
                }
                if user.role.lists_records() {
                    if let Some(summary) = changed.summary.clone() {
                        if !send(&mut sink, &ServerMessage::Records { records: vec![summary] }).await { break }
                    }
                }
                let follows = session.as_ref().is_some_and(|s| s.is_tracking(&changed.doc));
                if changed.origin != origin && follows {
                    let id = changed.doc;
                    let loaded = with_store(&state, move |store| store.load_document(&id)).await;
                    if let (Some(Ok(Some(stored))), Some(session)) = (loaded, session.as_mut()) {
                        if let Some(reply) = session.generate(id, &stored.doc) {
                            if !send(&mut sink, &ServerMessage::Sync { docs: vec![reply], pushed: true, more: false }).await { break }
                        }
                    }
                }
            }
        }
    }
    tracing::info!(user = %user.username, device = %device_id, origin, "device disconnected");
}

/// Tells the device why its session ended and closes the socket.
async fn end_session(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: ErrorCode,
    username: &str,
    device_id: &str,
) {
    tracing::info!(user = %username, device = %device_id, ?code, "closing: session no longer valid");
    send(sink, &fatal_error(code)).await;
    close(sink, "session ended").await;
}

/// Whether a socket error is tungstenite's message-size limit (its `CapacityError`, which
/// axum passes on only as text).
fn is_capacity_error(error: &axum::Error) -> bool {
    error.to_string().contains("Space limit exceeded")
}

/// Sends a batch's results in protocol order and announces its changes.
async fn deliver_outcome(
    state: &AppState,
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    outcome: BatchOutcome,
    version: u32,
) -> bool {
    for error in &outcome.errors {
        if !send(sink, error).await {
            return false;
        }
    }
    if !outcome.stored.is_empty()
        && !send(
            sink,
            &ServerMessage::Stored {
                docs: outcome.stored,
            },
        )
        .await
    {
        return false;
    }
    for changed in outcome.changed {
        // No receivers is fine: nobody else is connected.
        let _ = state.hub.send(HubEvent::Changed(Box::new(changed)));
    }
    // Version 1 promised exactly one reply frame; version 2 splits one that would not fit.
    let frames = if version >= protocol::FOLLOW_SET_VERSION {
        split_reply(outcome.replies)
    } else {
        vec![outcome.replies]
    };
    let last = frames.len().saturating_sub(1);
    for (index, docs) in frames.into_iter().enumerate() {
        let reply = ServerMessage::Sync {
            docs,
            pushed: false,
            more: index < last,
        };
        if !send(sink, &reply).await {
            return false;
        }
    }
    true
}

/// Room in one frame for the documents' messages (the rest is CBOR framing, a few bytes per
/// document).
const REPLY_BUDGET_BYTES: usize = MAX_FRAME_BYTES - 64 * 1024;

/// A reply as frames that each fit `MAX_FRAME_BYTES` uncompressed (always at least one).
fn split_reply(replies: Vec<DocSync>) -> Vec<Vec<DocSync>> {
    let mut frames = vec![Vec::new()];
    let mut size = 0;
    for reply in replies {
        let bytes = reply.message.len() + 32;
        let current = frames.last().map_or(0, Vec::len);
        if current > 0 && (size + bytes > REPLY_BUDGET_BYTES || current >= MAX_DOCS_PER_MESSAGE) {
            frames.push(Vec::new());
            size = 0;
        }
        size += bytes;
        if let Some(frame) = frames.last_mut() {
            frame.push(reply);
        }
    }
    frames
}

/// Computes the connection's whole follow set and sends it (nothing for a version 1 device).
async fn send_follow_set(
    state: &AppState,
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    follows: &mut FollowSet,
    user: &UserInfo,
) -> bool {
    let mut owned = std::mem::replace(follows, FollowSet::new(0));
    let for_user = user.clone();
    let Some((owned, message)) = with_store(state, move |store| {
        let message = owned.complete(store, &for_user);
        (owned, message)
    })
    .await
    else {
        return false;
    };
    *follows = owned;
    match message {
        Ok(Some(message)) => send(sink, &message).await,
        Ok(None) => true,
        Err(error) => {
            tracing::error!(%error, "reading the follow set failed");
            send(sink, &fatal_error(ErrorCode::Internal)).await;
            false
        }
    }
}
