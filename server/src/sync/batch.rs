//! One `sync` frame: the transaction-per-frame core. Loads each document's stored copy,
//! checks the device (actor, size) and asks `shared` for a verdict on the record before and
//! after, then commits and answers (a reply too big for one frame split over several).
//! Names no record kind.

use std::collections::HashSet;

use automerge::Automerge;
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{
    DocSync, ErrorCode, ServerMessage, StoredDoc, MAX_DOCS_PER_MESSAGE, MAX_FRAME_BYTES,
    STORED_ANSWERS_VERSION,
};
use gatehouse_shared::record::{judge, read_record};
use gatehouse_shared::sync_session::{SyncError, SyncSession};
use gatehouse_shared::user::{followed_until, DEFAULT_RETENTION_DAYS};
use gatehouse_shared::{DocumentId, Problem, RecordSummary, UserInfo, Writer};

use super::DocChanged;
use crate::store::{Store, StoreError, StoreTransaction};

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
    pub(super) fn code(self) -> ErrorCode {
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
/// transaction of its own, commits it, and answers in protocol `version`. The session is
/// checked again inside the transaction, so a device revoked or signed out while connected
/// stores nothing more.
#[allow(clippy::too_many_arguments)]
pub fn apply_sync_batch(
    store: &mut Store,
    token_hash: &[u8],
    session: &mut SyncSession,
    docs: Vec<DocSync>,
    now: i64,
    origin: u64,
    limits: Limits,
    version: u32,
) -> Result<Result<BatchOutcome, SessionRefused>, StoreError> {
    let tx = store.begin()?;
    let applied = apply_in(&tx, token_hash, session, docs, now, origin, limits)?;
    tx.commit()?;
    Ok(applied.map(|applied| applied.answer(session, version)))
}

/// A frame applied in a transaction not yet committed: what it produced, and the documents
/// as they stand, to answer from once the transaction is committed.
#[derive(Debug)]
pub struct Applied {
    outcome: BatchOutcome,
    working: Vec<(DocumentId, Automerge)>,
    /// Documents now stored at exactly the heads the device sent: their `stored` entry says
    /// all that a sync message would.
    settled: HashSet<DocumentId>,
}

impl Applied {
    /// What to tell the other connections, taken out (to be told once).
    pub fn take_changed(&mut self) -> Vec<DocChanged> {
        std::mem::take(&mut self.outcome.changed)
    }

    /// The answer in protocol `version`, once the transaction that stored the frame is
    /// committed (never before: a reply tells the device what the server holds). From
    /// version 3 a document's `stored` entry at the device's own heads stands for its sync
    /// message, which is left out: the device takes the entry as the message.
    pub fn answer(mut self, session: &mut SyncSession, version: u32) -> BatchOutcome {
        for (id, doc) in &self.working {
            if version >= STORED_ANSWERS_VERSION && self.settled.contains(id) {
                continue;
            }
            self.outcome.replies.extend(session.generate(*id, doc));
        }
        self.outcome
    }
}

/// Applies one frame's sync messages inside `tx` (not committed here): loads each
/// document, checks the device (actor, size) and the rules, and writes what passes.
pub fn apply_in(
    tx: &StoreTransaction<'_>,
    token_hash: &[u8],
    session: &mut SyncSession,
    docs: Vec<DocSync>,
    now: i64,
    origin: u64,
    limits: Limits,
) -> Result<Result<Applied, SessionRefused>, StoreError> {
    let mut outcome = BatchOutcome::default();
    let mut working: Vec<(DocumentId, Automerge)> = Vec::with_capacity(docs.len());
    let mut settled = HashSet::new();
    let writer = match tx.session(token_hash, now)? {
        None => return Ok(Err(SessionRefused::Unauthorized)),
        Some(writer) if writer.device_revoked => return Ok(Err(SessionRefused::DeviceRevoked)),
        Some(writer) => writer,
    };
    let user = &writer.user;
    let writer_estates = user.estate_ids();
    // The writer's estates' settings (the periods some rules read), read once a change is.
    let mut estate_settings = None;
    for DocSync { doc: id, message } in docs {
        let (mut doc, stored_at, stored_size) = match tx.load_document(&id)? {
            Some(stored) if !user.may_read(&stored.estate_id, stored.kind, &stored.created_by) => {
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
                    let estate_settings = match &mut estate_settings {
                        Some(settings) => settings,
                        None => estate_settings.insert(tx.estate_settings(&writer_estates)?),
                    };
                    let judged_as = Writer {
                        user_id: &user.id,
                        role: user.role,
                        estates: &writer_estates,
                        device_id: &writer.device_id,
                        device_key: &writer.public_key,
                        verify_key: gatehouse_shared::signature::ed25519_verifies,
                        estate_settings,
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
            // A document not stored before is first received now.
            let first_received_at = match stored_at {
                Some(_) => tx.first_received_at(&id)?.unwrap_or(now),
                None => now,
            };
            let estate_id = record.as_ref().map_or_else(
                || user.estate_id.clone(),
                |record| record.header().estate_id.to_owned(),
            );
            let summary = record
                .as_ref()
                .map(|record| RecordSummary::of(id, record, first_received_at, now));
            tx.save_changes(&id, &estate_id, &doc, &new_bytes, summary.as_ref(), now)?;
            // Only a record done with needs its estate's retention.
            let followed_until = match summary.as_ref().and_then(|summary| summary.done_at) {
                Some(done_at) => followed_until(
                    Some(done_at),
                    tx.retention_days(&estate_id)?
                        .unwrap_or(DEFAULT_RETENTION_DAYS),
                ),
                None => None,
            };
            outcome.stored.push(stored_doc(id, &after, now));
            if same_heads(&their_heads, &after) {
                settled.insert(id);
            }
            outcome.changed.push(DocChanged {
                doc: id,
                estate_id,
                summary,
                followed_until,
                origin,
            });
        } else if let Some(updated_at) = stored_at {
            if same_heads(&their_heads, &after) {
                // The device already has everything stored; tell it again in case the
                // earlier acknowledgement was lost with its connection.
                outcome.stored.push(stored_doc(id, &after, updated_at));
                settled.insert(id);
            }
        }
        working.push((id, doc));
    }
    outcome.user = Some(writer.user);
    Ok(Ok(Applied {
        outcome,
        working,
        settled,
    }))
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

/// Room in one frame for the documents' messages (the rest is CBOR framing, a few bytes per
/// document).
const REPLY_BUDGET_BYTES: usize = MAX_FRAME_BYTES - 64 * 1024;

/// A reply as frames that each fit `MAX_FRAME_BYTES` uncompressed (always at least one).
pub(super) fn split_reply(replies: Vec<DocSync>) -> Vec<Vec<DocSync>> {
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
