//! Taking one signature for a found item: what is signed, in lines the signer reads, the
//! signer's name, the pad; the signature made with this device's key.

use gatehouse_shared::problem::keys;
use gatehouse_shared::record::found_item::FoundItem;
use gatehouse_shared::signature::{Purpose, Signature, SignerRole, Stroke, Unsigned};
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ctx::{random_id, Ctx, EditError};
use crate::i18n::*;
use crate::kinds::repair::pad::{take_signature, SignaturePad};
use crate::text::switch_locale;
use crate::time::now_ms;
use crate::widgets::Problems;

/// What a signature is taken for: its purpose and subject, the signer as they wrote their
/// name, what they drew, and the hash of the content they read.
pub(super) struct Signing {
    pub purpose: Purpose,
    pub subject: String,
    pub role: SignerRole,
    pub name: String,
    pub stroke: Vec<u8>,
    pub content_hash: [u8; 32],
}

/// Takes the signature with this device's key and saves it in one edit with `add` (which puts
/// it, and the entry it signs if that is new, into the record); `busy` is set meanwhile, then
/// `saved_key` is shown, or why it was not saved.
pub(super) fn sign_and_save(
    ctx: Ctx,
    id: DocumentId,
    signing: Signing,
    busy: RwSignal<bool>,
    problems: RwSignal<Vec<Problem>>,
    saved_key: &'static str,
    add: impl FnOnce(&mut FoundItem, Signature) + 'static,
) {
    let (Some(session), Some(identity)) = (ctx.session.get_untracked(), ctx.identity.get_value())
    else {
        return ctx.notify("error.not_saved", true);
    };
    busy.set(true);
    spawn_local(async move {
        let entry_id = EntryId::from_random(random_id()).to_string();
        let unsigned = Unsigned {
            id: &entry_id,
            author: &session.user.id,
            purpose: signing.purpose,
            subject: &signing.subject,
            signer_role: signing.role,
            signer_name: &signing.name,
            stroke: &signing.stroke,
            content_hash: signing.content_hash,
            signed_at: now_ms(),
            document: id,
            device_id: identity.device_id(),
        };
        let outcome = match take_signature(&identity, &unsigned).await {
            Ok(entry) => ctx.edit::<FoundItem>(id, move |r| add(r, entry)).await,
            Err(error) => Err(error),
        };
        busy.set(false);
        match outcome {
            Ok(()) => {
                problems.set(Vec::new());
                ctx.notify(saved_key, false);
            }
            Err(EditError::Invalid(found)) => problems.set(found),
            Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
        }
    });
}

/// The pad with what it signs above it. `on_sign` gets the name and the drawn stroke once
/// both are there; `busy` disables the button while the caller saves.
#[component]
pub(super) fn SignBox(
    heading: String,
    lines: Vec<String>,
    name: RwSignal<String>,
    busy: RwSignal<bool>,
    problems: RwSignal<Vec<Problem>>,
    testid: &'static str,
    on_sign: Callback<(String, Vec<u8>)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let stroke = RwSignal::new(Stroke {
        width: 1,
        height: 1,
        lines: Vec::new(),
    });
    let full = RwSignal::new(false);
    let clear = move |_| {
        stroke.update(|s| s.lines.clear());
        full.set(false);
    };
    let sign = move |_| {
        if busy.get_untracked() {
            return;
        }
        let drawn = stroke.get_untracked();
        if drawn.is_empty() {
            problems.set(vec![Problem::new("signature.stroke", keys::EMPTY_STROKE)]);
            return;
        }
        if name.get_untracked().trim().is_empty() {
            problems.set(vec![Problem::new("signer_name", keys::REQUIRED)]);
            return;
        }
        on_sign.run((name.get_untracked(), drawn.encode()));
    };
    view! {
        <section class="card sign-step" data-testid=testid>
            <h3>{heading}</h3>
            <button class="link" data-testid="signer-language" on:click=move |_| switch_locale(i18n)>
                {t!(i18n, app.switch_language)}
            </button>
            <div class="signed-content" data-testid="signed-content">
                {lines.into_iter().map(|line| view! { <div>{line}</div> }).collect_view()}
            </div>
            <label>{t!(i18n, signature.signer_name)}
                <input data-testid="signer-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <p class="muted">{t!(i18n, signature.sign_below)}</p>
            <SignaturePad stroke=stroke full=full/>
            <Show when=move || full.get()>
                <p class="problems">{t!(i18n, signature.pad_full)}</p>
            </Show>
            <Problems problems=problems/>
            <div class="actions">
                <button class="secondary" data-testid="clear-signature" on:click=clear>{t!(i18n, signature.clear)}</button>
                <button class="primary" data-testid="confirm-signature" on:click=sign
                    prop:disabled=move || busy.get()>{t!(i18n, signature.confirm)}</button>
            </div>
        </section>
    }
}
