//! The patrol log's screens: the guard's rounds and how to start one, a round's visits,
//! findings and remarks, and the forms that add them. A visit or finding is never edited: the
//! guard corrects it with a new entry, and the corrected one is shown struck through.

use gatehouse_shared::record::entry::corrected_ids;
use gatehouse_shared::record::patrol_log::VisitMethod;
use gatehouse_shared::record::patrol_route::{checkpoint_in_code, Checkpoint};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{
    AnyRecord, CheckpointVisit, DocumentId, EntryId, Finding, PatrolLog, Problem, RecordKind, Role,
    Severity,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_i18n::I18nContext;
use wasm_bindgen::JsCast;

use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::time::{format_time, now_ms};
use crate::widgets::{remark_form, Problems, StatusBadge};

mod route_round;
use route_round::{RoundBar, RouteProgress};

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "ended" => t_string!(i18n, patrol.status_ended).to_string(),
        _ => t_string!(i18n, patrol.status_in_progress).to_string(),
    }
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::PatrolLog {
        visit_count,
        finding_count,
        follow_up_count,
        remark_count,
        planned_count,
        missed,
        ..
    } = detail
    else {
        return ().into_any();
    };
    let done = planned_count.saturating_sub(missed.len() as u32);
    view! {
        {(*planned_count > 0).then(|| view! {
            <span data-testid="office-progress">{t!(i18n, patrol.progress, done = done, total = *planned_count)}</span>
        })}
        <span data-testid="office-visits">{t!(i18n, patrol.visits)}" "{*visit_count}</span>
        <span>{t!(i18n, patrol.findings)}" "{*finding_count}</span>
        <span>{t!(i18n, office.follow_ups)}" "{*follow_up_count}</span>
        <span data-testid="office-remarks">{t!(i18n, patrol.remarks)}" "{*remark_count}</span>
    }
    .into_any()
}

/// The entries of a refused round that the round does not hold now.
pub fn set_aside_lines(refused: &PatrolLog, current: Option<&PatrolLog>) -> Vec<String> {
    let kept = |entry: &str| {
        current.is_some_and(|c| {
            c.visits.iter().any(|v| v.id == entry) || c.findings.iter().any(|f| f.id == entry)
        })
    };
    let mut lines = Vec::new();
    if current.is_none() {
        lines.push(format!(
            "{} {}",
            refused.route,
            format_time(refused.started_at)
        ));
    }
    for visit in refused.visits.iter().filter(|v| !kept(&v.id)) {
        lines.push(format!(
            "{} {}",
            visit.checkpoint,
            format_time(visit.visited_at)
        ));
    }
    for finding in refused.findings.iter().filter(|f| !kept(&f.id)) {
        lines.push(format!(
            "{} · {} {}",
            finding.what,
            finding.location,
            format_time(finding.found_at)
        ));
    }
    lines
}

/// The guard's home (start a round, the rounds on the phone), loaded on first use: no
/// other role downloads it.
#[lazy]
pub fn patrol_home() -> AnyView {
    view! { <PatrolHome/> }.into_any()
}

/// What a guard asked to start: a round on a route, or one named by hand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NewRound {
    OnRoute(DocumentId),
    Typed,
}

#[component]
fn PatrolHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let route = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    // A guard of several estates picks where the round is; new rounds go to the first.
    let estate = RwSignal::new(None::<String>);
    let estates = move || {
        ctx.session
            .get()
            .map(|s| s.user.estates)
            .unwrap_or_default()
    };
    let rounds = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.mine_of::<PatrolLog>())
    };
    // One open round per guard: the one he has not ended (a refused one is corrected first,
    // it does not count).
    let open_round = Memo::new(move |_| {
        let rounds = rounds();
        ctx.model.with_value(|m| {
            rounds
                .into_iter()
                .find(|(id, log)| !log.is_ended() && m.records.get(id).is_some_and(|r| !r.rejected))
                .map(|(id, log)| (id, log.route))
        })
    });
    let routes = move || crate::kinds::patrol_route::routes(ctx, false);
    // A new round asked for while another is open: the guard ends that one first.
    let pending = RwSignal::new(None::<NewRound>);
    // A prompt about a round that was ended meanwhile (on another phone) is stale.
    Effect::new(move |_| {
        open_round.track();
        pending.set(None);
    });
    let busy = RwSignal::new(false);
    // `confirmed`: the guard said to end his open round (only the prompt's button says so, so
    // a second tap on a route does not end it unasked).
    let start = move |what: NewRound, confirmed: bool| {
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let now = now_ms();
        let round = match what {
            NewRound::OnRoute(route_doc) => {
                let Some((_, on)) = crate::kinds::patrol_route::routes(ctx, false)
                    .into_iter()
                    .find(|(id, _)| *id == route_doc)
                else {
                    return;
                };
                PatrolLog::start_on_route(
                    &on.estate_id,
                    &user.id,
                    &user.display_name,
                    route_doc,
                    &on,
                    now,
                )
            }
            NewRound::Typed => {
                let Some(estate_id) = ctx.start_estate(estate.get_untracked()) else {
                    return;
                };
                PatrolLog::start(
                    &estate_id,
                    &user.id,
                    &user.display_name,
                    &route.get_untracked(),
                    now,
                )
            }
        };
        let round = match round {
            Ok(round) => round,
            Err(found) => return problems.set(found),
        };
        if busy.get_untracked() {
            return;
        }
        let open = open_round.get_untracked();
        if open.is_some() && !(confirmed && pending.get_untracked() == Some(what)) {
            pending.set(Some(what));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            if let Some((open_id, _)) = open {
                let ended = ctx
                    .edit::<PatrolLog>(open_id, move |log| log.ended_at = Some(now))
                    .await;
                if let Err(error) = ended {
                    busy.set(false);
                    match error {
                        EditError::Invalid(found) => problems.set(found),
                        EditError::NotSaved => ctx.notify("error.not_saved", true),
                    }
                    return;
                }
            }
            let started = ctx.start(round).await;
            busy.set(false);
            pending.set(None);
            match started {
                Ok(id) => {
                    route.set(String::new());
                    problems.set(Vec::new());
                    ctx.notify("saved.round", false);
                    ctx.screen.set(Screen::Record(id));
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        {move || open_round.get().map(|(id, title)| view! {
            <section class="card open-round" data-testid="open-round">
                <p>{t!(i18n, patrol.open_round)}" "<strong>{title}</strong></p>
                <button class="primary big" data-testid="continue-round" on:click=move |_| ctx.screen.set(Screen::Record(id))>
                    {t!(i18n, patrol.go_on)}
                </button>
                <Show when=move || pending.get().is_some()>
                    <div class="actions" data-testid="end-and-start-prompt">
                        <button class="secondary" data-testid="end-and-start" prop:disabled=move || busy.get()
                            on:click=move |_| if let Some(what) = pending.get_untracked() { start(what, true) }>
                            {t!(i18n, patrol.end_and_start)}
                        </button>
                        <button class="secondary" data-testid="keep-open-round" on:click=move |_| pending.set(None)>
                            {t!(i18n, patrol.cancel)}
                        </button>
                    </div>
                </Show>
            </section>
        })}
        <Show when=move || !routes().is_empty()>
            <h2>{t!(i18n, patrol.choose_route)}</h2>
            <div class="route-choices">
                {move || routes().into_iter().map(|(id, r)| {
                    let count = r.current().map_or(0, |c| c.checkpoints.len());
                    let next = crate::kinds::patrol_route::next_due(&r, now_ms());
                    view! {
                        <button class="route-choice" data-testid="route-choice" data-route=r.name().to_owned()
                            prop:disabled=move || busy.get() on:click=move |_| start(NewRound::OnRoute(id), false)>
                            <strong>{r.name().to_owned()}</strong>
                            <span class="muted">
                                {t!(i18n, route.checkpoint_count, count = count)}
                                {next.map(|time| view! { " · "{t!(i18n, patrol.due_next, time = time)} })}
                            </span>
                        </button>
                    }
                }).collect_view()}
            </div>
        </Show>
        <section class="card">
            <Show when=move || !routes().is_empty()>
                <h3>{t!(i18n, patrol.other_route)}</h3>
            </Show>
            <label>{t!(i18n, patrol.route)}
                <input data-testid="route-input" prop:value=move || route.get()
                    placeholder=move || t_string!(i18n, patrol.route_placeholder).to_string()
                    on:input=move |ev| route.set(event_target_value(&ev))/>
            </label>
            <Show when=move || { estates().len() > 1 }>
                <label>{t!(i18n, app.estate)}
                    <select data-testid="round-estate" on:change=move |ev| estate.set(Some(event_target_value(&ev)))>
                        {move || estates().into_iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </Show>
            <Problems problems=problems/>
            <button class="primary" data-testid="start-round" prop:disabled=move || busy.get()
                on:click=move |_| start(NewRound::Typed, false)>{t!(i18n, patrol.start)}</button>
        </section>
        <h2>{t!(i18n, patrol.title)}</h2>
        <ul class="list" data-testid="round-list">
            {move || {
                let rounds = rounds();
                if rounds.is_empty() {
                    view! { <li class="muted">{t!(i18n, patrol.none)}</li> }.into_any()
                } else {
                    rounds.into_iter().map(|(id, log)| view! { <RoundRow id=id log=log/> }).collect_view().into_any()
                }
            }}
        </ul>
    }
}

#[component]
fn RoundRow(id: DocumentId, log: PatrolLog) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let ended = log.is_ended();
    let visits = log.visits.len() - corrected_ids(&log.visits).len();
    let findings = log.findings.len() - corrected_ids(&log.findings).len();
    view! {
        <li class="row" data-testid="round-item" data-doc=id.to_string()
            on:click=move |_| ctx.screen.set(Screen::Record(id))>
            <div class="row-main">
                <strong data-testid="round-route">{log.route.clone()}</strong>
                <span class="muted">{format_time(log.started_at)}</span>
            </div>
            <div class="row-meta">
                <span>{t!(i18n, patrol.visits)}" "{visits}</span>
                <span>{t!(i18n, patrol.findings)}" "{findings}</span>
                {(!ended).then(|| view! { <span class="pill">{t!(i18n, patrol.in_progress)}</span> })}
                {log.is_overdue(now_ms()).then(|| view! { <span class="pill bad" data-testid="round-overdue-mark">{t!(i18n, patrol.overdue_short)}</span> })}
                <StatusBadge id=id/>
            </div>
        </li>
    }
}

/// A round's body under the common frame, loaded on first use (precached for offline use
/// like every chunk): the main module stays within its budget.
#[lazy]
pub fn patrol_record(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <PatrolRecord id=id record=record/> }.into_any()
}

/// For office staff: each finding that needs follow-up (as corrected), with the work orders
/// raised for it and the form that raises one. Keyed by finding, so a sync of the round does
/// not clear a form being filled in.
#[component]
fn FollowUps(id: DocumentId, log: Memo<Option<PatrolLog>>) -> impl IntoView {
    let i18n = use_i18n();
    let findings = move || {
        log.get()
            .map(|l| {
                let corrected: Vec<String> = corrected_ids(&l.findings)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                let guard = l.guard_name.clone();
                l.findings
                    .into_iter()
                    .filter(|f| f.needs_follow_up && !corrected.contains(&f.id))
                    .map(|f| (f, guard.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    view! {
        <h3>{t!(i18n, request.title)}</h3>
        <ul class="list" data-testid="follow-up-list">
            <For each=findings key=|(f, _)| f.id.clone() let((f, guard))>
                <li class="entry" data-testid="follow-up-item">
                    <strong>{f.what.clone()}</strong>" · "{f.location.clone()}
                    {crate::widgets::lazy_view(crate::kinds::repair_request::finding_follow_up(
                        id, f.id.clone(), f.what.clone(), f.location.clone(), guard,
                    ))}
                </li>
            </For>
        </ul>
    }
}

/// A round's entries and, for whoever may add them, the forms.
#[component]
fn PatrolRecord(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let log = Memo::new(move |_| record.get().and_then(|r| r.as_patrol_log().cloned()));
    let user_id = move || ctx.session.get().map(|s| s.user.id);
    let role = move || ctx.session.get().map(|s| s.user.role);
    let editable = move || ctx.editable(id);
    // The guard who started the round adds to it while it is open.
    let guard_writes = move || {
        editable()
            && role() == Some(Role::Guard)
            && log
                .get()
                .is_some_and(|l| !l.is_ended() && Some(l.created_by) == user_id())
    };
    // Which visit or finding the guard is correcting (its ID), if any.
    let correcting = RwSignal::new(None::<String>);
    let on_route = Memo::new(move |_| log.get().is_some_and(|l| !l.planned.is_empty()));
    view! {
        <Show when=move || on_route.get()>
            <RouteProgress id=id log=log writes=Signal::derive(guard_writes)/>
        </Show>
        <h3>{t!(i18n, patrol.visits)}</h3>
        <ul class="list" data-testid="visit-list">
            {move || log.get().map(|l| {
                let corrected = corrected_ids(&l.visits).into_iter().map(str::to_owned).collect::<Vec<_>>();
                l.visits.into_iter().map(|v| {
                    let is_corrected = corrected.contains(&v.id);
                    let typed = v.checkpoint_id.is_none();
                    let entry = v.id.clone();
                    view! {
                        <li class=if is_corrected { "entry corrected" } else { "entry" } data-testid="visit-item"
                            data-corrected=is_corrected.to_string()>
                            {v.corrects.is_some().then(|| view! { <span class="pill" data-testid="correction-mark">{t!(i18n, record.correction)}</span>" " })}
                            <strong>{v.checkpoint}</strong>" "<span class="muted">{format_time(v.visited_at)}</span>
                            {match v.method {
                                Some(VisitMethod::Scanned) => Some(view! { " "<span class="pill ok">{t!(i18n, patrol.scanned)}</span> }.into_any()),
                                Some(VisitMethod::Picked) => Some(view! { " "<span class="pill" data-testid="picked-mark">{t!(i18n, patrol.picked)}</span> }.into_any()),
                                _ => None,
                            }}
                            <div>{v.note}</div>
                            // A scanned or picked visit is not retyped: a typed correction of a
                            // route checkpoint would be refused (validation.on_route).
                            <Show when=move || guard_writes() && !is_corrected && typed>
                                <button class="link" data-testid="correct-visit"
                                    on:click={let entry = entry.clone(); move |_| correcting.set(Some(entry.clone()))}>
                                    {t!(i18n, record.correct)}
                                </button>
                            </Show>
                        </li>
                    }
                }).collect_view()
            })}
        </ul>
        <h3>{t!(i18n, patrol.findings)}</h3>
        <ul class="list" data-testid="finding-list">
            {move || log.get().map(|l| {
                let corrected = corrected_ids(&l.findings).into_iter().map(str::to_owned).collect::<Vec<_>>();
                l.findings.into_iter().map(|f| {
                    let is_corrected = corrected.contains(&f.id);
                    let severity = match f.severity {
                        Severity::Low => t_string!(i18n, finding.low).to_string(),
                        Severity::Medium => t_string!(i18n, finding.medium).to_string(),
                        Severity::High => t_string!(i18n, finding.high).to_string(),
                    };
                    view! {
                        <li class=if is_corrected { "entry corrected" } else { "entry" } data-testid="finding-item"
                            data-corrected=is_corrected.to_string()>
                            {f.corrects.is_some().then(|| view! { <span class="pill">{t!(i18n, record.correction)}</span>" " })}
                            <strong>{f.what}</strong>" · "{f.location}" · "{severity}
                            {f.needs_follow_up.then(|| view! { " · "<span class="pill">{t!(i18n, finding.follow_up)}</span> })}
                            <div class="muted">{format_time(f.found_at)}</div>
                        </li>
                    }
                }).collect_view()
            })}
        </ul>
        <Show when=move || role().is_some_and(|r| r.starts(RecordKind::RepairRequest))>
            <FollowUps id=id log=log/>
        </Show>
        <h3>{t!(i18n, patrol.remarks)}</h3>
        <ul class="list" data-testid="remark-list">
            {move || log.get().map(|l| l.remarks.into_iter().map(|r| view! {
                <li class="entry" data-testid="remark-item">
                    {r.text}<div class="muted">{r.author_name}" "{format_time(r.written_at)}</div>
                </li>
            }).collect_view())}
        </ul>
        <Show when=guard_writes>
            {move || if on_route.get() {
                view! {
                    <details class="card" data-testid="elsewhere">
                        <summary>{t!(i18n, patrol.elsewhere)}</summary>
                        <VisitForm id=id correcting=correcting/>
                    </details>
                }.into_any()
            } else {
                view! { <VisitForm id=id correcting=correcting/> }.into_any()
            }}
            <FindingForm id=id/>
            <div class="round-bar-space"></div>
            <RoundBar id=id log=log/>
        </Show>
        <Show when=move || editable() && role() == Some(Role::Office)>
            {remark_form::<PatrolLog>(id)}
        </Show>
    }
}

/// Records arriving at a checkpoint, or a correction of an earlier visit (`correcting`).
#[component]
fn VisitForm(id: DocumentId, correcting: RwSignal<Option<String>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let checkpoint = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let first = NodeRef::<leptos::html::Input>::new();
    // Correcting a visit starts from what it said.
    Effect::new(move |_| {
        let Some(target) = correcting.get() else {
            return;
        };
        let old = ctx.model.with_value(|m| {
            m.records
                .get(&id)
                .and_then(|r| r.record.as_ref()?.as_patrol_log().cloned())
                .and_then(|l| l.visits.into_iter().find(|v| v.id == target))
        });
        if let Some(old) = old {
            checkpoint.set(old.checkpoint);
            note.set(old.note);
        }
    });
    let add = move || {
        if busy.get_untracked() {
            return;
        }
        let visit = CheckpointVisit::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &checkpoint.get_untracked(),
            now_ms(),
            &note.get_untracked(),
        );
        match visit {
            Ok(mut visit) => {
                visit.corrects = correcting.get_untracked();
                ctx.save_edit_once::<PatrolLog>(
                    busy,
                    id,
                    problems,
                    "visit.saved",
                    move |log| log.visits.push(visit),
                    move || {
                        checkpoint.set(String::new());
                        note.set(String::new());
                        correcting.set(None);
                        // Ready for the next checkpoint.
                        if let Some(input) = first.get_untracked() {
                            let _ = input.focus();
                        }
                    },
                )
            }
            Err(found) => problems.set(found),
        }
    };
    view! {
        <form class="card" data-testid="visit-form" on:submit=move |ev| { ev.prevent_default(); add(); }>
            <h3>{move || if correcting.get().is_some() {
                t_string!(i18n, record.correct).to_string()
            } else {
                t_string!(i18n, visit.add).to_string()
            }}</h3>
            <label>{t!(i18n, visit.checkpoint)}
                <input data-testid="checkpoint-input" node_ref=first enterkeyhint="done" prop:value=move || checkpoint.get()
                    on:input=move |ev| checkpoint.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, visit.note)}
                <textarea data-testid="visit-note-input" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            </label>
            <Problems problems=problems/>
            <button type="submit" class="primary" data-testid="add-visit" prop:disabled=move || busy.get()>{t!(i18n, visit.add)}</button>
            <Show when=move || correcting.get().is_some()>
                <button type="button" class="link" data-testid="cancel-correction" on:click=move |_| {
                    correcting.set(None);
                    checkpoint.set(String::new());
                    note.set(String::new());
                }>{t!(i18n, record.cancel)}</button>
            </Show>
        </form>
    }
}

#[component]
fn FindingForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let what = RwSignal::new(String::new());
    let location = RwSignal::new(String::new());
    let severity = RwSignal::new(Severity::Low);
    let follow_up = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let first = NodeRef::<leptos::html::Input>::new();
    let add = move || match Finding::new(
        EntryId::from_random(random_id()),
        &ctx.user_id(),
        &what.get_untracked(),
        &location.get_untracked(),
        severity.get_untracked(),
        follow_up.get_untracked(),
        now_ms(),
    ) {
        Ok(finding) => ctx.save_edit_once::<PatrolLog>(
            busy,
            id,
            problems,
            "finding.saved",
            move |log| log.findings.push(finding),
            move || {
                what.set(String::new());
                location.set(String::new());
                severity.set(Severity::Low);
                follow_up.set(false);
                if let Some(input) = first.get_untracked() {
                    let _ = input.focus();
                }
            },
        ),
        Err(found) => problems.set(found),
    };
    view! {
        <form class="card" id="finding-form" data-testid="finding-form" on:submit=move |ev| { ev.prevent_default(); add(); }>
            <h3>{t!(i18n, finding.add)}</h3>
            <label>{t!(i18n, finding.what)}
                <input data-testid="finding-what" node_ref=first enterkeyhint="next" prop:value=move || what.get() on:input=move |ev| what.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, finding.location)}
                <input data-testid="finding-where" prop:value=move || location.get() on:input=move |ev| location.set(event_target_value(&ev))/>
            </label>
            <fieldset class="severity">
                <legend>{t!(i18n, finding.severity)}</legend>
                {Severity::ALL.into_iter().map(|level| view! {
                    <button type="button" class="severity-choice" data-testid=format!("severity-{}", level.as_str())
                        class:chosen=move || severity.get() == level
                        aria-pressed=move || (severity.get() == level).to_string()
                        on:click=move |_| severity.set(level)>
                        {match level {
                            Severity::Low => t_string!(i18n, finding.low),
                            Severity::Medium => t_string!(i18n, finding.medium),
                            Severity::High => t_string!(i18n, finding.high),
                        }}
                    </button>
                }).collect_view()}
            </fieldset>
            <label class="check">
                <input type="checkbox" data-testid="finding-follow-up" prop:checked=move || follow_up.get()
                    on:change=move |ev| follow_up.set(event_target_checked(&ev))/>
                {t!(i18n, finding.follow_up)}
            </label>
            <Problems problems=problems/>
            <button type="submit" class="primary" data-testid="add-finding" prop:disabled=move || busy.get()>{t!(i18n, finding.add)}</button>
        </form>
    }
}
