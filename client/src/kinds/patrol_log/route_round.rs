//! A round on the guard's phone: the route's checkpoints done or not with the pick for a
//! damaged code, and the actions fixed at the bottom (scan, report, end after confirming).

use super::*;

/// The route's checkpoints, done or not, the next one marked; a checkpoint whose code is
/// damaged or missing is clocked in by hand from here (the record says so).
#[component]
pub(super) fn RouteProgress(
    id: DocumentId,
    log: Memo<Option<PatrolLog>>,
    writes: Signal<bool>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let pick = move |checkpoint: Checkpoint| {
        let visit = CheckpointVisit::on_route(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &checkpoint,
            VisitMethod::Picked,
            now_ms(),
            "",
        );
        match visit {
            Ok(visit) => ctx.save_edit_once::<PatrolLog>(
                busy,
                id,
                problems,
                "visit.saved",
                move |l| l.visits.push(visit),
                || {},
            ),
            Err(found) => problems.set(found),
        }
    };
    let rows = move || {
        let Some(log) = log.get() else {
            return Vec::new();
        };
        let corrected = corrected_ids(&log.visits);
        let next = log.next_checkpoint().map(|c| c.id.clone());
        log.planned
            .iter()
            .map(|c| {
                let visit = log
                    .visits
                    .iter()
                    .filter(|v| {
                        !corrected.contains(v.id.as_str())
                            && v.checkpoint_id.as_deref() == Some(&c.id)
                    })
                    .max_by_key(|v| v.visited_at)
                    .cloned();
                (c.clone(), visit, next.as_deref() == Some(c.id.as_str()))
            })
            .collect::<Vec<_>>()
    };
    let progress = move || {
        log.get()
            .map(|l| (l.planned.len() - l.not_visited().len(), l.planned.len()))
            .unwrap_or_default()
    };
    view! {
        <Show when=move || log.get().is_some_and(|l| l.is_overdue(now_ms()))>
            <p class="card warning" data-testid="round-overdue">
                {move || t!(i18n, patrol.overdue, minutes = log.get().and_then(|l| l.max_minutes).unwrap_or_default())}
            </p>
        </Show>
        <h3 data-testid="route-progress">{move || { let (done, total) = progress(); t!(i18n, patrol.progress, done = done, total = total) }}</h3>
        <ol class="checkpoints" data-testid="route-checkpoints">
            {move || rows().into_iter().map(|(checkpoint, visit, is_next)| {
                let state = match (&visit, is_next) {
                    (Some(_), _) => "done",
                    (None, true) => "next",
                    (None, false) => "todo",
                };
                let c = checkpoint.clone();
                view! {
                    <li class=format!("checkpoint {state}") data-testid="route-checkpoint" data-state=state data-checkpoint=checkpoint.name.clone()>
                        <span class="mark" aria-hidden="true">{match state { "done" => "✓", "next" => "➜", _ => "○" }}</span>
                        <div class="checkpoint-main">
                            <strong>{checkpoint.name.clone()}</strong>
                            {(state == "next").then(|| view! { " "<span class="pill open">{t!(i18n, patrol.next)}</span> })}
                            {(!checkpoint.hint.is_empty()).then(|| view! { <div class="muted">{checkpoint.hint.clone()}</div> })}
                            {visit.map(|v| view! { <div class="muted">{format_time(v.visited_at)}</div> })}
                        </div>
                        <Show when=move || writes.get() && state != "done">
                            <button type="button" class="secondary pick" data-testid="pick-checkpoint" prop:disabled=move || busy.get()
                                on:click={let c = c.clone(); move |_| pick(c.clone())}>
                                {t!(i18n, patrol.pick)}
                            </button>
                        </Show>
                    </li>
                }
            }).collect_view()}
        </ol>
        <Problems problems=problems/>
    }
}

/// The round's actions, fixed at the bottom within reach of the thumb: scan (a round on a
/// route), report something, end the round (after confirming, with the checkpoints not
/// visited listed).
#[component]
pub(super) fn RoundBar(id: DocumentId, log: Memo<Option<PatrolLog>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let problems = RwSignal::new(Vec::<Problem>::new());
    let confirming = RwSignal::new(false);
    let scanning = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let on_route = move || log.get().is_some_and(|l| !l.planned.is_empty());
    let end = move |_| {
        let now = now_ms();
        ctx.save_edit_once::<PatrolLog>(
            busy,
            id,
            problems,
            "saved.ended",
            move |log| log.ended_at = Some(now),
            move || confirming.set(false),
        );
    };
    let scanned = move |text: String| {
        scanning.set(false);
        let Some(log) = log.get_untracked() else {
            return;
        };
        let Some(checkpoint_id) = checkpoint_in_code(&text) else {
            return ctx.notify("scan.not_a_checkpoint", true);
        };
        let Some(checkpoint) = log.planned.iter().find(|c| c.id == checkpoint_id).cloned() else {
            return ctx.notify("scan.not_on_route", true);
        };
        match CheckpointVisit::on_route(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &checkpoint,
            VisitMethod::Scanned,
            now_ms(),
            "",
        ) {
            Ok(visit) => ctx.save_edit_once::<PatrolLog>(
                busy,
                id,
                problems,
                "visit.scanned_saved",
                move |l| l.visits.push(visit),
                || {},
            ),
            Err(found) => problems.set(found),
        }
    };
    let report = move |_| {
        if let Some(form) = document().get_element_by_id("finding-form") {
            form.scroll_into_view();
            if let Ok(Some(first)) = form.query_selector("input") {
                if let Ok(input) = first.dyn_into::<web_sys::HtmlElement>() {
                    let _ = input.focus();
                }
            }
        }
    };
    let not_visited = move || {
        log.get()
            .map(|l| {
                l.not_visited()
                    .into_iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    view! {
        <Show when=move || scanning.get()>
            {crate::widgets::lazy_view(crate::kinds::patrol_route::scanner(
                Callback::new(scanned),
                Callback::new(move |_| scanning.set(false)),
            ))}
        </Show>
        <div class="round-bar" data-testid="round-bar">
            <Show when=move || confirming.get()>
                <div class="end-confirm" data-testid="end-confirm" role="alertdialog" aria-labelledby="end-confirm-title">
                    <strong id="end-confirm-title">{t!(i18n, patrol.confirm_end)}</strong>
                    {move || {
                        let missing = not_visited();
                        if !on_route() {
                            ().into_any()
                        } else if missing.is_empty() {
                            view! { <p>{t!(i18n, patrol.all_visited)}</p> }.into_any()
                        } else {
                            view! {
                                <p>{t!(i18n, patrol.not_visited)}</p>
                                <ul data-testid="not-visited">
                                    {missing.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }}
                    <div class="actions">
                        <button class="primary big" data-testid="confirm-end-round" prop:disabled=move || busy.get() on:click=end>
                            {t!(i18n, patrol.confirm)}
                        </button>
                        <button class="secondary big" data-testid="cancel-end-round" on:click=move |_| confirming.set(false)>
                            {t!(i18n, patrol.go_on)}
                        </button>
                    </div>
                </div>
            </Show>
            <Problems problems=problems/>
            <div class="actions">
                <Show when=on_route>
                    <button class="primary big" data-testid="scan-checkpoint" prop:disabled=move || busy.get()
                        on:click=move |_| scanning.set(true)>{t!(i18n, patrol.scan)}</button>
                </Show>
                <button class="secondary big" data-testid="report-finding" on:click=report>{t!(i18n, patrol.report)}</button>
                <button class="secondary big" data-testid="end-round" on:click=move |_| confirming.set(true)>{t!(i18n, patrol.end)}</button>
            </div>
        </div>
    }
}
