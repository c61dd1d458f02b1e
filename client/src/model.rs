//! The phone's records in memory: documents, what the server acknowledged, and the sync
//! session. Plain data; `ctx` wraps it for the interface and `storage` persists it.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, Automerge, ChangeHash};
use gatehouse_shared::patrol_log::{create_document, edit_document, read_document, RecordError};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{DocumentId, PatrolLog, Problem, RecordSummary};

use crate::storage::StoredRecord;

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
pub struct LocalRecord {
    pub doc: Automerge,
    /// The patrol log, read after every change (None until the document has one).
    pub log: Option<PatrolLog>,
    /// Heads the server confirmed it stores.
    pub acked_heads: Vec<ChangeHash>,
    /// Server time of the confirmation.
    pub received_at: Option<i64>,
    /// Why the server refused the record, if it did.
    pub problems: Vec<Problem>,
    pub rejected: bool,
}

impl LocalRecord {
    pub fn empty(doc: Automerge) -> Self {
        Self::new(doc)
    }

    fn new(doc: Automerge) -> Self {
        let log = read_document(&doc).ok();
        Self {
            doc,
            log,
            acked_heads: Vec::new(),
            received_at: None,
            problems: Vec::new(),
            rejected: false,
        }
    }

    pub fn refresh(&mut self) {
        self.log = read_document(&self.doc).ok();
    }

    pub fn is_acked(&self) -> bool {
        let heads = self.doc.get_heads();
        !heads.is_empty()
            && heads.iter().collect::<HashSet<_>>()
                == self.acked_heads.iter().collect::<HashSet<_>>()
    }
}

/// Everything the phone holds.
pub struct Model {
    /// This device's Automerge actor.
    pub actor: ActorId,
    pub records: HashMap<DocumentId, LocalRecord>,
    /// Sync state with the server, per document.
    pub session: SyncSession,
    /// The office's list of the estate's records (office staff only).
    pub office: Vec<RecordSummary>,
}

impl Model {
    pub fn new(actor: ActorId) -> Self {
        Self {
            actor,
            records: HashMap::new(),
            session: SyncSession::new(),
            office: Vec::new(),
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
        })
    }

    pub fn start_round(&mut self, log: &PatrolLog, now: i64) -> Result<DocumentId, RecordError> {
        let doc = create_document(self.actor.clone(), log, now)?;
        let id = DocumentId::new_random();
        self.records.insert(id, LocalRecord::new(doc));
        Ok(id)
    }

    pub fn edit(
        &mut self,
        id: DocumentId,
        now: i64,
        edit: impl FnOnce(&mut PatrolLog),
    ) -> Result<(), RecordError> {
        let Some(record) = self.records.get_mut(&id) else {
            return Err(RecordError::Invalid(vec![Problem::new(
                "record",
                "validation.unknown",
            )]));
        };
        edit_document(&mut record.doc, now, edit)?;
        record.rejected = false;
        record.problems.clear();
        record.refresh();
        Ok(())
    }

    /// Starts following a record this phone does not hold yet (an office clerk opening it).
    pub fn follow(&mut self, id: DocumentId) {
        let actor = self.actor.clone();
        self.records
            .entry(id)
            .or_insert_with(|| LocalRecord::new(Automerge::new().with_actor(actor)));
    }

    pub fn status(&self, id: &DocumentId, connected: bool) -> RecordStatus {
        match self.records.get(id) {
            Some(record) if record.rejected => RecordStatus::Rejected,
            Some(record) if record.is_acked() => RecordStatus::Received(record.received_at),
            _ if connected => RecordStatus::Sending,
            _ => RecordStatus::Local,
        }
    }

    /// The patrol logs on this phone, newest round first.
    pub fn rounds(&self) -> Vec<(DocumentId, PatrolLog)> {
        let mut rounds: Vec<_> = self
            .records
            .iter()
            .filter_map(|(id, record)| record.log.clone().map(|log| (*id, log)))
            .collect();
        rounds.sort_by(|a, b| b.1.started_at.cmp(&a.1.started_at).then(a.0.cmp(&b.0)));
        rounds
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
