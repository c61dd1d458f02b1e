//! One record: the frame every kind shares (title, who and when, where it stands, why the
//! server refused it and the correction, refused versions set aside) around the kind's own
//! body from `kinds`.

use gatehouse_shared::problem::keys;
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::kinds;
use crate::text::problem_text;
use crate::time::format_time;
use crate::widgets::StatusBadge;

/// A record's screen, loaded on first use with the kinds' bodies (it reads the documents).
#[lazy]
pub fn record_screen(id: DocumentId) -> AnyView {
    view! { <RecordScreen id=id/> }.into_any()
}

#[component]
fn RecordScreen(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let record = Memo::new(move |_| {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).and_then(|r| r.shown()))
    });
    let rejected = move || {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).is_some_and(|r| r.rejected))
    };
    let has_set_aside = move || {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).is_some_and(|r| !r.set_aside.is_empty()))
    };
    let correct = move |_| {
        spawn_local(async move {
            match ctx.correct(id).await {
                Ok(true) => ctx.notify("correct.sent_again", false),
                Ok(false) => ctx.notify("correct.done", false),
                Err(_) => ctx.notify("error.not_saved", true),
            }
        });
    };
    let nothing_accepted = move || {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).is_some_and(|r| r.acked_heads.is_empty()))
    };
    // Refused at its start for a clock that was ahead: sending it again goes through only
    // once its times are no longer ahead of the server's.
    let clock_was_ahead = move || {
        ctx.version.track();
        ctx.model.with_value(|m| {
            m.records.get(&id).is_some_and(|r| {
                r.rejected
                    && r.acked_heads.is_empty()
                    && r.problems.iter().any(|p| p.key == keys::IN_FUTURE)
            })
        })
    };
    let server_problems = move || {
        ctx.version.track();
        ctx.model.with_value(|m| {
            m.records
                .get(&id)
                .map(|r| r.problems.clone())
                .unwrap_or_default()
        })
    };
    let header = move || {
        record.get().map(|r: AnyRecord| {
            let h = r.header();
            (
                h.title.to_owned(),
                h.unit.to_owned(),
                h.author_name.to_owned(),
                h.started_at,
                h.closed_at,
            )
        })
    };
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            "← "{t!(i18n, record.back)}
        </button>
        <Show when=move || record.get().is_some() fallback=move || view! { <p class="muted">{t!(i18n, record.loading)}</p> }>
            <section class="card" data-testid="record" data-doc=id.to_string()>
                <h2 data-testid="record-title">{move || header().map(|h| h.0)}</h2>
                {move || header().filter(|h| !h.1.is_empty()).map(|h| view! { <p data-testid="record-unit">{h.1}</p> })}
                <p class="muted">
                    {move || header().map(|h| h.2)}" · "
                    {t!(i18n, record.started)}" "{move || header().map(|h| format_time(h.3))}
                    {move || header().and_then(|h| h.4).map(|at| view! {
                        " · "{t!(i18n, record.closed)}" "{format_time(at)}
                    })}
                </p>
                <StatusBadge id=id/>
                <ul class="problems" data-testid="server-problems">
                    {move || server_problems().iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}
                </ul>
                <Show when=rejected>
                    <p class="muted">{move || if nothing_accepted() {
                        t_string!(i18n, correct.explain_again).to_string()
                    } else {
                        t_string!(i18n, correct.explain).to_string()
                    }}</p>
                    <button class="primary" data-testid="correct-record" on:click=correct>
                        {t!(i18n, correct.button)}
                    </button>
                    <Show when=clock_was_ahead>
                        <p class="muted" data-testid="clock-hint">{t!(i18n, correct.clock_hint)}</p>
                    </Show>
                </Show>
            </section>
            <Show when=has_set_aside>
                {crate::widgets::lazy_view(set_aside_list(id))}
            </Show>
            {kinds::record_body(id, record)}
        </Show>
    }
}

/// The versions of a record the server refused and the user set aside, loaded on first use
/// (most records never have one).
#[lazy]
fn set_aside_list(id: DocumentId) -> AnyView {
    view! { <SetAsideList id=id/> }.into_any()
}

/// The versions of a record the server refused and the user set aside: what was in them
/// that is not in the record now, and why it was refused. Kept on the phone, never synced.
#[component]
fn SetAsideList(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let entries = move || {
        ctx.version.track();
        ctx.model.with_value(|m| {
            let Some(record) = m.records.get(&id) else {
                return Vec::new();
            };
            record
                .set_aside
                .iter()
                .map(|aside| {
                    let refused = automerge::Automerge::load(&aside.doc)
                        .ok()
                        .and_then(|doc| gatehouse_shared::record::read_record(&doc).ok());
                    let lines = refused
                        .map(|refused| kinds::set_aside_lines(&refused, record.record.as_ref()))
                        .unwrap_or_default();
                    (aside.set_aside_at, aside.problems.clone(), lines)
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Show when=move || !entries().is_empty()>
            <h3>{t!(i18n, correct.set_aside)}</h3>
            <ul class="list" data-testid="set-aside-list">
                {move || entries().into_iter().map(|(at, problems, lines)| view! {
                    <li class="entry" data-testid="set-aside-item">
                        <div class="muted">{format_time(at)}</div>
                        <ul>{lines.into_iter().map(|line| view! { <li data-testid="set-aside-entry">{line}</li> }).collect_view()}</ul>
                        <ul class="problems">{problems.iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}</ul>
                    </li>
                }).collect_view()}
            </ul>
        </Show>
    }
}
