//! The WebSocket sync endpoint.
//!
//! A device sends `hello`, then `sync` frames carrying Automerge sync messages for any number
//! of documents. The server applies one frame's messages in one database transaction, and
//! only after the commit answers with `stored` (what is now durable) and one `sync` frame
//! holding its replies (version 2: split over several when they do not fit one; version 3:
//! without the messages that `stored` stands for). Changes stored through one connection are
//! pushed to every other connection that follows the same document, and record summaries to
//! office staff.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::protocol::{
    self, ClientMessage, DocSync, ErrorCode, ServerMessage, MAX_DOCS_PER_MESSAGE, MAX_FRAME_BYTES,
};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{DocumentId, RecordSummary, UserInfo};
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};

mod batch;
mod follow;
mod group_commit;
mod router;
mod store_frame;
use crate::{now_ms, AppState};
pub use batch::{
    apply_in, apply_prepared, apply_sync_batch, prepare, Applied, BatchOutcome, Limits, Prepared,
    SessionRefused,
};
use follow::{FollowSet, FollowUpdate};
pub use group_commit::{GroupWriter, WriteError};
pub use router::{Router, Subscription};
use store_frame::store_frame;

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Close code for a policy violation (RFC 6455).
const CLOSE_POLICY: u16 = 1008;
/// Close code for a message too big to process (RFC 6455).
const CLOSE_TOO_BIG: u16 = 1009;
/// WebSocket close code "service restart": the server is stopping; reconnect later.
const CLOSE_RESTARTING: u16 = 1012;
/// How long a closing connection waits for the device's own close.
const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// What the hub tells every connection (stored changes go through the [`Router`] instead,
/// to the connections they concern).
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// A session, device or user was ended or changed: connections check theirs again.
    AccessChanged,
    /// An estate's retention or rule settings changed: connections in it send their follow
    /// set again (on which phones read the estate's settings again).
    RetentionChanged(String),
    /// The server is stopping: every connection tells its device and ends.
    ShuttingDown,
}

/// A document changed on the server.
#[derive(Debug, Clone)]
pub struct DocChanged {
    pub doc: DocumentId,
    pub estate_id: String,
    pub summary: Option<RecordSummary>,
    /// Until when devices that follow it keep it (its estate's retention after it was done
    /// with); `None`: for as long as it exists.
    pub followed_until: Option<i64>,
    /// The connection whose frame made the change.
    pub origin: u64,
}

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
    match state.with_store(work).await {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "store task failed");
            None
        }
    }
}

/// Runs blocking store work that only reads, on a read connection when there are some.
async fn read_store<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Store) -> T + Send + 'static,
) -> Option<T> {
    match state.sync_read(work).await {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "store task failed");
            None
        }
    }
}

/// One of the server's sync connections (`Config::max_connections`), given back when
/// dropped.
pub struct ConnectionSlot(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ConnectionSlot {
    /// A slot, if the server has fewer connections than its limit.
    pub fn take(state: &AppState) -> Option<Self> {
        let open = state.open_connections.clone();
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < state.config.max_connections).then_some(n + 1)
        })
        .ok()
        .map(|_| Self(open))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
    match read_store(state, move |store| store.session(&hash, now_ms())).await {
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
    // With a group writer, the session is read on a read connection and the device marked
    // as seen through the writer: a write on the shared connection would wait for the
    // writer's lock while holding every reader up.
    let found = if state.writer.is_some() {
        read_store(state, move |store| store.session(&lookup, now_ms())).await
    } else {
        with_store(state, move |store| {
            let session = store.session(&lookup, now_ms())?;
            if let Some(session) = session.as_ref().filter(|s| !s.device_revoked) {
                store.touch_device(&session.device_id, now_ms())?;
            }
            Ok::<_, StoreError>(session)
        })
        .await
    };
    // Not waited for: the hello does not queue behind the frames the writer has.
    if let (Some(writer), Some(Ok(Some(session)))) = (state.writer.clone(), &found) {
        let device = session.device_id.clone();
        tokio::spawn(async move {
            let seen = writer
                .write(move |tx| {
                    let seen = tx.touch_device(&device, now_ms());
                    let keep = seen.is_ok();
                    (seen, keep)
                })
                .await;
            match seen {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "marking the device as seen failed"),
                Err(error) => tracing::warn!(%error, "marking the device as seen failed"),
            }
        });
    }
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
            state.metrics.refused(std::slice::from_ref(&refusal));
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
    let mut changes = state.router.subscribe(origin, &user);
    let mut follows = FollowSet::new(version);
    if !send_follow_set(&state, origin, &mut sink, &mut follows, &user, None).await {
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
                        state.router.set_user(origin, &user);
                        if follows.is_stale(&user) && !send_follow_set(&state, origin, &mut sink, &mut follows, &user, session.as_mut()).await { break }
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
                    Some(Ok(Message::Close(_))) => {
                        // The WebSocket layer has queued its answer to the device's close
                        // frame; sending it finishes the closing handshake (dropped unsent,
                        // the device would see 1006).
                        let _ = sink.close().await;
                        break;
                    }
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
                        state.metrics.frame();
                        // Changes to these documents concern this connection from now on.
                        state.router.watch(origin, docs.iter().map(|d| d.doc));
                        let Some(owned) = session.take() else { break };
                        let Some((owned, outcome)) = store_frame(&state, token_hash.clone(), owned, docs, origin, limits, version).await else { break };
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
                            state.router.set_user(origin, &user);
                        }
                        if !deliver_outcome(&state, &mut sink, outcome, version).await { break }
                    }
                }
            }
            event = events.recv() => {
                match event {
                    // Access changed, or such events were missed (they are rare; the session
                    // recheck would catch up within its period anyway).
                    Ok(HubEvent::AccessChanged) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        // A missed event may have been a retention change: the whole set
                        // goes again then.
                        let missed = event.is_err();
                        match recheck(&state, &token_hash).await {
                            Ok(current) => {
                                user = current;
                                state.router.set_user(origin, &user);
                                if (missed || follows.is_stale(&user)) && !send_follow_set(&state, origin, &mut sink, &mut follows, &user, session.as_mut()).await { break }
                            }
                            Err(code) => {
                                end_session(&mut sink, code, &user.username, &device_id).await;
                                break;
                            }
                        }
                    }
                    Ok(HubEvent::RetentionChanged(estate_id)) => {
                        if user.in_estate(&estate_id) && !send_follow_set(&state, origin, &mut sink, &mut follows, &user, session.as_mut()).await { break }
                    }
                    // A frame being stored was finished before this branch could run.
                    Ok(HubEvent::ShuttingDown) => {
                        close_with(&mut sink, CLOSE_RESTARTING, "server restarting").await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            changed = changes.changes.recv() => {
                let Some(changed) = changed else { break };
                if changes.fell_behind() {
                    tracing::warn!(user = %user.username, device = %device_id, "connection fell behind on changes: told to resync");
                    // Pushes and office summaries were lost: the device syncs everything
                    // again and the office list reloads (a version 1 device cannot be told;
                    // it catches up at its next sync).
                    if version >= protocol::FOLLOW_SET_VERSION && !send(&mut sink, &ServerMessage::Resync).await { break }
                    // A document may have joined the follow set meanwhile: send it whole.
                    if !send_follow_set(&state, origin, &mut sink, &mut follows, &user, session.as_mut()).await { break }
                }
                // Nothing of another estate, of a kind the role does not work with, or (for a
                // role that reads only its own of a kind) started by someone else is ever sent.
                if !user.may_read(
                    &changed.estate_id,
                    changed.summary.as_ref().map(|s| s.kind),
                    changed.summary.as_ref().map_or("", |s| s.created_by.as_str()),
                ) {
                    continue;
                }
                match follows.on_change(&user, &changed) {
                    FollowUpdate::Send(addition) => {
                        if !send(&mut sink, &addition).await { break }
                    }
                    FollowUpdate::Recompute => {
                        // The document left the set: its changes are no longer pushed here.
                        if !send_follow_set(&state, origin, &mut sink, &mut follows, &user, session.as_mut()).await { break }
                    }
                    FollowUpdate::None => {}
                }
                if user.role.lists_records() {
                    if let Some(summary) = changed.summary.clone() {
                        if !send(&mut sink, &ServerMessage::Records { records: vec![summary] }).await { break }
                    }
                }
                // A record addressed to someone else is pushed to no one else but the office.
                let addressed_elsewhere = changed
                    .summary
                    .as_ref()
                    .and_then(|s| s.addressed_to.as_ref())
                    .is_some_and(|to| *to != user.id && !user.role.lists_records());
                let follows = session.as_ref().is_some_and(|s| s.is_tracking(&changed.doc));
                if changed.origin != origin && follows && !addressed_elsewhere {
                    let id = changed.doc;
                    let loaded = read_store(&state, move |store| store.load_document(&id)).await;
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
    state.metrics.refused(&outcome.errors);
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
    // Without a group writer; with one, they were announced at the commit.
    state.metrics.stored(outcome.changed.len());
    for changed in outcome.changed {
        state.router.publish(changed);
    }
    // Version 1 promised exactly one reply frame; version 2 splits one that would not fit.
    let frames = if version >= protocol::FOLLOW_SET_VERSION {
        batch::split_reply(outcome.replies)
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

/// Computes the connection's whole follow set and sends it (nothing for a version 1 device).
/// Sends the whole follow set again; the documents that left it are forgotten by `session`
/// (their changes are no longer pushed here).
async fn send_follow_set(
    state: &AppState,
    origin: u64,
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    follows: &mut FollowSet,
    user: &UserInfo,
    session: Option<&mut SyncSession>,
) -> bool {
    let mut owned = std::mem::replace(follows, FollowSet::new(0));
    let for_user = user.clone();
    let Some((owned, message)) = read_store(state, move |store| {
        let message = owned.complete(store, &for_user);
        (owned, message)
    })
    .await
    else {
        return false;
    };
    *follows = owned;
    state.router.watch(origin, follows.docs());
    let left = follows.take_left();
    if let Some(session) = session {
        for doc in &left {
            session.forget(doc);
        }
    }
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
