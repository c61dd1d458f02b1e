//! The office's side of routes: define and revise a route checkpoint by checkpoint, print
//! its QR codes, retire it, and see per route and day which due rounds were done and which
//! checkpoints were missed.

use gatehouse_shared::record::patrol_route::{
    checkpoint_id, route_day, Checkpoint, RoundFacts, RouteRevision, Slot,
};
use gatehouse_shared::record::{RecordSummary, SummaryDetail};
use gatehouse_shared::{AnyRecord, DocumentId, EntryId, PatrolRoute, Problem, RecordKind, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::time::now_ms;
use crate::widgets::Problems;

/// One checkpoint being edited; `id` is kept from the route (its printed code stays good),
/// empty for one added here.
#[derive(Clone)]
struct Row {
    key: u64,
    id: String,
    name: RwSignal<String>,
    hint: RwSignal<String>,
}

/// Defines a route (`existing` None) or revises one: name, checkpoints in order, due times,
/// time allowed.
#[component]
fn RouteForm(
    existing: Option<(DocumentId, RouteRevision)>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let next_key = StoredValue::new(0_u64);
    let new_row = move |id: String, name: String, hint: String| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        Row {
            key,
            id,
            name: RwSignal::new(name),
            hint: RwSignal::new(hint),
        }
    };
    let (name0, rows0, due0, minutes0) = match &existing {
        Some((_, r)) => (
            r.name.clone(),
            r.checkpoints
                .iter()
                .map(|c| new_row(c.id.clone(), c.name.clone(), c.hint.clone()))
                .collect(),
            r.due_times.join(" "),
            r.max_minutes.to_string(),
        ),
        None => (
            String::new(),
            vec![new_row(String::new(), String::new(), String::new())],
            String::new(),
            "60".to_owned(),
        ),
    };
    let name = RwSignal::new(name0);
    let rows = RwSignal::new(rows0);
    let due = RwSignal::new(due0);
    let minutes = RwSignal::new(minutes0);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let revising = existing.as_ref().map(|(id, r)| (*id, r.retired));
    // A revision comes after the one in force, even from a phone whose clock is behind.
    let after = existing.as_ref().map_or(0, |(_, r)| r.revised_at + 1);
    let save = move || {
        if busy.get_untracked() {
            return;
        }
        let checkpoints: Vec<Checkpoint> = rows
            .get_untracked()
            .into_iter()
            .filter(|r| {
                !(r.name.get_untracked().trim().is_empty()
                    && r.hint.get_untracked().trim().is_empty())
            })
            .map(|r| Checkpoint {
                id: if r.id.is_empty() {
                    let bytes = random_id();
                    checkpoint_id([
                        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6],
                        bytes[7],
                    ])
                } else {
                    r.id
                },
                name: r.name.get_untracked(),
                hint: r.hint.get_untracked(),
            })
            .collect();
        let due_times: Vec<String> = due
            .get_untracked()
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
            .filter(|t| !t.is_empty())
            .map(|t| t.replace('：', ":"))
            .collect();
        let Ok(max_minutes) = minutes.get_untracked().trim().parse::<u32>() else {
            problems.set(vec![Problem::new(
                "revision.max_minutes",
                gatehouse_shared::problem::keys::OUT_OF_RANGE,
            )]);
            return;
        };
        let revision = RouteRevision::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &name.get_untracked(),
            checkpoints,
            &due_times,
            max_minutes,
            revising.is_some_and(|(_, retired)| retired),
            now_ms().max(after),
        );
        let revision = match revision {
            Ok(revision) => revision,
            Err(found) => return problems.set(found),
        };
        match revising {
            Some((id, _)) => ctx.save_edit_once::<PatrolRoute>(
                busy,
                id,
                problems,
                "route.saved",
                move |route| route.revisions.push(revision),
                move || on_done.run(()),
            ),
            None => {
                let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
                    return;
                };
                let Some(estate) = ctx.start_estate(None) else {
                    return;
                };
                let route =
                    PatrolRoute::new(&estate, &user.id, &user.display_name, revision, now_ms());
                busy.set(true);
                spawn_local(async move {
                    let started = match route {
                        Ok(route) => ctx.start(route).await,
                        Err(found) => Err(EditError::Invalid(found)),
                    };
                    busy.set(false);
                    match started {
                        Ok(id) => {
                            problems.set(Vec::new());
                            ctx.notify("route.saved", false);
                            ctx.screen.set(Screen::Record(id));
                            on_done.run(());
                        }
                        Err(EditError::Invalid(found)) => problems.set(found),
                        Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
                    }
                });
            }
        }
    };
    let add_row =
        move |_| rows.update(|r| r.push(new_row(String::new(), String::new(), String::new())));
    view! {
        <form class="card" data-testid="route-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h3>{if revising.is_some() { t!(i18n, route.edit).into_any() } else { t!(i18n, route.new_route).into_any() }}</h3>
            <label>{t!(i18n, route.name)}
                <input data-testid="route-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <fieldset>
                <legend>{t!(i18n, route.checkpoints)}</legend>
                <ol class="route-rows">
                    <For each=move || rows.get() key=|r| r.key let(row)>
                        <li class="route-row" data-testid="route-checkpoint-row">
                            <input data-testid="route-checkpoint-name" aria-label=move || t_string!(i18n, route.checkpoint_name).to_string()
                                placeholder=move || t_string!(i18n, route.checkpoint_name).to_string()
                                prop:value=move || row.name.get() on:input=move |ev| row.name.set(event_target_value(&ev))/>
                            <input data-testid="route-checkpoint-hint" aria-label=move || t_string!(i18n, route.hint).to_string()
                                placeholder=move || t_string!(i18n, route.hint).to_string()
                                prop:value=move || row.hint.get() on:input=move |ev| row.hint.set(event_target_value(&ev))/>
                            <button type="button" class="link" on:click=move |_| rows.update(|r| {
                                if let Some(i) = r.iter().position(|x| x.key == row.key) {
                                    if i > 0 { r.swap(i, i - 1); }
                                }
                            })>{t!(i18n, route.move_up)}</button>
                            <button type="button" class="link" on:click=move |_| rows.update(|r| r.retain(|x| x.key != row.key))>
                                {t!(i18n, route.remove)}
                            </button>
                        </li>
                    </For>
                </ol>
                <button type="button" class="secondary" data-testid="route-add-checkpoint" on:click=add_row>{t!(i18n, route.add_checkpoint)}</button>
            </fieldset>
            <label>{t!(i18n, route.due_times)}
                <input data-testid="route-due" prop:value=move || due.get() on:input=move |ev| due.set(event_target_value(&ev))
                    placeholder=move || t_string!(i18n, route.due_times_hint).to_string()/>
            </label>
            <label>{t!(i18n, route.max_minutes)}
                <input data-testid="route-minutes" type="number" inputmode="numeric" min="1"
                    prop:value=move || minutes.get() on:input=move |ev| minutes.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button type="submit" class="primary" data-testid="route-save" prop:disabled=move || busy.get()>{t!(i18n, route.save)}</button>
        </form>
    }
}

/// The office's routes screen: every route of its estates, a new one, and the day's report.
#[component]
pub fn RoutesScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let adding = RwSignal::new(false);
    let routes = move || super::routes(ctx, true);
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>{t!(i18n, patrol.back)}</button>
        <h2>{t!(i18n, route.title)}</h2>
        // Rows are buttons, so the list is not a <ul>.
        <div class="list" data-testid="route-list">
            {move || {
                let routes = routes();
                if routes.is_empty() {
                    return view! { <p class="muted">{t!(i18n, route.none)}</p> }.into_any();
                }
                routes.into_iter().map(|(id, route)| {
                    let current = route.current().cloned();
                    let retired = route.is_retired();
                    view! {
                        <div class="row" role="button" tabindex="0" data-testid="route-item" data-doc=id.to_string()
                            on:click=move |_| ctx.screen.set(Screen::Record(id))
                            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " {
                                ev.prevent_default();
                                ctx.screen.set(Screen::Record(id));
                            }>
                            <div class="row-main"><strong>{route.name().to_owned()}</strong>
                                {retired.then(|| view! { <span class="pill">{t!(i18n, route.status_retired)}</span> })}
                            </div>
                            <div class="row-meta">{current.map(|r| view! {
                                <span>{t!(i18n, route.checkpoint_count, count = r.checkpoints.len())}</span>
                                <span>{r.due_times.join(" ")}</span>
                                <span>{t!(i18n, route.limit, minutes = r.max_minutes)}</span>
                            })}</div>
                        </div>
                    }
                }).collect_view().into_any()
            }}
        </div>
        <Show when=move || adding.get() fallback=move || view! {
            <button class="secondary" data-testid="new-route" on:click=move |_| adding.set(true)>{t!(i18n, route.new_route)}</button>
        }>
            <RouteForm existing=None on_done=move |_| adding.set(false)/>
        </Show>
        <DayReport/>
    }
}

/// A route as it stands, for whoever holds it; for office staff, its revision, retirement
/// and the sheet of QR codes to print.
#[component]
pub fn RouteBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let route = Memo::new(move |_| record.get().and_then(|r| r.as_patrol_route().cloned()));
    let office = move || {
        ctx.session
            .get()
            .is_some_and(|s| s.user.role == Role::Office)
            && ctx.editable(id)
    };
    let editing = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let retire = move |_| {
        let Some(current) = route.get_untracked().and_then(|r| r.current().cloned()) else {
            return;
        };
        let revision = RouteRevision::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &current.name,
            current.checkpoints.clone(),
            &current.due_times,
            current.max_minutes,
            !current.retired,
            now_ms().max(current.revised_at + 1),
        );
        match revision {
            Ok(revision) => ctx.save_edit_once::<PatrolRoute>(
                busy,
                id,
                problems,
                "route.saved",
                move |r| r.revisions.push(revision),
                || {},
            ),
            Err(found) => problems.set(found),
        }
    };
    let current = move || route.get().and_then(|r| r.current().cloned());
    view! {
        {move || current().map(|r| view! {
            <section class="card" data-testid="route-view">
                <p>{r.due_times.join(" ")}" · "{t!(i18n, route.limit, minutes = r.max_minutes)}</p>
                {r.retired.then(|| view! { <p class="warning">{t!(i18n, route.retired_note)}</p> })}
                <ol>
                    {r.checkpoints.iter().map(|c| view! {
                        <li>{c.name.clone()}{(!c.hint.is_empty()).then(|| format!(" · {}", c.hint))}</li>
                    }).collect_view()}
                </ol>
            </section>
        })}
        <Show when=office>
            <div class="actions no-print">
                <button class="secondary" data-testid="route-edit" on:click=move |_| editing.update(|e| *e = !*e)>{t!(i18n, route.edit)}</button>
                <button class="secondary" data-testid="route-retire" prop:disabled=move || busy.get() on:click=retire>
                    {move || if route.get().is_some_and(|r| r.is_retired()) {
                        t_string!(i18n, route.reactivate)
                    } else {
                        t_string!(i18n, route.retire)
                    }}
                </button>
            </div>
            <Problems problems=problems/>
            {move || (editing.get()).then(|| current().map(|r| view! {
                <RouteForm existing=Some((id, r)) on_done=move |_| editing.set(false)/>
            }))}
            <QrSheet route=route/>
        </Show>
    }
}

/// One QR code per checkpoint with its name and the route's, to print and put up.
#[component]
fn QrSheet(route: Memo<Option<PatrolRoute>>) -> impl IntoView {
    let i18n = use_i18n();
    let print = move |_| {
        let _ = window().print();
    };
    view! {
        <h2 class="no-print">{t!(i18n, route.print)}</h2>
        <p class="muted no-print">{t!(i18n, route.qr_hint)}</p>
        <button class="secondary no-print" data-testid="route-print" on:click=print>{t!(i18n, route.print_now)}</button>
        <div class="qr-sheet">
            {move || route.get().and_then(|r| {
                let name = r.name().to_owned();
                r.current().map(|rev| rev.checkpoints.iter().map(|c| {
                    let svg = qr_svg(&c.qr_text());
                    view! {
                        <figure class="qr" data-testid="checkpoint-qr" data-checkpoint=c.name.clone()>
                            <div class="qr-code" inner_html=svg></div>
                            <figcaption><strong>{c.name.clone()}</strong><br/>{name.clone()}</figcaption>
                        </figure>
                    }
                }).collect_view())
            })}
        </div>
    }
}

/// `text` as a QR code in SVG (medium error correction, a quiet zone around it).
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// Local midnight of a `YYYY-MM-DD` day, and of the day after, ms since the Unix epoch.
fn day_bounds(day: &str) -> Option<(i64, i64)> {
    let date = gatehouse_shared::date::Date::parse(day)?;
    let (y, m, d) = (date.year(), date.month(), date.day());
    let start = js_sys::Date::new_with_year_month_day(y as u32, i32::from(m) - 1, i32::from(d));
    let end = js_sys::Date::new_with_year_month_day(y as u32, i32::from(m) - 1, i32::from(d) + 1);
    Some((start.get_time() as i64, end.get_time() as i64))
}

/// The rounds (summaries) started in `[start, end)`, every page of them.
async fn rounds_between(
    token: &str,
    start: i64,
    end: i64,
) -> Result<Vec<RecordSummary>, api::ApiError> {
    let mut found = Vec::new();
    let mut after = Some((end, DocumentId::from_random([0xff; 16])));
    loop {
        let page = api::list_records_of(token, Some(RecordKind::PatrolLog), after).await?;
        let full = page.len() >= api::OFFICE_PAGE;
        let last = page.last().map(|s| (s.started_at, s.doc));
        let past_start = last.is_none_or(|(at, _)| at < start);
        found.extend(
            page.into_iter()
                .filter(|s| (start..end).contains(&s.started_at)),
        );
        if !full || past_start {
            return Ok(found);
        }
        after = last;
    }
}

/// Per route, for a day: its due rounds done or not, the rounds, those overdue, and the
/// checkpoints the ended rounds missed.
#[component]
fn DayReport() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let day = RwSignal::new(
        crate::kinds::registry::today()
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let rounds = LocalResource::new(move || {
        let day = day.get();
        let token = ctx.session.get_untracked().map(|s| s.token);
        async move {
            let (start, end) = day_bounds(&day).ok_or(())?;
            let token = token.ok_or(())?;
            let rounds = rounds_between(&token, start, end).await.map_err(|_| ())?;
            Ok::<_, ()>((start, rounds))
        }
    });
    let report = move || {
        let now = now_ms();
        let (start, rounds) = match rounds.get() {
            None => return view! { <p class="muted">{t!(i18n, app.loading)}</p> }.into_any(),
            Some(Err(())) => {
                return view! { <p class="warning">{t!(i18n, route.load_failed)}</p> }.into_any()
            }
            Some(Ok(found)) => found,
        };
        let routes = super::routes(ctx, true);
        routes.into_iter().filter_map(|(id, route)| {
            let mine: Vec<&RecordSummary> = rounds.iter().filter(|s| matches!(&s.detail,
                SummaryDetail::PatrolLog { route_id: Some(r), .. } if *r == id)).collect();
            let facts: Vec<RoundFacts<'_>> = mine.iter().filter_map(|s| match &s.detail {
                SummaryDetail::PatrolLog { visited, .. } => Some(RoundFacts {
                    started_at: s.started_at,
                    ended_at: s.closed_at,
                    visited,
                }),
                _ => None,
            }).collect();
            if route.is_retired() && facts.is_empty() {
                return None;
            }
            let day = route_day(&route, &facts, start, now);
            Some(view! {
                <li class="entry" data-testid="route-day" data-route=route.name().to_owned()>
                    <strong>{route.name().to_owned()}</strong>
                    <div class="row-meta">
                        {if day.slots.is_empty() {
                            view! { <span class="muted">{t!(i18n, route.no_due_times)}</span> }.into_any()
                        } else {
                            day.slots.iter().map(|(time, slot)| {
                                let (class, word) = match slot {
                                    Slot::Done(_) => ("pill ok", t_string!(i18n, route.slot_done)),
                                    Slot::NotDone => ("pill bad", t_string!(i18n, route.slot_not_done)),
                                    Slot::Pending => ("pill", t_string!(i18n, route.slot_pending)),
                                };
                                view! { <span class=class data-testid="route-slot">{format!("{time} {word}")}</span> }
                            }).collect_view().into_any()
                        }}
                        <span data-testid="route-rounds">{t!(i18n, route.rounds, count = day.rounds)}</span>
                        {(day.open_rounds > 0).then(|| view! { <span>{t!(i18n, route.open_rounds, count = day.open_rounds)}</span> })}
                        {(day.overdue_rounds > 0).then(|| view! { <span class="pill bad">{t!(i18n, route.overdue_rounds, count = day.overdue_rounds)}</span> })}
                    </div>
                    <div data-testid="route-missed">
                        {if day.missed.is_empty() {
                            t_string!(i18n, route.no_missed).to_string()
                        } else {
                            format!("{}{}", t_string!(i18n, route.missed), day.missed.iter()
                                .map(|(name, n)| format!("{name} ×{n}"))
                                .collect::<Vec<_>>()
                                .join(t_string!(i18n, route.separator)))
                        }}
                    </div>
                </li>
            })
        }).collect_view().into_any()
    };
    view! {
        <h2>{t!(i18n, route.report)}</h2>
        <label>{t!(i18n, route.report_day)}
            <input type="date" data-testid="route-report-day" prop:value=move || day.get()
                on:change=move |ev| day.set(event_target_value(&ev))/>
        </label>
        <ul class="list" data-testid="route-report">{report}</ul>
    }
}
