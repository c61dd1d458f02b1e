//! One `sync` frame: loads each document's stored copy, checks the device (actor, size) and
//! asks `shared` for a verdict on the record before and after, writes what passes, and
//! answers once committed (a reply too big for one frame split over several). Either all in
//! one transaction (`apply_in`, `apply_sync_batch`), or judged first on a read connection
//! (`prepare`) and written in the writer's transaction (`apply_prepared`), which judges
//! again what changed meanwhile. Names no record kind.

use std::collections::HashSet;

use automerge::Automerge;
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{
    DocSync, ErrorCode, ServerMessage, StoredDoc, MAX_DOCS_PER_MESSAGE, MAX_FRAME_BYTES,
    STORED_ANSWERS_VERSION,
};
use gatehouse_shared::record::{judge, read_record};
use gatehouse_shared::sync_session::{SyncError, SyncSession};
use gatehouse_shared::user::EstateSettings;
use gatehouse_shared::user::{followed_until, DEFAULT_RETENTION_DAYS};
use gatehouse_shared::{AnyRecord, DocumentId, Problem, RecordSummary, UserInfo, Writer};

use super::DocChanged;
use crate::store::{heads_bytes, Session, Store, StoreError, StoreTransaction, StoredDocument};

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

/// What judging a frame reads: inside the writer's transaction, or on a read connection
/// before it ([`prepare`]; then checked again inside it).
trait Reads {
    fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>, StoreError>;
    fn estate_settings(&self, ids: &[String]) -> Result<Vec<EstateSettings>, StoreError>;
}

impl Reads for StoreTransaction<'_> {
    fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>, StoreError> {
        StoreTransaction::session(self, token_hash, now)
    }
    fn estate_settings(&self, ids: &[String]) -> Result<Vec<EstateSettings>, StoreError> {
        StoreTransaction::estate_settings(self, ids)
    }
}

impl Reads for Store {
    fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>, StoreError> {
        Store::session(self, token_hash, now)
    }
    fn estate_settings(&self, ids: &[String]) -> Result<Vec<EstateSettings>, StoreError> {
        Store::estate_settings(self, ids)
    }
}

/// The session behind `token_hash`, if it may still sync.
fn writer_of(
    reads: &impl Reads,
    token_hash: &[u8],
    now: i64,
) -> Result<Result<Session, SessionRefused>, StoreError> {
    Ok(match reads.session(token_hash, now)? {
        None => Err(SessionRefused::Unauthorized),
        Some(writer) if writer.device_revoked => Err(SessionRefused::DeviceRevoked),
        Some(writer) => Ok(writer),
    })
}

/// Judges a frame's documents for one writer (user and device as the store holds them).
struct Judge {
    writer: Session,
    estates: Vec<String>,
    /// The writer's estates' settings (the periods some rules read), read once a change is.
    settings: Option<Vec<EstateSettings>>,
    limits: Limits,
    now: i64,
}

/// A document of a frame, judged against the copy of it the store held.
#[derive(Debug)]
enum Judged {
    /// Refused: what the device is told.
    Refused(ServerMessage),
    /// Nothing new to store. `acknowledge`: the stored copy's time, when the device holds
    /// exactly that copy (told again, in case the earlier acknowledgement was lost with its
    /// connection).
    Unchanged {
        doc: Box<Automerge>,
        acknowledge: Option<i64>,
    },
    /// New changes that keep every rule: to store.
    Change(Box<Change>),
}

#[derive(Debug)]
struct Change {
    /// The document with them.
    doc: Automerge,
    heads: Vec<automerge::ChangeHash>,
    /// The new changes as stored.
    bytes: Vec<u8>,
    record: AnyRecord,
    /// Whether the store held the document before.
    stored_before: bool,
    /// Whether the device holds exactly these heads.
    settled: bool,
}

impl Judge {
    fn new(writer: Session, limits: Limits, now: i64) -> Self {
        Self {
            estates: writer.user.estate_ids(),
            writer,
            settings: None,
            limits,
            now,
        }
    }

    /// Applies `message` to the stored copy of document `id` (`stored`) and judges the
    /// result: the device (actor, size) and the rules, the record before and after.
    fn judge(
        &mut self,
        reads: &impl Reads,
        stored: Option<StoredDocument>,
        session: &mut SyncSession,
        id: DocumentId,
        message: &[u8],
    ) -> Result<Judged, StoreError> {
        let user = &self.writer.user;
        let (mut doc, stored_at, stored_size) = match stored {
            Some(stored) if !user.may_read(&stored.estate_id, stored.kind, &stored.created_by) => {
                return Ok(Judged::Refused(doc_error(
                    ErrorCode::Forbidden,
                    id,
                    Vec::new(),
                    &[],
                )));
            }
            Some(stored) => (stored.doc, Some(stored.updated_at), stored.size_bytes),
            None => (Automerge::new(), None, 0),
        };
        let before = doc.get_heads();
        let their_heads = match session.receive(id, &mut doc, message) {
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
                return Ok(Judged::Refused(doc_error(
                    ErrorCode::BadSyncMessage,
                    id,
                    problems,
                    &[],
                )));
            }
        };
        let after = doc.get_heads();
        if after == before {
            let acknowledge = stored_at.filter(|_| same_heads(&their_heads, &after));
            return Ok(Judged::Unchanged {
                doc: Box::new(doc),
                acknowledge,
            });
        }
        // Check the document as it would be stored; refuse all of its new changes if it
        // breaks a rule. The working copy is dropped, so the stored heads stay as they were.
        let new_changes = doc.get_changes_meta(&before);
        let change_hashes: Vec<_> = new_changes.iter().map(|c| c.hash).collect();
        let mut problems = Vec::new();
        // Every change the server does not hold yet must be this device's own.
        for change in &new_changes {
            if change.actor.to_bytes() != self.writer.actor.as_slice() {
                problems.push(Problem::new(
                    format!("changes[{}]", change.hash),
                    keys::FOREIGN_ACTOR,
                ));
            }
        }
        let bytes = doc.save_after(&before);
        if stored_size.saturating_add(bytes.len() as i64) > self.limits.max_document_bytes {
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
                if self.settings.is_none() {
                    self.settings = Some(reads.estate_settings(&self.estates)?);
                }
                let judged_as = Writer {
                    user_id: &self.writer.user.id,
                    role: self.writer.user.role,
                    estates: &self.estates,
                    device_id: &self.writer.device_id,
                    device_key: &self.writer.public_key,
                    verify_key: gatehouse_shared::signature::ed25519_verifies,
                    estate_settings: self.settings.as_deref().unwrap_or_default(),
                };
                if let Err(refused) =
                    judge(before_record.as_ref(), &record, &judged_as, id, self.now)
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
        let Some(record) = record.filter(|_| problems.is_empty()) else {
            let code = if problems
                .iter()
                .any(|p| p.key == keys::OTHER_ESTATE || p.key == keys::ROLE_FORBIDS)
            {
                ErrorCode::Forbidden
            } else {
                ErrorCode::Rejected
            };
            let user = &self.writer.user;
            tracing::info!(%id, user = %user.username, device = %self.writer.device_id, ?problems, "rejected changes");
            session.forget(&id);
            return Ok(Judged::Refused(doc_error(
                code,
                id,
                problems,
                &change_hashes,
            )));
        };
        let settled = same_heads(&their_heads, &after);
        Ok(Judged::Change(Box::new(Change {
            doc,
            heads: after,
            bytes,
            record,
            stored_before: stored_at.is_some(),
            settled,
        })))
    }
}

impl Applied {
    fn new(user: UserInfo) -> Self {
        Self {
            outcome: BatchOutcome {
                user: Some(user),
                ..BatchOutcome::default()
            },
            working: Vec::new(),
            settled: HashSet::new(),
        }
    }

    /// Takes document `id` as judged into the frame's outcome, writing a change in `tx`.
    fn take(
        &mut self,
        tx: &StoreTransaction<'_>,
        id: DocumentId,
        judged: Judged,
        now: i64,
        origin: u64,
    ) -> Result<(), StoreError> {
        match judged {
            Judged::Refused(error) => self.outcome.errors.push(error),
            Judged::Unchanged { doc, acknowledge } => {
                if let Some(updated_at) = acknowledge {
                    self.outcome
                        .stored
                        .push(stored_doc(id, &doc.get_heads(), updated_at));
                    self.settled.insert(id);
                }
                self.working.push((id, *doc));
            }
            Judged::Change(change) => {
                let Change {
                    doc,
                    heads,
                    bytes,
                    record,
                    stored_before,
                    settled,
                } = *change;
                // A document not stored before is first received now.
                let first_received_at = match stored_before {
                    true => tx.first_received_at(&id)?.unwrap_or(now),
                    false => now,
                };
                let estate_id = record.header().estate_id.to_owned();
                let summary = RecordSummary::of(id, &record, first_received_at, now);
                tx.save_changes(&id, &estate_id, &doc, &bytes, Some(&summary), now)?;
                // Only a record done with needs its estate's retention.
                let followed_until = match summary.done_at {
                    Some(done_at) => followed_until(
                        Some(done_at),
                        tx.retention_days(&estate_id)?
                            .unwrap_or(DEFAULT_RETENTION_DAYS),
                    ),
                    None => None,
                };
                self.outcome.stored.push(stored_doc(id, &heads, now));
                if settled {
                    self.settled.insert(id);
                }
                self.outcome.changed.push(DocChanged {
                    doc: id,
                    estate_id,
                    summary: Some(summary),
                    followed_until,
                    origin,
                });
                self.working.push((id, doc));
            }
        }
        Ok(())
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
    let writer = match writer_of(tx, token_hash, now)? {
        Ok(writer) => writer,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut applied = Applied::new(writer.user.clone());
    let mut judge = Judge::new(writer, limits, now);
    for DocSync { doc: id, message } in docs {
        let stored = tx.load_document(&id)?;
        let judged = judge.judge(tx, stored, session, id, &message)?;
        applied.take(tx, id, judged, now, origin)?;
    }
    Ok(Ok(applied))
}

/// A frame judged before the writer's transaction, on a read connection ([`prepare`]).
#[derive(Debug)]
pub struct Prepared {
    /// The session as read then (`None`: not valid, or not read).
    writer: Option<Session>,
    docs: Vec<PreparedDoc>,
    /// The session's states of the frame's documents before the frame.
    before: SyncSession,
}

#[derive(Debug)]
struct PreparedDoc {
    id: DocumentId,
    message: Vec<u8>,
    /// The heads of the stored copy it was judged against (`None`: not stored), and the
    /// verdict; `None`: not judged.
    judged: Option<(Option<Vec<u8>>, Judged)>,
}

/// Judges a frame on a read connection before the writer's turn: the Automerge work and
/// the rules, which hold no lock, run here on any core, and only the writes are left to the
/// one writer thread ([`apply_prepared`]). Reads one snapshot of the database. What it
/// cannot judge (the session not valid, a read failing, a document named twice in the
/// frame) is left to the transaction.
pub fn prepare(
    store: &Store,
    token_hash: &[u8],
    session: &mut SyncSession,
    docs: Vec<DocSync>,
    now: i64,
    limits: Limits,
) -> Prepared {
    let ids: Vec<DocumentId> = docs.iter().map(|doc| doc.doc).collect();
    let mut prepared = Prepared {
        writer: None,
        docs: docs
            .into_iter()
            .map(|DocSync { doc, message }| PreparedDoc {
                id: doc,
                message,
                judged: None,
            })
            .collect(),
        before: session.part(&ids),
    };
    let judged = store.read_snapshot(|store| {
        let Ok(writer) = writer_of(store, token_hash, now)? else {
            return Ok(());
        };
        prepared.writer = Some(writer.clone());
        let mut judge = Judge::new(writer, limits, now);
        let mut seen = HashSet::new();
        for doc in &mut prepared.docs {
            // A second message for one document is judged after the first is stored.
            if !seen.insert(doc.id) {
                break;
            }
            let stored = store.load_document(&doc.id)?;
            let heads = stored
                .as_ref()
                .map(|stored| heads_bytes(&stored.doc.get_heads()));
            let verdict = judge
                .judge(store, stored, session, doc.id, &doc.message)
                .inspect_err(|_| {
                    // Received, not judged: judged again in the transaction, from the
                    // state before the frame.
                    session.restore(doc.id, &prepared.before);
                })?;
            doc.judged = Some((heads, verdict));
        }
        Ok(())
    });
    if let Err(error) = judged {
        tracing::warn!(%error, "a frame could not be judged before its transaction; judged in it");
    }
    prepared
}

/// Stores a frame judged by [`prepare`] inside `tx` (not committed here): each document
/// whose stored copy is still the one it was judged against, for the same session, as
/// judged; any other judged again here, from the sync state it had before the frame.
pub fn apply_prepared(
    tx: &StoreTransaction<'_>,
    token_hash: &[u8],
    session: &mut SyncSession,
    prepared: Prepared,
    now: i64,
    origin: u64,
    limits: Limits,
) -> Result<Result<Applied, SessionRefused>, StoreError> {
    let Prepared {
        writer: judged_as,
        docs,
        before,
    } = prepared;
    let writer = match writer_of(tx, token_hash, now)? {
        Ok(writer) => writer,
        Err(refused) => return Ok(Err(refused)),
    };
    let same_writer = judged_as.as_ref() == Some(&writer);
    let mut applied = Applied::new(writer.user.clone());
    let mut judge = Judge::new(writer, limits, now);
    for PreparedDoc {
        id,
        message,
        judged,
    } in docs
    {
        let judged = match judged {
            Some((heads, judged)) if same_writer && tx.document_is_at(&id, heads.as_deref())? => {
                judged
            }
            stale => {
                // Judged against another copy or session: received again as the first time.
                if stale.is_some() {
                    session.restore(id, &before);
                }
                let stored = tx.load_document(&id)?;
                judge.judge(tx, stored, session, id, &message)?
            }
        };
        applied.take(tx, id, judged, now, origin)?;
    }
    Ok(Ok(applied))
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
