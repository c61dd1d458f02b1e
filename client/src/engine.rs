//! The way from the main module into the records engine: Automerge, the records' types and
//! rules, the sync connection and the export.
//!
//! The main module holds what the first screen needs: the shell and the sign-in form. The
//! engine is a third of the app's code, so it loads in chunks of its own, fetched once the
//! first screen shows: these functions are `#[lazy]`, and nothing else the main module runs
//! calls into the engine (the screens that do are lazily loaded themselves). What the main
//! module does with the model is read fields and cheap checks (whether a record's heads are
//! acknowledged); `cargo xtask test` holds its size to a budget.

use automerge::ActorId;
use gatehouse_shared::connection::{Phase, Status};
use gatehouse_shared::user::SignInResponse;
use leptos::prelude::*;

use crate::ctx::{Ctx, Screen};
use crate::identity::DeviceIdentity;
use crate::model::Model;
use crate::storage::Storage;
use crate::sync_driver;

/// Reads the phone's records into the model and installs the sync driver; with the session
/// kept from before, goes on as its user.
#[lazy]
pub async fn open_records(
    ctx: Ctx,
    storage: Storage,
    signed_in: Option<(SignInResponse, DeviceIdentity)>,
) {
    let stored = storage.all_records().await.unwrap_or_else(|error| {
        leptos::logging::error!("reading records failed: {error}");
        Vec::new()
    });
    // The actor is replaced by the signed-in user's device actor below or at sign-in.
    let (model, unreadable) = Model::restore(ActorId::random(), stored);
    if unreadable > 0 {
        leptos::logging::warn!(
            "{unreadable} stored records could not be read; they are kept untouched"
        );
    }
    ctx.model.set_value(model);
    sync_driver::install(ctx);
    ctx.records_open.set_value(true);
    ctx.changed();
    if let Some((session, identity)) = signed_in {
        // The server said so before: nothing is written or sent until the user signs in
        // again (which succeeds only once an admin restored the device).
        let revoked = sync_driver::is_revoked(&storage).await;
        enter(ctx, session, identity, revoked);
    }
}

/// Goes on as the user who just signed in (online or offline), once the records are open
/// (the sign-in form shows before they are).
#[lazy]
pub async fn signed_in(ctx: Ctx, session: SignInResponse, identity: DeviceIdentity) {
    while !ctx.records_open.get_value() {
        crate::time::sleep(20).await;
    }
    enter(ctx, session, identity, false);
}

/// The user's records, shown and synced as theirs.
fn enter(ctx: Ctx, session: SignInResponse, identity: DeviceIdentity, revoked: bool) {
    ctx.model
        .update_value(|m| m.sign_in(&session.user.id, identity.actor_id()));
    ctx.set_identity(identity);
    ctx.session.set(Some(session));
    ctx.screen.set(Screen::Home);
    if revoked {
        ctx.phase.set(Phase::DeviceRevoked);
        ctx.status.set(Status::DeviceRevoked);
    } else {
        sync_driver::start(ctx);
    }
    ctx.changed();
}

/// The user pressed "sync now".
#[lazy]
pub async fn sync_now(ctx: Ctx) {
    sync_driver::sync_now(ctx);
}

/// Offers the records that have not reached the server as a file.
#[lazy]
pub async fn export_unsynced(ctx: Ctx) {
    ctx.export_unsynced();
}
