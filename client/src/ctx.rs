//! The app's shared state, handed to every component through Leptos context.
//!
//! Signals carry what the interface shows; the model, storage and sync driver live in
//! local `StoredValue`s (they are not `Send`). `version` ticks whenever a record changes,
//! so views that read the model re-render.

use gatehouse_shared::connection::Phase;
use gatehouse_shared::patrol_log::{RecordError, RecordKind};
use gatehouse_shared::user::SignInResponse;
use gatehouse_shared::{DocumentId, PatrolLog, Problem};
use leptos::prelude::*;

use crate::model::Model;
use crate::storage::Storage;
use crate::sync_driver::{self, Driver};
use crate::time::now_ms;

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Loading,
    SignIn,
    Home,
    Record(DocumentId),
    /// The user's devices, sessions and password.
    Account,
}

/// A message shown briefly at the bottom of the screen (a translation key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub key: &'static str,
    pub is_error: bool,
    /// Distinguishes two equal notices in a row.
    pub serial: u64,
}

/// Why an edit did not happen.
#[derive(Debug, Clone)]
pub enum EditError {
    /// The input breaks a rule; nothing was saved.
    Invalid(Vec<Problem>),
    /// The phone's storage failed; the change is not saved.
    NotSaved,
}

impl From<RecordError> for EditError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Invalid(problems) => EditError::Invalid(problems),
            _ => EditError::Invalid(vec![Problem::new("record", "validation.unknown")]),
        }
    }
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub model: StoredValue<Model, LocalStorage>,
    pub storage: StoredValue<Option<Storage>, LocalStorage>,
    pub driver: StoredValue<Option<Driver>, LocalStorage>,
    /// Ticks when any record changes.
    pub version: RwSignal<u64>,
    /// The sync connection's phase.
    pub phase: RwSignal<Phase>,
    pub session: RwSignal<Option<SignInResponse>>,
    pub screen: RwSignal<Screen>,
    pub notice: RwSignal<Option<Notice>>,
}

impl Ctx {
    pub fn new() -> Self {
        Self {
            model: StoredValue::new_local(Model::new(automerge::ActorId::random())),
            storage: StoredValue::new_local(None),
            driver: StoredValue::new_local(None),
            version: RwSignal::new(0),
            phase: RwSignal::new(Phase::Offline),
            session: RwSignal::new(None),
            screen: RwSignal::new(Screen::Loading),
            notice: RwSignal::new(None),
        }
    }

    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }

    pub fn notify(&self, key: &'static str, is_error: bool) {
        let serial = self.notice.get_untracked().map_or(0, |n| n.serial + 1);
        self.notice.set(Some(Notice {
            key,
            is_error,
            serial,
        }));
    }

    pub fn connected(&self) -> bool {
        self.phase.get() == Phase::Ready
    }

    /// Writes records to the phone's storage; resolves once they are durable.
    pub async fn persist(&self, ids: Vec<DocumentId>) -> Result<(), EditError> {
        let records: Vec<_> = self
            .model
            .with_value(|m| ids.iter().filter_map(|id| m.stored_record(id)).collect());
        let Some(storage) = self.storage.get_value() else {
            return Err(EditError::NotSaved);
        };
        storage.put_records(&records).await.map_err(|error| {
            leptos::logging::error!("saving records failed: {error}");
            EditError::NotSaved
        })
    }

    /// Starts a patrol round in `estate_id` (one of the user's; their first when None);
    /// resolves once it is saved on the phone.
    pub async fn start_round(
        &self,
        route: &str,
        estate_id: Option<String>,
    ) -> Result<DocumentId, EditError> {
        let Some(session) = self.session.get_untracked() else {
            return Err(EditError::NotSaved);
        };
        // The server's rule, checked here too: only roles that start patrol logs may.
        if !session.user.role.starts(RecordKind::PatrolLog) {
            return Err(EditError::Invalid(vec![Problem::new(
                "kind",
                gatehouse_shared::problem::keys::ROLE_FORBIDS,
            )]));
        }
        let estate_id = estate_id
            .filter(|id| session.user.in_estate(id))
            .unwrap_or_else(|| session.user.estate_id.clone());
        let now = now_ms();
        let log = PatrolLog::start(
            &estate_id,
            &session.user.id,
            &session.user.display_name,
            route,
            now,
        )
        .map_err(EditError::Invalid)?;
        let id = self
            .model
            .try_update_value(|m| m.start_round(&log, now))
            .ok_or(EditError::NotSaved)??;
        if let Err(error) = self.persist(vec![id]).await {
            // Not on the phone: it must not look saved, nor be sent.
            self.model.update_value(|m| m.discard_unsaved(id));
            self.changed();
            return Err(error);
        }
        self.changed();
        sync_driver::document_changed(*self, id);
        Ok(id)
    }

    /// Sets a refused record's refused changes aside and rebuilds it on what the server
    /// accepted; resolves once that is saved on the phone.
    pub async fn correct(&self, id: DocumentId) -> Result<(), EditError> {
        let now = now_ms();
        let refused = self
            .model
            .try_update_value(|m| m.set_aside_refused(id, now))
            .flatten()
            .ok_or(EditError::NotSaved)?;
        if let Err(error) = self.persist(vec![id]).await {
            self.model.update_value(|m| m.undo_set_aside(id, refused));
            self.changed();
            return Err(error);
        }
        self.changed();
        sync_driver::document_changed(*self, id);
        Ok(())
    }

    /// How many records on the phone have not reached the server.
    pub fn unsynced_count(&self) -> usize {
        self.version.track();
        self.model.with_value(|m| m.unsynced().len())
    }

    /// Offers the records that have not reached the server as a file.
    pub fn export_unsynced(&self) {
        let now = now_ms();
        let contents = self
            .model
            .with_value(|m| crate::export::export_json(m, &m.unsynced(), now));
        let name = format!("gatehouse-unsynced-{now}.json");
        if crate::export::download(&name, &contents).is_err() {
            self.notify("export.failed", true);
        } else {
            self.notify("export.done", false);
        }
    }

    /// Changes a record; resolves once the change is saved on the phone.
    pub async fn edit(
        &self,
        id: DocumentId,
        edit: impl FnOnce(&mut PatrolLog),
    ) -> Result<(), EditError> {
        let now = now_ms();
        let before = self
            .model
            .try_update_value(|m| m.edit(id, now, edit))
            .ok_or(EditError::NotSaved)??;
        if let Err(error) = self.persist(vec![id]).await {
            // Not on the phone: take it back, so it is neither shown nor sent.
            self.model.update_value(|m| m.undo(id, &before));
            self.changed();
            return Err(error);
        }
        self.changed();
        sync_driver::document_changed(*self, id);
        Ok(())
    }
}
