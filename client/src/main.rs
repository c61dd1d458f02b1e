//! The Gatehouse field app: Leptos, client-side rendered, compiled to WebAssembly.
//!
//! Records are Automerge documents kept in IndexedDB (`storage`), edited through the shared
//! record functions, and synced by `sync_driver` whenever there is a network. Nothing here
//! waits for the network before saving: an entry is on the phone before the screen says so.

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

mod api;
mod app;
mod ctx;
mod engine;
mod estates;
mod export;
mod identity;
mod kinds;
mod model;
mod offline_sign_in;
mod screens;
mod single_writer;
mod storage;
mod sync_driver;
mod text;
mod time;
mod widgets;

fn main() {
    // The first screen of index.html, shown while the app loaded, gives way to the app.
    if let Some(first) = leptos::prelude::document().get_element_by_id("boot") {
        first.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
