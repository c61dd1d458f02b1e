//! One writer per phone. Every tab and window of the app on a phone shares its IndexedDB and
//! its device's Automerge actor; two of them writing would make two different changes with the
//! same actor and sequence number, which no replica can ever accept. So one tab at a time
//! holds the Web Lock `gatehouse-writer` and works with the records; another tab shows that
//! the app is open elsewhere, and "use here" moves the lock: the holder finishes what it is
//! saving, stops syncing and lets go; the new tab then reads the records from storage.
//!
//! Where the browser has no Web Locks, the app runs without this guard (and says so in the
//! console).

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::BroadcastChannel;

const LOCK: &str = "gatehouse-writer";
const CHANNEL: &str = "gatehouse-writer";
const RELEASE: &str = "release";
/// How long a tab taking over waits for the holder to let go.
const TAKE_OVER_WAIT_MS: u32 = 10_000;
/// Set (in this tab's session storage) by "use here" before the reload that takes the lock.
const TAKE_OVER: &str = "gatehouse.take-over";

/// The open channel and its message handler, kept alive together.
type Listening = (BroadcastChannel, Closure<dyn FnMut(JsValue)>);

thread_local! {
    /// Resolves the promise that holds the lock; calling it lets the lock go.
    static HELD: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// The channel on which other tabs ask the holder to let go (kept open while held).
    static LISTENING: RefCell<Option<Listening>> = const { RefCell::new(None) };
}

/// Whether this tab got the lock: `true` when it did (or the browser has no Web Locks).
/// A tab that the user told to take over asks the holder to let go and waits for it;
/// otherwise it takes the lock only if it is free.
pub async fn acquire() -> bool {
    let take_over = session_flag();
    let Some(locks) = web_locks() else {
        leptos::logging::warn!("no Web Locks: two tabs of the app could both write");
        return true;
    };
    // Taking over: ask the holder to let go, again every second (a holder that was just
    // starting may not have been listening), and give up after a while (a frozen tab): the
    // user sees "open elsewhere" again and can retry.
    let asking = take_over.then(|| {
        let ask = Closure::<dyn FnMut()>::new(|| {
            if let Ok(channel) = BroadcastChannel::new(CHANNEL) {
                let _ = channel.post_message(&JsValue::from_str(RELEASE));
                channel.close();
            }
        });
        let _ = ask
            .as_ref()
            .unchecked_ref::<Function>()
            .call0(&JsValue::NULL);
        let timer = web_sys::window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                ask.as_ref().unchecked_ref(),
                1000,
            )
            .ok()
        });
        (ask, timer)
    });
    let granted = match request(&locks, !take_over) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    if let Some((_ask, Some(timer))) = asking {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(timer);
        }
    }
    match granted {
        Ok(value) => value.as_bool() == Some(true),
        // The wait timed out: the holder did not let go.
        Err(error) if take_over => {
            leptos::logging::warn!("the other tab did not let go: {error:?}");
            false
        }
        Err(error) => {
            leptos::logging::warn!("Web Locks failed ({error:?}): running unguarded");
            true
        }
    }
}

/// Calls `on_release` when another tab asks for the lock; `on_release` resolves once this tab
/// has saved what it was saving and stopped, and then the lock is let go.
pub fn listen(on_release: impl Fn() -> Promise + 'static) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let data = Reflect::get(&event, &"data".into()).unwrap_or(JsValue::UNDEFINED);
        if data.as_string().as_deref() != Some(RELEASE) {
            return;
        }
        let stopped = on_release();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(stopped).await;
            release();
        });
    });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    LISTENING.with_borrow_mut(|l| *l = Some((channel, handler)));
}

/// Reloads this tab to take the lock from the tab that holds it.
pub fn use_here() {
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = storage.set_item(TAKE_OVER, "1");
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

fn release() {
    LISTENING.with_borrow_mut(|l| {
        if let Some((channel, _)) = l.take() {
            channel.close();
        }
    });
    if let Some(resolve) = HELD.with_borrow_mut(Option::take) {
        let _ = resolve.call0(&JsValue::NULL);
    }
}

/// Reads and clears the take-over flag.
fn session_flag() -> bool {
    let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) else {
        return false;
    };
    let set = storage.get_item(TAKE_OVER).ok().flatten().is_some();
    let _ = storage.remove_item(TAKE_OVER);
    set
}

fn web_locks() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// `navigator.locks.request(LOCK, {ifAvailable}, callback)`: a promise of whether the lock
/// was granted. When it is, the callback's own promise stays pending (holding the lock) until
/// `release` resolves it.
fn request(locks: &JsValue, if_available: bool) -> Result<Promise, JsValue> {
    let method: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    let options = Object::new();
    Reflect::set(
        &options,
        &"ifAvailable".into(),
        &JsValue::from_bool(if_available),
    )?;
    if !if_available {
        // Waiting for the holder: at most TAKE_OVER_WAIT_MS (AbortSignal.timeout).
        let abort_signal = Reflect::get(&js_sys::global(), &"AbortSignal".into())?;
        let timeout: Function = Reflect::get(&abort_signal, &"timeout".into())?.dyn_into()?;
        let signal = timeout.call1(&abort_signal, &JsValue::from(TAKE_OVER_WAIT_MS))?;
        Reflect::set(&options, &"signal".into(), &signal)?;
    }
    let mut outcome: Option<Function> = None;
    let granted = Promise::new(&mut |resolve, _reject| outcome = Some(resolve));
    let outcome = outcome.ok_or_else(|| JsValue::from_str("no resolver"))?;
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        if lock.is_null() || lock.is_undefined() {
            let _ = outcome.call1(&JsValue::NULL, &JsValue::FALSE);
            return JsValue::UNDEFINED;
        }
        let held = Promise::new(&mut |resolve, _reject| {
            HELD.with_borrow_mut(|h| *h = Some(resolve));
        });
        let _ = outcome.call1(&JsValue::NULL, &JsValue::TRUE);
        held.into()
    });
    let pending: Promise = method
        .call3(locks, &LOCK.into(), &options, &callback)?
        .dyn_into()?;
    // The request's own promise settles only when the lock is let go; nothing waits on it.
    drop(pending);
    Ok(granted)
}
