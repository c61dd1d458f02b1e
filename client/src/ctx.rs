//! The app's shared state, handed to every component through Leptos context.
//!
//! Signals carry what the interface shows; the model and storage live in local
//! `StoredValue`s (they are not `Send`). `version` ticks whenever a record changes, so views
//! that read the model re-render. Every local change goes through [`Ctx::keep_or_take_back`]:
//! stored on the phone, then shown and queued for the server, or taken back. The sync driver
//! listens to the queue (`outbox`); this module does not call it.

use gatehouse_shared::connection::{Phase, Status};
use gatehouse_shared::record::found_item::FoundItemPeriods;
use gatehouse_shared::record::{Kind, RecordError};
use gatehouse_shared::user::{EstateSettings, SignInResponse};
use gatehouse_shared::{DocumentId, Problem, Writer};
use leptos::prelude::*;

use crate::identity::DeviceIdentity;
use crate::model::{Correction, Model};
use crate::storage::Storage;
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
    /// The owner/tenant registry of the user's estates.
    Registry,
    /// Release slips: the gate's for guards, a new slip for office staff.
    Slips,
    /// The goods release register (office staff).
    Register,
    /// A new work order from a call (office staff).
    NewRequest,
    /// Patrol routes and the rounds done on them (office staff).
    Routes,
    /// Found items: the finder's (register one, and theirs) or the office's list.
    FoundItems,
    /// The printable public notice of unclaimed found items (office staff).
    Notice,
    /// The app is open in another tab or window of this phone, which holds the records.
    OpenElsewhere,
    /// An admin revoked this device: what happened, and the export of what it holds.
    DeviceRevoked,
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
            _ => EditError::Invalid(vec![Problem::new(
                "record",
                gatehouse_shared::problem::keys::UNKNOWN,
            )]),
        }
    }
}

/// 16 random bytes for a new document or entry ID (`shared` takes randomness as input).
pub fn random_id() -> [u8; 16] {
    let mut bytes = [0; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No crypto source is a broken browser; Math.random still gives unique IDs.
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub model: StoredValue<Model, LocalStorage>,
    /// The phone's records are read into `model` (until then it is empty; see `engine`).
    pub records_open: StoredValue<bool, LocalStorage>,
    pub storage: StoredValue<Option<Storage>, LocalStorage>,
    /// This phone's enrolled public key for the signed-in user (signatures it takes verify
    /// with it).
    pub device_key: StoredValue<Vec<u8>, LocalStorage>,
    /// This phone's identity for the signed-in user: its key signs what owners sign.
    pub identity: StoredValue<Option<DeviceIdentity>, LocalStorage>,
    /// This tab let another tab of the phone take the records over: it writes and syncs
    /// nothing more, whatever was under way when it let go (see `single_writer`).
    pub released: RwSignal<bool>,
    /// Record writes to IndexedDB under way (another tab takes over only when none is).
    pub writes_in_flight: StoredValue<u32, LocalStorage>,
    /// Records changed on this phone that the sync driver has not sent yet.
    pub outbox: StoredValue<Vec<DocumentId>, LocalStorage>,
    /// Ticks when something is put in the outbox.
    pub outbox_ticks: RwSignal<u64>,
    /// Ticks when any record changes.
    pub version: RwSignal<u64>,
    /// The sync connection's phase.
    pub phase: RwSignal<Phase>,
    /// What the connection badge says (a failed attempt is "offline" whatever the browser says).
    pub status: RwSignal<Status>,
    pub session: RwSignal<Option<SignInResponse>>,
    /// The settings of the user's estates as last fetched (see `estates`).
    pub estate_settings: RwSignal<Vec<EstateSettings>>,
    pub screen: RwSignal<Screen>,
    pub notice: RwSignal<Option<Notice>>,
}

impl Ctx {
    pub fn new() -> Self {
        Self {
            model: StoredValue::new_local(Model::new(automerge::ActorId::random())),
            records_open: StoredValue::new_local(false),
            storage: StoredValue::new_local(None),
            device_key: StoredValue::new_local(Vec::new()),
            identity: StoredValue::new_local(None),
            released: RwSignal::new(false),
            writes_in_flight: StoredValue::new_local(0),
            outbox: StoredValue::new_local(Vec::new()),
            outbox_ticks: RwSignal::new(0),
            version: RwSignal::new(0),
            phase: RwSignal::new(Phase::Offline),
            status: RwSignal::new(Status::Offline),
            session: RwSignal::new(None),
            estate_settings: RwSignal::new(Vec::new()),
            screen: RwSignal::new(Screen::Loading),
            notice: RwSignal::new(None),
        }
    }

    /// How long `estate_id` keeps unclaimed found items, as the phone knows it.
    pub fn found_item_periods(&self, estate_id: &str) -> FoundItemPeriods {
        self.estate_settings
            .get()
            .into_iter()
            .find(|e| e.id == estate_id)
            .map(|e| e.rules.found_items)
            .unwrap_or_default()
    }

    /// Remembers the signed-in user's device identity.
    pub fn set_identity(&self, identity: DeviceIdentity) {
        self.device_key.set_value(identity.public_key().to_vec());
        self.identity.set_value(Some(identity));
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

    /// Runs `work` with the signed-in user as the rules' writer; `None` when signed out.
    pub fn with_writer<T>(&self, work: impl FnOnce(&Writer<'_>) -> T) -> Option<T> {
        // A revoked device writes nothing new (it could never be sent).
        if self.phase.get_untracked() == Phase::DeviceRevoked {
            return None;
        }
        let session = self.session.get_untracked()?;
        let estates = session.user.estate_ids();
        let device_key = self.device_key.get_value();
        let estate_settings = self.estate_settings.get_untracked();
        let writer = Writer {
            user_id: &session.user.id,
            role: session.user.role,
            estates: &estates,
            device_id: &session.device_id,
            device_key: &device_key,
            verify_key: gatehouse_shared::signature::left_to_the_server,
            estate_settings: &estate_settings,
        };
        Some(work(&writer))
    }

    /// Writes records to the phone's storage; resolves once they are durable.
    pub async fn persist(&self, ids: Vec<DocumentId>) -> Result<(), EditError> {
        let records: Vec<_> = self
            .model
            .with_value(|m| ids.iter().filter_map(|id| m.stored_record(id)).collect());
        let Some(storage) = self.storage.get_value() else {
            return Err(EditError::NotSaved);
        };
        if self.released.get_untracked() {
            return Err(EditError::NotSaved);
        }
        self.writes_in_flight.update_value(|n| *n += 1);
        let written = storage.put_records(&records).await;
        self.writes_in_flight.update_value(|n| *n -= 1);
        written.map_err(|error| {
            leptos::logging::error!("saving records failed: {error}");
            EditError::NotSaved
        })
    }

    /// Resolves once no record write is under way (at most a few seconds).
    pub async fn until_writes_done(&self) {
        for _ in 0..250 {
            let pause = js_sys::Promise::new(&mut |resolve, _| {
                if let Some(window) = web_sys::window() {
                    let _ =
                        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20);
                }
            });
            let _ = wasm_bindgen_futures::JsFuture::from(pause).await;
            if self.writes_in_flight.get_value() == 0 {
                return;
            }
        }
    }

    /// The one way a local change becomes real: it is stored on the phone, then shown and
    /// queued for the server; if the phone cannot store it, `take_back` undoes it in memory,
    /// so it is neither shown nor sent.
    async fn keep_or_take_back(
        &self,
        id: DocumentId,
        take_back: impl FnOnce(&mut Model),
    ) -> Result<(), EditError> {
        let stored = self.persist(vec![id]).await;
        if stored.is_err() {
            self.model.update_value(take_back);
        }
        self.changed();
        if stored.is_ok() {
            self.queue(id);
        }
        stored
    }

    /// Saves an edit of a `K` from a form: on success clears the form's problems, shows
    /// `saved_key` and runs `done`; otherwise shows why (the rules' problems in the form, or
    /// that the phone could not store it).
    pub fn save_edit<K: Kind + 'static>(
        self,
        id: DocumentId,
        problems: RwSignal<Vec<Problem>>,
        saved_key: &'static str,
        edit: impl FnOnce(&mut K) + 'static,
        done: impl FnOnce() + 'static,
    ) {
        leptos::task::spawn_local(self.edit_and_report(id, problems, saved_key, edit, done));
    }

    /// The edit, then what came of it: the form's problems cleared, `saved_key` shown and
    /// `done` run; or why it was not saved.
    async fn edit_and_report<K: Kind + 'static>(
        self,
        id: DocumentId,
        problems: RwSignal<Vec<Problem>>,
        saved_key: &'static str,
        edit: impl FnOnce(&mut K) + 'static,
        done: impl FnOnce() + 'static,
    ) {
        match self.edit(id, edit).await {
            Ok(()) => {
                problems.set(Vec::new());
                self.notify(saved_key, false);
                done();
            }
            Err(EditError::Invalid(found)) => problems.set(found),
            Err(EditError::NotSaved) => self.notify("error.not_saved", true),
        }
    }

    /// [`Ctx::save_edit`] for a form: nothing happens while `busy` (a second tap, Enter
    /// pressed twice), which stays set until the edit is saved or refused.
    #[allow(clippy::too_many_arguments)]
    pub fn save_edit_once<K: Kind + 'static>(
        self,
        busy: RwSignal<bool>,
        id: DocumentId,
        problems: RwSignal<Vec<Problem>>,
        saved_key: &'static str,
        edit: impl FnOnce(&mut K) + 'static,
        done: impl FnOnce() + 'static,
    ) {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            self.edit_and_report(id, problems, saved_key, edit, done)
                .await;
            busy.set(false);
        });
    }

    /// The signed-in user's ID (empty when signed out).
    pub fn user_id(&self) -> String {
        self.session
            .get_untracked()
            .map(|s| s.user.id)
            .unwrap_or_default()
    }

    /// Whether the record can take edits here: held, readable, not refused by the server
    /// (it is corrected first). Tracks changes.
    pub fn editable(&self, id: DocumentId) -> bool {
        self.version.track();
        self.model.with_value(|m| {
            m.records
                .get(&id)
                .is_some_and(|r| !r.rejected && r.record.is_some())
        })
    }

    /// Where a new record goes: the estate picked, if the user belongs to it, else their
    /// first.
    pub fn start_estate(&self, picked: Option<String>) -> Option<String> {
        let user = self.session.get_untracked()?.user;
        Some(
            picked
                .filter(|id| user.in_estate(id))
                .unwrap_or(user.estate_id),
        )
    }

    /// Starts following a record this phone does not hold (a clerk opening it): it is
    /// fetched from the server like any document with something to say.
    pub fn follow(&self, id: DocumentId) {
        self.model.update_value(|m| m.follow(id));
        self.queue(id);
    }

    fn queue(&self, id: DocumentId) {
        self.outbox.update_value(|queue| queue.push(id));
        self.outbox_ticks.update(|n| *n += 1);
    }

    /// Starts a record; resolves once it is saved on the phone.
    pub async fn start<K: Kind>(&self, new: K) -> Result<DocumentId, EditError> {
        let id = DocumentId::from_random(random_id());
        let now = now_ms();
        self.with_writer(|writer| {
            self.model
                .try_update_value(|m| m.start(id, &new, writer, now))
        })
        .flatten()
        .ok_or(EditError::NotSaved)??;
        self.keep_or_take_back(id, |m| m.discard_unsaved(id))
            .await?;
        Ok(id)
    }

    /// Changes a record of kind `K`; resolves once the change is saved on the phone.
    pub async fn edit<K: Kind>(
        &self,
        id: DocumentId,
        edit: impl FnOnce(&mut K),
    ) -> Result<(), EditError> {
        let now = now_ms();
        let before = self
            .with_writer(|writer| {
                self.model
                    .try_update_value(|m| m.edit(id, writer, now, edit))
            })
            .flatten()
            .ok_or(EditError::NotSaved)??;
        self.keep_or_take_back(id, |m| m.undo(id, &before)).await
    }

    /// Corrects a refused record (see [`Model::correct_refused`]); resolves once that is
    /// saved on the phone, with whether the record is sent again as it was (the server had
    /// accepted nothing of it: nothing to enter again).
    pub async fn correct(&self, id: DocumentId) -> Result<bool, EditError> {
        let now = now_ms();
        let correction = self
            .model
            .try_update_value(|m| m.correct_refused(id, now))
            .flatten()
            .ok_or(EditError::NotSaved)?;
        let sent_again = matches!(correction, Correction::SentAgain(_));
        self.keep_or_take_back(id, |m| m.undo_correction(id, correction))
            .await?;
        Ok(sent_again)
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
}
