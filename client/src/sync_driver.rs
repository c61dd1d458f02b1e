//! Runs the sync connection: feeds browser and socket events to the shared connection state
//! machine and carries out what it asks (open, close, hello, ping, sync everything).
//!
//! The socket is closed on the browser's `offline` event and a silent connection is
//! detected by the heartbeat, because a phone's dead connection often never reports itself.
//!
//! The driver listens to the app state (`Ctx`): a local change is sent when it appears in the
//! context's outbox. `ctx` does not call this module, so the two do not depend on each other.

use std::cell::RefCell;

use gatehouse_shared::connection::{Action, Connection, Event, Phase, Status, Timing};
use gatehouse_shared::protocol::{
    self, ClientMessage, DocSync, ErrorCode, ServerMessage, StoredDoc, MAX_DOCS_PER_MESSAGE,
};
use gatehouse_shared::DocumentId;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::ctx::Ctx;
use crate::time::now_ms;

/// An open socket and the callbacks that must live as long as it.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Closes without telling anybody: the state machine already knows.
    fn close_quietly(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// The sync connection of a signed-in user.
struct Driver {
    connection: Connection,
    socket: Option<Socket>,
}

thread_local! {
    /// The page's one sync connection (the app runs on the browser's one thread).
    static DRIVER: RefCell<Option<Driver>> = const { RefCell::new(None) };
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn socket_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let scheme = match location.and_then(|l| l.protocol().ok()).as_deref() {
        Some("https:") => "wss",
        _ => "ws",
    };
    format!("{scheme}://{host}/api/sync")
}

/// Installs the browser listeners and the clock; call once.
pub fn install(ctx: Ctx) {
    let online = window_event_listener(leptos::ev::online, move |_| {
        dispatch(ctx, Event::BrowserOnline)
    });
    let offline = window_event_listener(leptos::ev::offline, move |_| {
        dispatch(ctx, Event::BrowserOffline)
    });
    // The app lives as long as the page: keep the listeners.
    std::mem::forget(online);
    std::mem::forget(offline);
    // The interval runs for the life of the page.
    let _ = set_interval_with_handle(
        move || dispatch(ctx, Event::Tick),
        std::time::Duration::from_secs(1),
    );
    // Local changes saved on the phone go out at once when connected.
    Effect::new(move |_| {
        ctx.outbox_ticks.track();
        let changed = ctx
            .outbox
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        for id in changed {
            document_changed(ctx, id);
        }
    });
}

/// Storage meta key set when the server said this device is revoked.
pub const REVOKED_KEY: &str = "device_revoked";

/// Starts syncing for the signed-in user.
pub fn start(ctx: Ctx) {
    stop(ctx);
    // A tab that let another take over syncs nothing (a sign-in finishing late included).
    if ctx.released.get_untracked() {
        return;
    }
    let (connection, actions) = Connection::new(browser_online(), now_ms(), Timing::default());
    ctx.phase.set(connection.phase());
    ctx.status.set(connection.status());
    DRIVER.with_borrow_mut(|driver| {
        *driver = Some(Driver {
            connection,
            socket: None,
        })
    });
    for action in actions {
        perform(ctx, action);
    }
}

/// Whether the server told this phone it is revoked (kept across reloads until a sign-in
/// succeeds again).
pub async fn is_revoked(storage: &crate::storage::Storage) -> bool {
    storage
        .meta::<bool>(REVOKED_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Offline sign-in for the signed-in user ends on this phone until their next online one.
fn forget_offline_sign_in(ctx: Ctx) {
    let (Some(storage), Some(session)) = (ctx.storage.get_value(), ctx.session.get_untracked())
    else {
        return;
    };
    leptos::task::spawn_local(async move {
        crate::offline_sign_in::forget(&storage, &session.user.username).await;
    });
}

/// Stops syncing (sign-out); records stay on the phone.
pub fn stop(ctx: Ctx) {
    let socket = DRIVER.with_borrow_mut(|d| d.take().and_then(|d| d.socket));
    if let Some(socket) = socket {
        socket.close_quietly();
    }
    ctx.model.update_value(|m| m.session.disconnected());
    ctx.phase.set(Phase::Offline);
    ctx.status.set(Status::Offline);
}

/// Feeds one event to the state machine and carries out its actions.
pub fn dispatch(ctx: Ctx, event: Event) {
    let now = now_ms();
    let jitter = js_sys::Math::random();
    let Some((actions, phase, status)) = DRIVER.with_borrow_mut(|d| {
        d.as_mut().map(|d| {
            (
                d.connection.handle(event, now, jitter),
                d.connection.phase(),
                d.connection.status(),
            )
        })
    }) else {
        return;
    };
    if ctx.status.get_untracked() != status {
        ctx.status.set(status);
    }
    if ctx.phase.get_untracked() != phase {
        if !matches!(phase, Phase::Ready | Phase::Handshaking) {
            ctx.model.update_value(|m| m.session.disconnected());
        }
        ctx.phase.set(phase);
        match phase {
            Phase::SignedOut => {
                // (Offline sign-in stays: this is also what a deliberate sign-out leads to, and
                // the next online sign-in keeps the password then in use.)
                ctx.notify("connection.signed_out", true);
                drop_documents(
                    ctx,
                    ctx.model
                        .try_update_value(|m| m.unfollow_all())
                        .unwrap_or_default(),
                );
            }
            Phase::DeviceRevoked => {
                ctx.notify("connection.device_revoked", true);
                forget_offline_sign_in(ctx);
                // Remembered across reloads: the phone writes nothing more until a sign-in
                // succeeds again (an admin restored the device).
                if let Some(storage) = ctx.storage.get_value() {
                    leptos::task::spawn_local(async move {
                        if let Err(error) = storage.put_meta(REVOKED_KEY, &true).await {
                            leptos::logging::error!("remembering the revocation failed: {error}");
                        }
                    });
                }
                drop_documents(
                    ctx,
                    ctx.model
                        .try_update_value(|m| m.unfollow_all())
                        .unwrap_or_default(),
                );
            }
            Phase::MustUpdate => ctx.notify("connection.must_update", true),
            _ => {}
        }
    }
    for action in actions {
        perform(ctx, action);
    }
}

fn perform(ctx: Ctx, action: Action) {
    match action {
        Action::OpenSocket => open_socket(ctx),
        Action::CloseSocket => {
            let socket = DRIVER.with_borrow_mut(|d| d.as_mut().and_then(|d| d.socket.take()));
            if let Some(socket) = socket {
                socket.close_quietly();
            }
        }
        Action::SendHello => {
            let token = ctx
                .session
                .get_untracked()
                .map(|s| s.token)
                .unwrap_or_default();
            send(&ClientMessage::Hello {
                versions: protocol::SUPPORTED_VERSIONS.to_vec(),
                token,
            });
        }
        Action::SendPing { nonce } => send(&ClientMessage::Ping { nonce }),
        Action::SyncAll => {
            sync_all(ctx);
            refresh_office_list(ctx);
        }
    }
}

fn open_socket(ctx: Ctx) {
    perform(ctx, Action::CloseSocket);
    let ws = match WebSocket::new(&socket_url()) {
        Ok(ws) => ws,
        Err(_) => {
            dispatch(ctx, Event::SocketClosed);
            return;
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let on_open =
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| dispatch(ctx, Event::SocketOpened));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
            receive_frame(ctx, &js_sys::Uint8Array::new(&buffer).to_vec());
        }
    });
    let on_close =
        Closure::<dyn FnMut(CloseEvent)>::new(move |_| dispatch(ctx, Event::SocketClosed));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let socket = Socket {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    };
    DRIVER.with_borrow_mut(|d| {
        if let Some(d) = d.as_mut() {
            d.socket = Some(socket);
        }
    });
}

fn send(message: &ClientMessage) {
    let frame = protocol::encode(message);
    DRIVER.with_borrow(|d| {
        if let Some(socket) = d.as_ref().and_then(|d| d.socket.as_ref()) {
            if socket.ws.send_with_u8_array(&frame).is_err() {
                leptos::logging::warn!("sending a frame failed");
            }
        }
    });
}

fn send_docs(docs: Vec<DocSync>) {
    for chunk in docs.chunks(MAX_DOCS_PER_MESSAGE) {
        send(&ClientMessage::Sync {
            docs: chunk.to_vec(),
        });
    }
}

/// Sends the first message of every document that has something to say, in one frame.
fn sync_all(ctx: Ctx) {
    let docs = ctx
        .model
        .try_update_value(|m| {
            // Only the signed-in user's records; other users' stay on the phone untouched.
            m.mine()
                .into_iter()
                .filter_map(|id| m.outgoing(id))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !docs.is_empty() {
        send_docs(docs);
    }
}

/// Tells the server about a local change at once, if connected.
pub fn document_changed(ctx: Ctx, id: DocumentId) {
    if ctx.phase.get_untracked() != Phase::Ready {
        return;
    }
    let message = ctx
        .model
        .try_update_value(|m| {
            m.records
                .get(&id)
                .is_some_and(|r| m.belongs(r))
                .then(|| m.outgoing(id))
                .flatten()
        })
        .flatten();
    if let Some(message) = message {
        send_docs(vec![message]);
    }
}

/// The user presses "sync now".
pub fn sync_now(ctx: Ctx) {
    dispatch(ctx, Event::SyncNow);
}

fn refresh_office_list(ctx: Ctx) {
    let Some(session) = ctx.session.get_untracked() else {
        return;
    };
    if !session.user.role.lists_records() {
        return;
    }
    spawn_local(fetch_office_list(ctx, session.token));
}

/// Fetches the first page of the office list. Loaded lazily: only office staff list
/// records, and reading the list's JSON is large.
#[lazy]
async fn fetch_office_list(ctx: Ctx, token: String) {
    match crate::api::list_records(&token, None).await {
        Ok(records) => {
            let full = records.len() >= crate::api::OFFICE_PAGE;
            let last = records.last().map(|r| (r.started_at, r.doc));
            ctx.model.update_value(|m| {
                // Older pages fetched before keep their cursor.
                m.office_cursor = m.office_cursor.or(last);
                m.merge_office(records);
                // Older pages already shown stay; a full first page means there is more.
                m.office_more = m.office_more || full;
                m.office_loaded = true;
            });
            ctx.changed();
        }
        Err(error) => leptos::logging::warn!("listing records failed: {error:?}"),
    }
}

fn receive_frame(ctx: Ctx, frame: &[u8]) {
    dispatch(ctx, Event::Heard);
    let message = match protocol::decode::<ServerMessage>(frame) {
        Ok(message) => message,
        Err(error) => {
            leptos::logging::warn!("undecodable frame from server: {error}");
            return;
        }
    };
    match message {
        ServerMessage::Welcome { .. } => dispatch(ctx, Event::Welcomed),
        ServerMessage::Sync { docs, .. } => receive_sync(ctx, docs),
        ServerMessage::Stored { docs } => receive_stored(ctx, docs),
        ServerMessage::Records { records } => {
            ctx.model.update_value(|m| m.merge_office(records));
            ctx.changed();
        }
        ServerMessage::Pong { .. } => {}
        ServerMessage::Resync => {
            // Changes were not pushed to this phone: sync every record as after a reconnect.
            ctx.model.update_value(|m| m.session.disconnected());
            sync_all(ctx);
            refresh_office_list(ctx);
        }
        ServerMessage::Follows { docs, complete } => {
            // The whole set comes after each welcome and when an estate's settings change:
            // read the estates' settings again then.
            if complete {
                crate::estates::refresh(ctx);
            }
            receive_follows(ctx, &docs, complete);
        }
        ServerMessage::Error {
            code, fatal: true, ..
        } => dispatch(ctx, Event::Refused(code)),
        ServerMessage::Error {
            code,
            doc: Some(id),
            problems,
            ..
        } => {
            let refused = matches!(
                code,
                ErrorCode::Forbidden | ErrorCode::BadSyncMessage | ErrorCode::Rejected
            );
            ctx.model.update_value(|m| {
                if let Some(record) = m.records.get_mut(&id) {
                    record.rejected = refused;
                    record.problems = problems;
                }
            });
            if refused {
                ctx.notify("error.rejected", true);
            }
            ctx.changed();
        }
        ServerMessage::Error { code, .. } => leptos::logging::warn!("server error: {code:?}"),
    }
}

fn receive_sync(ctx: Ctx, docs: Vec<DocSync>) {
    let (changed, replies) = ctx
        .model
        .try_update_value(|m| {
            let crate::model::Model {
                records, session, ..
            } = m;
            let mut changed = Vec::new();
            for entry in docs {
                // Only documents the phone holds or follows are synced: one it let go of
                // (it left the follow set) is not taken back from a late message.
                let Some(record) = records.get_mut(&entry.doc) else {
                    leptos::logging::warn!("sync message for {} not held here", entry.doc);
                    continue;
                };
                if let Err(error) = session.receive(entry.doc, &mut record.doc, &entry.message) {
                    leptos::logging::warn!("sync message for {} refused: {error}", entry.doc);
                    continue;
                }
                if session.peer_has(&entry.doc, &record.doc) {
                    record.acked_heads = record.doc.get_heads();
                }
                record.refresh();
                changed.push(entry.doc);
            }
            let replies: Vec<_> = changed
                .iter()
                .filter_map(|id| session.generate(*id, &records[id].doc))
                .collect();
            (changed, replies)
        })
        .unwrap_or_default();
    if !replies.is_empty() {
        send_docs(replies);
    }
    if !changed.is_empty() {
        ctx.changed();
        spawn_local(async move {
            if ctx.persist(changed).await.is_err() {
                ctx.notify("error.not_saved", true);
            }
        });
    }
}

/// The user's follow set: fetches the documents new to the phone, and drops the ones no
/// longer followed (nothing unsynced is ever dropped).
fn receive_follows(ctx: Ctx, docs: &[DocumentId], complete: bool) {
    let Some(change) = ctx.model.try_update_value(|m| m.follow_set(docs, complete)) else {
        return;
    };
    let new = change.new;
    let messages: Vec<_> = ctx
        .model
        .try_update_value(|m| {
            new.iter()
                .filter_map(|id| m.session.generate(*id, &m.records[id].doc))
                .collect()
        })
        .unwrap_or_default();
    if !messages.is_empty() {
        send_docs(messages);
    }
    drop_documents(ctx, change.dropped);
    // Who follows a record is stored with it.
    let mut changed = new;
    changed.extend(change.left);
    if !changed.is_empty() {
        ctx.changed();
        spawn_local(async move {
            if ctx.persist(changed).await.is_err() {
                ctx.notify("error.not_saved", true);
            }
        });
    }
}

/// Deletes documents the phone no longer keeps (followed ones nobody follows any more).
fn drop_documents(ctx: Ctx, dropped: Vec<DocumentId>) {
    if dropped.is_empty() {
        return;
    }
    ctx.changed();
    let ids: Vec<String> = dropped.iter().map(ToString::to_string).collect();
    spawn_local(async move {
        if let Some(storage) = ctx.storage.get_value() {
            if let Err(error) = storage.delete_records(&ids).await {
                leptos::logging::warn!("dropping unfollowed records failed: {error}");
            }
        }
    });
}

fn receive_stored(ctx: Ctx, docs: Vec<StoredDoc>) {
    let ids = ctx
        .model
        .try_update_value(|m| {
            let crate::model::Model {
                records, session, ..
            } = m;
            let mut ids = Vec::new();
            for stored in docs {
                if let Some(record) = records.get_mut(&stored.doc) {
                    record.acked_heads = stored
                        .heads
                        .iter()
                        .filter_map(|h| automerge::ChangeHash::try_from(h.as_slice()).ok())
                        .collect();
                    record.received_at = Some(stored.received_at);
                    // Version 3 leaves out the server's sync message that this stands for.
                    // (Applying a message without changes cannot fail.)
                    let _ = session.stored(stored.doc, &mut record.doc, &record.acked_heads);
                    ids.push(stored.doc);
                }
            }
            ids
        })
        .unwrap_or_default();
    ctx.changed();
    spawn_local(async move {
        if ctx.persist(ids).await.is_err() {
            ctx.notify("error.not_saved", true);
        }
    });
}
