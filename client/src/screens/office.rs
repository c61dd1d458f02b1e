//! The office's list: every record of the clerk's estates, newest first, with the common
//! columns and each kind's detail; a page at a time, saying how many are shown and whether
//! older ones remain.

use gatehouse_shared::DocumentId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::kinds;
use crate::time::format_time;

/// The office's list, loaded on first use (only office staff need it).
#[lazy]
pub fn office_home() -> AnyView {
    view! { <OfficeHome/> }.into_any()
}

#[component]
fn OfficeHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let records = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.office.clone())
    };
    let more = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.office_more)
    };
    let loaded = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.office_loaded)
    };
    let loading = RwSignal::new(false);
    let load_more = move |_| {
        let Some(session) = ctx.session.get_untracked() else {
            return;
        };
        let after = ctx.model.with_value(|m| m.office_cursor);
        loading.set(true);
        spawn_local(async move {
            match api::list_records(&session.token, after).await {
                Ok(page) => {
                    let full = page.len() >= api::OFFICE_PAGE;
                    let last = page.last().map(|r| (r.started_at, r.doc));
                    ctx.model.update_value(|m| {
                        m.office_cursor = last.or(m.office_cursor);
                        m.merge_office(page);
                        m.office_more = full;
                    });
                    ctx.changed();
                }
                Err(_) => ctx.notify("office.load_failed", true),
            }
            loading.set(false);
        });
    };
    let open = move |id: DocumentId| {
        ctx.follow(id);
        ctx.screen.set(Screen::Record(id));
    };
    view! {
        <h2>{t!(i18n, office.title)}</h2>
        // Rows are buttons (opened by a tap, Enter or Space), so the list is not a <ul>.
        <div class="list" data-testid="office-list">
            {move || {
                let records = records();
                if records.is_empty() && !loaded() {
                    ().into_any()
                } else if records.is_empty() {
                    view! { <p class="muted">{t!(i18n, office.empty)}</p> }.into_any()
                } else {
                    records.into_iter().map(|r| {
                        let id = r.doc;
                        // Open ones (a round under way) and closed ones look different.
                        let open_now = r.closed_at.is_none();
                        view! {
                            // Opened by a tap, or from the keyboard (Tab to it, Enter or Space).
                            <div class="row" data-testid="office-item" data-doc=id.to_string()
                                role="button" tabindex="0"
                                on:click=move |_| open(id)
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Enter" || ev.key() == " " {
                                        ev.prevent_default();
                                        open(id);
                                    }
                                }>
                                <div class="row-main">
                                    <strong data-testid="office-title">{r.title.clone()}</strong>
                                    {(!r.unit.is_empty()).then(|| view! { <span data-testid="office-unit">{r.unit.clone()}</span> })}
                                    <span>{r.author_name.clone()}</span>
                                    <span class="muted">{format_time(r.started_at)}</span>
                                </div>
                                <div class="row-meta">
                                    <span class="pill" data-testid="office-kind">{kinds::kind_name(i18n, r.kind)}</span>
                                    <span data-testid="office-status" data-open=open_now.to_string()
                                        class=if open_now { "pill open" } else { "pill ok" }>
                                        {kinds::status_name(i18n, r.kind, &r.status)}
                                    </span>
                                    {kinds::summary_detail(i18n, &r.detail)}
                                    <span class="muted">{t!(i18n, office.received)}" "{format_time(r.last_received_at)}</span>
                                </div>
                            </div>
                        }
                    }).collect_view().into_any()
                }
            }}
        </div>
        // Until the list came from the server (offline since the app opened), it says so
        // instead of counting what it does not have.
        <p class="muted" data-testid="office-count" data-loaded=move || loaded().to_string()>
            {move || {
                let shown = records().len();
                if !loaded() {
                    t!(i18n, office.not_loaded).into_any()
                } else if more() {
                    t!(i18n, office.shown_more, count = move || shown).into_any()
                } else {
                    t!(i18n, office.shown_all, count = move || shown).into_any()
                }
            }}
        </p>
        <Show when=more>
            <button class="secondary" data-testid="office-load-more" on:click=load_more
                prop:disabled=move || loading.get()>
                {t!(i18n, office.load_more)}
            </button>
        </Show>
    }
}
