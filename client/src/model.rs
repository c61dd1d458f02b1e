//! The phone's records in memory: documents, what the server acknowledged, and the sync
//! session. Plain data; `ctx` wraps it for the interface and `storage` persists it.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, Automerge, ChangeHash};
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::DocSync;
use gatehouse_shared::record::{
    create_document, edit_document, judge_kind, read_record, Kind, RecordError,
};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{AnyRecord, DocumentId, Problem, RecordSummary, Writer};

use crate::storage::{SetAside, StoredRecord};

/// Where a record stands, as the guard sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// Saved on this phone only.
    Local,
    /// Connected; the server has not yet confirmed the latest change.
    Sending,
    /// The server has stored this exact version (at this server time, when known).
    Received(Option<i64>),
    /// The server refused the record.
    Rejected,
}

impl RecordStatus {
    /// The value of the `data-status` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Local => "local",
            RecordStatus::Sending => "sending",
            RecordStatus::Received(_) => "received",
            RecordStatus::Rejected => "rejected",
        }
    }
}

/// One record on the phone.
/// How a refused record was corrected, to take it back.
pub enum Correction {
    /// The refused version was set aside; this is it.
    SetAside(Box<Automerge>),
    /// The record is sent again as it is; these were the server's reasons.
    SentAgain(Vec<Problem>),
}

pub struct LocalRecord {
    pub doc: Automerge,
    /// The record, read after every change (None until the document holds one).
    pub record: Option<AnyRecord>,
    /// Heads the server confirmed it stores.
    pub acked_heads: Vec<ChangeHash>,
    /// Server time of the confirmation.
    pub received_at: Option<i64>,
    /// Why the server refused the record, if it did.
    pub problems: Vec<Problem>,
    pub rejected: bool,
    /// The user who wrote or opened it on this phone.
    pub owner: Option<String>,
    /// Refused versions, kept for inspection after a correction.
    pub set_aside: Vec<SetAside>,
    /// The users of this phone whose follow set names the record (it is theirs to show
    /// and sync as well as the owner's).
    pub followers: Vec<String>,
}

impl LocalRecord {
    fn new(doc: Automerge) -> Self {
        let record = read_record(&doc).ok();
        Self {
            doc,
            record,
            acked_heads: Vec::new(),
            received_at: None,
            problems: Vec::new(),
            rejected: false,
            owner: None,
            set_aside: Vec::new(),
            followers: Vec::new(),
        }
    }

    pub fn refresh(&mut self) {
        self.record = read_record(&self.doc).ok();
    }

    /// Whether the phone holds changes the server has not confirmed.
    pub fn is_unsynced(&self) -> bool {
        !self.doc.get_heads().is_empty() && !self.is_acked()
    }

    /// The latest refused version's record, if one was set aside.
    pub fn set_aside_record(&self) -> Option<AnyRecord> {
        let last = self.set_aside.last()?;
        Automerge::load(&last.doc)
            .ok()
            .and_then(|doc| read_record(&doc).ok())
    }

    /// The record as shown: what the phone holds, or when only a refused version is left
    /// (nothing of it reached the server), that version.
    pub fn shown(&self) -> Option<AnyRecord> {
        self.record.clone().or_else(|| self.set_aside_record())
    }

    pub fn is_acked(&self) -> bool {
        let heads = self.doc.get_heads();
        !heads.is_empty()
            && heads.iter().collect::<HashSet<_>>()
                == self.acked_heads.iter().collect::<HashSet<_>>()
    }
}

/// What a follow set changed on the phone.
#[derive(Debug, Default)]
pub struct FollowChange {
    /// Documents the user follows from now on (to sync at once).
    pub new: Vec<DocumentId>,
    /// Documents the user no longer follows that stay on the phone (another user's).
    pub left: Vec<DocumentId>,
    /// Documents dropped from the phone.
    pub dropped: Vec<DocumentId>,
}

/// Everything the phone holds.
pub struct Model {
    /// This device's Automerge actor for the signed-in user.
    pub actor: ActorId,
    /// The signed-in user's ID; records of other users of this phone are kept but neither
    /// shown nor synced.
    pub user: Option<String>,
    pub records: HashMap<DocumentId, LocalRecord>,
    /// Sync state with the server, per document.
    pub session: SyncSession,
    /// The office's list of the estate's records (office staff only).
    pub office: Vec<RecordSummary>,
    /// Whether the server holds older records than the office list shows (its last page was
    /// full).
    pub office_more: bool,
    /// Where the next page of the office list starts: the last row of the last page fetched
    /// (not the last row shown, which may be an older record pushed since).
    pub office_cursor: Option<(i64, DocumentId)>,
    /// Whether the office list's first page came from the server since sign-in: until it
    /// has (offline, say), an empty list means nothing.
    pub office_loaded: bool,
}

impl Model {
    pub fn new(actor: ActorId) -> Self {
        Self {
            actor,
            user: None,
            records: HashMap::new(),
            session: SyncSession::new(),
            office: Vec::new(),
            office_more: false,
            office_cursor: None,
            office_loaded: false,
        }
    }

    /// Rebuilds the model from what the phone stored; unreadable entries are skipped and
    /// reported, never deleted.
    pub fn restore(actor: ActorId, stored: Vec<StoredRecord>) -> (Self, usize) {
        let mut model = Self::new(actor.clone());
        let mut unreadable = 0;
        for entry in stored {
            let Ok(id) = entry.id.parse::<DocumentId>() else {
                unreadable += 1;
                continue;
            };
            let Ok(doc) = Automerge::load(&entry.doc) else {
                unreadable += 1;
                continue;
            };
            let mut record = LocalRecord::new(doc.with_actor(actor.clone()));
            record.acked_heads = entry
                .acked_heads
                .iter()
                .filter_map(|h| ChangeHash::try_from(h.as_slice()).ok())
                .collect();
            record.received_at = entry.received_at;
            // Records stored before they had an owner are their creator's; a followed record
            // has followers instead, and no owner unless a user of this phone wrote it.
            record.owner = if entry.followers.is_empty() {
                entry.owner.or_else(|| {
                    record
                        .record
                        .as_ref()
                        .map(|r| r.header().created_by.to_owned())
                })
            } else {
                entry.owner
            };
            record.set_aside = entry.set_aside;
            record.followers = entry.followers;
            if !entry.sync_state.is_empty() && model.session.resume(id, &entry.sync_state).is_err()
            {
                unreadable += 1;
            }
            model.records.insert(id, record);
        }
        (model, unreadable)
    }

    /// What to store for a record.
    pub fn stored_record(&self, id: &DocumentId) -> Option<StoredRecord> {
        let record = self.records.get(id)?;
        Some(StoredRecord {
            id: id.to_string(),
            doc: record.doc.save(),
            sync_state: self.session.persisted(id).unwrap_or_default(),
            acked_heads: record
                .acked_heads
                .iter()
                .map(|h| serde_bytes::ByteBuf::from(h.0.to_vec()))
                .collect(),
            received_at: record.received_at,
            owner: record.owner.clone(),
            set_aside: record.set_aside.clone(),
            followers: record.followers.clone(),
        })
    }

    /// Switches to a signed-in user and their device actor; every change made from now on
    /// carries that actor.
    pub fn sign_in(&mut self, user_id: &str, actor: ActorId) {
        self.user = Some(user_id.to_owned());
        for record in self.records.values_mut() {
            record.doc.set_actor(actor.clone());
        }
        self.actor = actor;
        self.office.clear();
        self.office_more = false;
        self.office_cursor = None;
        self.office_loaded = false;
    }

    /// Whether a record is the signed-in user's to show and sync: they wrote or opened it,
    /// or their follow set names it.
    pub fn belongs(&self, record: &LocalRecord) -> bool {
        self.user.as_ref().is_some_and(|user| {
            record.owner.as_ref() == Some(user) || record.followers.contains(user)
        })
    }

    /// The next sync message for a record, if it has something to say. A record the server
    /// never acknowledged any of, not yet being synced, starts as one the server holds
    /// nothing of: its first message carries it whole (one round trip, not two).
    pub fn outgoing(&mut self, id: DocumentId) -> Option<DocSync> {
        let record = self.records.get_mut(&id)?;
        let never_acknowledged = record.acked_heads.is_empty() && record.received_at.is_none();
        if never_acknowledged && !record.doc.get_heads().is_empty() {
            // Only ever fails for a document Automerge could not read; it then syncs as any.
            let _ = self.session.peer_holds_nothing(id, &mut record.doc);
        }
        self.session.generate(id, &record.doc)
    }

    /// The signed-in user's records, by ID.
    pub fn mine(&self) -> Vec<DocumentId> {
        self.records
            .iter()
            .filter(|(_, r)| self.belongs(r))
            .map(|(id, _)| *id)
            .collect()
    }

    /// No one is signed in: nothing is shown or synced; every user's records stay.
    pub fn sign_out(&mut self) {
        self.user = None;
        self.office.clear();
        self.office_more = false;
        self.office_cursor = None;
        self.office_loaded = false;
    }

    /// Records the server has not confirmed: the signed-in user's, or when no one is signed
    /// in, those of every user of the phone.
    pub fn unsynced(&self) -> Vec<DocumentId> {
        let mut ids: Vec<_> = self
            .records
            .iter()
            .filter(|(_, r)| r.is_unsynced() && (self.user.is_none() || self.belongs(r)))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    /// Corrects a refused record so the next sync goes through. Nothing is deleted.
    ///
    /// When the server accepted part of it, the refused version is set aside (kept in
    /// `set_aside`) and the record is rebuilt on what the server accepted, for the user to
    /// enter the refused part again.
    ///
    /// When the server accepted nothing of it (refused at its start), there is nothing to
    /// rebuild on: an empty record would be neither shown nor ever sent. It is sent again as
    /// it is, for the server to judge again (a record refused for a clock that was ahead goes
    /// through once its times are no longer ahead of the server's; until then it is refused
    /// again, with the reason).
    ///
    /// Returns what `undo_correction` needs if the phone cannot store the result; `None`:
    /// no refused record `id`.
    pub fn correct_refused(&mut self, id: DocumentId, now: i64) -> Option<Correction> {
        let actor = self.actor.clone();
        let record = self.records.get_mut(&id).filter(|r| r.rejected)?;
        if record.acked_heads.is_empty() {
            record.rejected = false;
            let problems = std::mem::take(&mut record.problems);
            record.refresh();
            self.session.forget(&id);
            return Some(Correction::SentAgain(problems));
        }
        let rebuilt = record.doc.fork_at(&record.acked_heads).ok()?;
        record.set_aside.push(SetAside {
            doc: record.doc.save(),
            problems: std::mem::take(&mut record.problems),
            set_aside_at: now,
        });
        let refused = std::mem::replace(&mut record.doc, rebuilt.with_actor(actor));
        record.rejected = false;
        record.refresh();
        // Start the sync with the server afresh: it forgot the refused changes too.
        self.session.forget(&id);
        Some(Correction::SetAside(Box::new(refused)))
    }

    /// Takes back a correction the phone could not store: the record is refused again, as
    /// it still is in storage.
    pub fn undo_correction(&mut self, id: DocumentId, correction: Correction) {
        if let Some(record) = self.records.get_mut(&id) {
            match correction {
                Correction::SetAside(refused) => {
                    if let Some(aside) = record.set_aside.pop() {
                        record.problems = aside.problems;
                    }
                    record.doc = *refused;
                }
                Correction::SentAgain(problems) => record.problems = problems,
            }
            record.rejected = true;
            record.refresh();
            self.session.forget(&id);
        }
    }

    /// Creates a new record with ID `id`, judged as the server will judge it.
    pub fn start<K: Kind>(
        &mut self,
        id: DocumentId,
        new: &K,
        writer: &Writer<'_>,
        now: i64,
    ) -> Result<DocumentId, RecordError> {
        judge_kind(None, new, writer, id, now).map_err(RecordError::Invalid)?;
        let doc = create_document(self.actor.clone(), new, now)?;
        let mut record = LocalRecord::new(doc);
        record.owner = self.user.clone();
        self.records.insert(id, record);
        Ok(id)
    }

    /// Applies an edit by `writer`, judged as the server will judge it; returns the heads
    /// before it, for `undo` if it cannot be saved.
    pub fn edit<K: Kind>(
        &mut self,
        id: DocumentId,
        writer: &Writer<'_>,
        now: i64,
        edit: impl FnOnce(&mut K),
    ) -> Result<Vec<ChangeHash>, RecordError> {
        let Some(record) = self.records.get_mut(&id) else {
            return Err(RecordError::Invalid(vec![Problem::new(
                "record",
                keys::UNKNOWN,
            )]));
        };
        if record.rejected {
            // More changes on top of refused ones would be refused too: correct it first.
            return Err(RecordError::Invalid(vec![Problem::new(
                "record",
                keys::CORRECT_FIRST,
            )]));
        }
        let before = record.doc.get_heads();
        edit_document(&mut record.doc, id, writer, now, edit)?;
        record.refresh();
        Ok(before)
    }

    /// Takes back an edit the phone could not save: the record returns to `before`, so
    /// nothing that is not on the phone is shown or sent. Changes received meanwhile are
    /// fetched again, as the sync with the server starts afresh.
    pub fn undo(&mut self, id: DocumentId, before: &[ChangeHash]) {
        let actor = self.actor.clone();
        if let Some(record) = self.records.get_mut(&id) {
            if let Ok(doc) = record.doc.fork_at(before) {
                record.doc = doc.with_actor(actor);
                record.refresh();
                self.session.forget(&id);
            }
        }
    }

    /// Drops a record that was never saved on the phone.
    pub fn discard_unsaved(&mut self, id: DocumentId) {
        self.records.remove(&id);
        self.session.forget(&id);
    }

    /// Starts following a record this phone does not hold yet (an office clerk opening it).
    pub fn follow(&mut self, id: DocumentId) {
        let actor = self.actor.clone();
        let owner = self.user.clone();
        self.records.entry(id).or_insert_with(|| {
            let mut record = LocalRecord::new(Automerge::new().with_actor(actor));
            record.owner = owner;
            record
        });
    }

    /// Follows what the server says the signed-in user follows. With the `complete` set,
    /// the user stops following documents not in it, and a document nobody on this phone
    /// owns or follows any more is dropped, unless it holds something unsynced.
    pub fn follow_set(&mut self, docs: &[DocumentId], complete: bool) -> FollowChange {
        let mut change = FollowChange::default();
        let Some(user) = self.user.clone() else {
            return change;
        };
        for id in docs {
            let actor = self.actor.clone();
            let record = self
                .records
                .entry(*id)
                .or_insert_with(|| LocalRecord::new(Automerge::new().with_actor(actor)));
            if !record.followers.contains(&user) {
                record.followers.push(user.clone());
                change.new.push(*id);
            }
        }
        if complete {
            let keep: HashSet<&DocumentId> = docs.iter().collect();
            for (id, record) in &mut self.records {
                if !keep.contains(id) && record.followers.contains(&user) {
                    record.followers.retain(|u| *u != user);
                    change.left.push(*id);
                }
            }
            change.dropped = self.drop_unfollowed();
            change.left.retain(|id| !change.dropped.contains(id));
        }
        change
    }

    /// The signed-in user's device was revoked or their session ended: they follow nothing
    /// on this phone any more (the estate's personal data does not stay on a lost phone).
    /// Returns the documents dropped.
    pub fn unfollow_all(&mut self) -> Vec<DocumentId> {
        let Some(user) = self.user.clone() else {
            return Vec::new();
        };
        for record in self.records.values_mut() {
            record.followers.retain(|u| *u != user);
        }
        self.drop_unfollowed()
    }

    /// Drops followed documents nobody on this phone owns or follows any more, unless they
    /// hold something unsynced.
    fn drop_unfollowed(&mut self) -> Vec<DocumentId> {
        let dropped: Vec<DocumentId> = self
            .records
            .iter()
            .filter(|(_, r)| {
                r.owner.is_none()
                    && r.followers.is_empty()
                    && r.set_aside.is_empty()
                    && !r.is_unsynced()
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &dropped {
            self.records.remove(id);
            self.session.forget(id);
        }
        dropped
    }

    pub fn status(&self, id: &DocumentId, connected: bool) -> RecordStatus {
        match self.records.get(id) {
            Some(record) if record.rejected => RecordStatus::Rejected,
            Some(record) if record.is_acked() => RecordStatus::Received(record.received_at),
            _ if connected => RecordStatus::Sending,
            _ => RecordStatus::Local,
        }
    }

    /// The signed-in user's records of kind `K` on this phone, newest first.
    pub fn mine_of<K: Kind>(&self) -> Vec<(DocumentId, K)> {
        let mut mine: Vec<_> = self
            .records
            .iter()
            .filter(|(_, record)| self.belongs(record))
            .filter_map(|(id, record)| {
                let shown = record.shown()?;
                K::from_any(&shown).cloned().map(|r| (*id, r))
            })
            .collect();
        mine.sort_by(|a, b| {
            (b.1.header().started_at)
                .cmp(&a.1.header().started_at)
                .then(a.0.cmp(&b.0))
        });
        mine
    }

    /// Merges summaries into the office list, newest round first.
    pub fn merge_office(&mut self, records: Vec<RecordSummary>) {
        for summary in records {
            match self.office.iter_mut().find(|r| r.doc == summary.doc) {
                Some(existing) => *existing = summary,
                None => self.office.push(summary),
            }
        }
        self.office
            .sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.doc.cmp(&b.doc)));
    }
}
