//! Small pieces the screens share: form messages, rule problems, a record's status badge.

use gatehouse_shared::record::Kind;
use gatehouse_shared::{DocumentId, EntryId, Problem, Remark};
use leptos::prelude::*;

use crate::ctx::{random_id, Ctx};
use crate::i18n::*;
use crate::model::RecordStatus;
use crate::text::{problem_text, tr};
use crate::time::{format_time, now_ms};

/// The outcome of a form, as a translation key and whether it is an error.
#[component]
pub fn FormMessage(
    message: RwSignal<Option<(&'static str, bool)>>,
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        message.get().map(|(key, is_error)| {
            view! {
                <p class=if is_error { "problems" } else { "muted" } data-testid=testid>{move || tr(i18n, key)}</p>
            }
        })
    }
}

#[component]
pub fn Problems(problems: RwSignal<Vec<Problem>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !problems.get().is_empty()>
            <ul class="problems" data-testid="problems">
                {move || problems.get().iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}
            </ul>
        </Show>
    }
}

/// Where a record stands: on the phone, sending, received by the server, or refused.
#[component]
pub fn StatusBadge(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let status = move || {
        ctx.version.track();
        let connected = ctx.connected();
        ctx.model.with_value(|m| m.status(&id, connected))
    };
    let label = move || match status() {
        RecordStatus::Local => t_string!(i18n, status.local).to_string(),
        RecordStatus::Sending => t_string!(i18n, status.sending).to_string(),
        RecordStatus::Received(Some(at)) => {
            format!("{} {}", t_string!(i18n, status.received), format_time(at))
        }
        RecordStatus::Received(None) => t_string!(i18n, status.received).to_string(),
        RecordStatus::Rejected => t_string!(i18n, status.rejected).to_string(),
    };
    view! {
        <span class=move || format!("status status-{}", status().as_str()) data-testid="record-status"
            data-status=move || status().as_str()>{label}</span>
    }
}

/// A screen whose code is loaded on first use (a `#[lazy]` function's chunk, apart from the
/// main module; see `ARCHITECTURE.md`). The service worker keeps the chunk, so it opens
/// offline too.
pub fn lazy_view<F>(load: F) -> AnyView
where
    F: std::future::Future<Output = AnyView> + Send + 'static,
{
    let i18n = use_i18n();
    view! {
        <Suspense fallback=move || view! { <p class="muted">{t!(i18n, app.loading)}</p> }>
            {Suspend::new(load)}
        </Suspense>
    }
    .into_any()
}

/// The office's remark on a record of kind `K`.
pub fn remark_form<K: Kind + 'static>(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let text = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let add = move |_| {
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let remark = match Remark::new(
            EntryId::from_random(random_id()),
            &text.get_untracked(),
            &user.id,
            &user.display_name,
            now_ms(),
        ) {
            Ok(remark) => remark,
            Err(found) => return problems.set(found),
        };
        ctx.save_edit::<K>(
            id,
            problems,
            "remark.saved",
            move |r| r.remarks_mut().push(remark),
            move || text.set(String::new()),
        );
    };
    view! {
        <section class="card">
            <h3>{t!(i18n, remark.add)}</h3>
            <label>{t!(i18n, remark.text)}
                <textarea data-testid="remark-input" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="add-remark" on:click=add>{t!(i18n, remark.add)}</button>
        </section>
    }
}
