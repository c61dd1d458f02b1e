//! The WebSocket sync endpoint.
//!
//! A device sends `hello`, then `sync` frames carrying Automerge sync messages for any number
//! of documents. The server applies one frame's messages in one database transaction, and
//! only after the commit answers with `stored` (what is now durable) and exactly one `sync`
//! frame holding its replies. Changes stored through one connection are pushed to every other
//! connection that follows the same document, and record summaries to office staff.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::Automerge;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::patrol_log::{read_document, validate_change};
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{
    self, ClientMessage, DocSync, ErrorCode, ServerMessage, StoredDoc, MAX_DOCS_PER_MESSAGE,
};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{DocumentId, Problem, RecordSummary, Role, UserInfo};
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};
use crate::{now_ms, AppState};

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code for a policy violation (RFC 6455).
const CLOSE_POLICY: u16 = 1008;

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
}

fn doc_error(code: ErrorCode, doc: DocumentId, problems: Vec<Problem>) -> ServerMessage {
    ServerMessage::Error {
        code,
        doc: Some(doc),
        fatal: false,
        supported: Vec::new(),
        problems,
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
    }
}

fn fatal_error(code: ErrorCode) -> ServerMessage {
    ServerMessage::Error {
        code,
        doc: None,
        fatal: true,
        supported: protocol::SUPPORTED_VERSIONS.to_vec(),
        problems: Vec::new(),
    }
}

fn same_heads(a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]) -> bool {
    a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
}

/// Applies one frame's sync messages for `user` in a single transaction.
pub fn apply_sync_batch(
    store: &mut Store,
    user: &UserInfo,
    session: &mut SyncSession,
    docs: Vec<DocSync>,
    now: i64,
    origin: u64,
) -> Result<BatchOutcome, StoreError> {
    let mut outcome = BatchOutcome::default();
    let mut working: Vec<(DocumentId, Automerge)> = Vec::with_capacity(docs.len());
    let tx = store.begin()?;
    for DocSync { doc: id, message } in docs {
        let (mut doc, stored_at) = match tx.load_document(&id)? {
            Some(stored) if stored.estate_id != user.estate_id => {
                outcome
                    .errors
                    .push(doc_error(ErrorCode::Forbidden, id, Vec::new()));
                continue;
            }
            Some(stored) => (stored.doc, Some(stored.updated_at)),
            None => (Automerge::new(), None),
        };
        let before = doc.get_heads();
        let their_heads = match session.receive(id, &mut doc, &message) {
            Ok(heads) => heads,
            Err(error) => {
                tracing::debug!(%id, %error, "refused sync message");
                outcome
                    .errors
                    .push(doc_error(ErrorCode::BadSyncMessage, id, Vec::new()));
                continue;
            }
        };
        let after = doc.get_heads();
        if after != before {
            // Check the document as it would be stored; refuse all of its new changes if it
            // breaks a rule. The working copy is dropped, so the stored heads stay as they were.
            // The stored record as it was, read only now that something changed.
            let before_log = match stored_at {
                Some(_) => doc
                    .fork_at(&before)
                    .ok()
                    .and_then(|old| read_document(&old).ok()),
                None => None,
            };
            let (log, problems) = match read_document(&doc) {
                Ok(log) => {
                    let problems =
                        validate_change(before_log.as_ref(), &log, &user.id, &user.estate_id);
                    (Some(log), problems)
                }
                Err(_) if stored_at.is_none() => (None, vec![Problem::new("", keys::NOT_A_RECORD)]),
                // A stored document that is not a readable record yet (an incomplete history
                // relayed in pieces) is kept as it comes.
                Err(_) => (None, Vec::new()),
            };
            if !problems.is_empty() {
                let code = if problems.iter().any(|p| p.key == keys::OTHER_ESTATE) {
                    ErrorCode::Forbidden
                } else {
                    ErrorCode::Rejected
                };
                tracing::info!(%id, user = %user.username, ?problems, "rejected changes");
                outcome.errors.push(doc_error(code, id, problems));
                session.forget(&id);
                continue;
            }
            let first_received_at = tx.first_received_at(&id)?.unwrap_or(now);
            let summary =
                log.map(|log| RecordSummary::of_patrol_log(id, &log, first_received_at, now));
            tx.save_changes(
                &id,
                &user.estate_id,
                &doc,
                &doc.save_after(&before),
                summary.as_ref(),
                now,
            )?;
            outcome.stored.push(stored_doc(id, &after, now));
            outcome.changed.push(DocChanged {
                doc: id,
                estate_id: user.estate_id.clone(),
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
    Ok(outcome)
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
    let frame = CloseFrame {
        code: CLOSE_POLICY,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
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

/// Waits for the hello and checks version and session.
async fn handshake(
    state: &AppState,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<UserInfo, ServerMessage> {
    let frame = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => bytes,
        _ => return Err(fatal_error(ErrorCode::Malformed)),
    };
    let Ok(ClientMessage::Hello { versions, token }) = protocol::decode::<ClientMessage>(&frame)
    else {
        return Err(fatal_error(ErrorCode::Malformed));
    };
    if protocol::negotiate(&versions).is_none() {
        return Err(fatal_error(ErrorCode::UnsupportedVersion));
    }
    let hash = crate::auth::token_hash(&token);
    match with_store(state, move |store| store.session_user(&hash, now_ms())).await {
        Some(Ok(Some(user))) => Ok(user),
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
    let user = match handshake(&state, &mut stream).await {
        Ok(user) => user,
        Err(refusal) => {
            send(&mut sink, &refusal).await;
            close(&mut sink, "refused").await;
            return;
        }
    };
    let version = protocol::SUPPORTED_VERSIONS
        .iter()
        .copied()
        .max()
        .unwrap_or(1);
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
    let mut events = state.hub.subscribe();
    let mut session = Some(SyncSession::new());
    tracing::info!(user = %user.username, origin, "device connected");
    loop {
        tokio::select! {
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Text(_))) => {
                        if !send(&mut sink, &malformed()).await { break }
                        continue;
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
                    ClientMessage::Sync { docs } if docs.len() > MAX_DOCS_PER_MESSAGE => {
                        if !send(&mut sink, &malformed()).await { break }
                    }
                    ClientMessage::Sync { docs } => {
                        let Some(mut owned) = session.take() else { break };
                        let batch_user = user.clone();
                        let result = with_store(&state, move |store| {
                            let outcome = apply_sync_batch(store, &batch_user, &mut owned, docs, now_ms(), origin);
                            (owned, outcome)
                        }).await;
                        let Some((owned, outcome)) = result else { break };
                        session = Some(owned);
                        let outcome = match outcome {
                            Ok(outcome) => outcome,
                            Err(error) => {
                                tracing::error!(%error, "storing a sync batch failed");
                                send(&mut sink, &fatal_error(ErrorCode::Internal)).await;
                                break;
                            }
                        };
                        if !deliver_outcome(&state, &mut sink, outcome).await { break }
                    }
                }
            }
            event = events.recv() => {
                let changed = match event {
                    Ok(changed) => changed,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "connection fell behind on change events");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if changed.estate_id != user.estate_id {
                    continue;
                }
                if user.role == Role::Office {
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
                            if !send(&mut sink, &ServerMessage::Sync { docs: vec![reply] }).await { break }
                        }
                    }
                }
            }
        }
    }
    tracing::info!(user = %user.username, origin, "device disconnected");
}

/// Sends a batch's results in protocol order and announces its changes.
async fn deliver_outcome(
    state: &AppState,
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    outcome: BatchOutcome,
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
        let _ = state.hub.send(changed);
    }
    send(
        sink,
        &ServerMessage::Sync {
            docs: outcome.replies,
        },
    )
    .await
}
