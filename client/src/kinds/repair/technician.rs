//! The technician's screens: start a repair in the owner's unit, then the step it is at: the
//! estimate (cause, method, parts, labour), the owner's consent, the work, the owner's
//! acceptance and the fee outcome; safety measures at any point. A changed estimate is a new
//! revision, and the app asks for a new signature.

use gatehouse_shared::money::{format_yuan as yuan, parse_yuan};
use gatehouse_shared::problem::keys;
use gatehouse_shared::record::repair::{
    Component, Estimate, FeeOutcome, MeasureKind, Outcome, Part, RepairRecord, RepairStatus,
    SafetyMeasure, WorkLine, MAX_FEN,
};
use gatehouse_shared::signature::Purpose;
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::pad::SignStep;
use super::view::{measure_name, outcome_name};
use super::{component_name, status_name};
use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::time::{format_time, now_ms};
use crate::widgets::{Problems, StatusBadge};

#[component]
pub fn TechnicianHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let repairs = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.mine_of::<RepairRecord>())
    };
    view! {
        <crate::kinds::repair_request::RequestList/>
        <StartForm/>
        <h2>{t!(i18n, repair.mine)}</h2>
        <ul class="list" data-testid="repair-list">
            {move || {
                let repairs = repairs();
                if repairs.is_empty() {
                    view! { <li class="muted">{t!(i18n, repair.none)}</li> }.into_any()
                } else {
                    repairs.into_iter().map(|(id, r)| {
                        let status = r.status();
                        view! {
                            <li class="row" data-testid="repair-item" data-doc=id.to_string()
                                on:click=move |_| ctx.screen.set(Screen::Record(id))>
                                <div class="row-main">
                                    <strong data-testid="repair-unit">{r.unit.clone()}</strong>
                                    <span>{r.fault.clone()}</span>
                                    <span class="muted">{format_time(r.started_at)}</span>
                                </div>
                                <div class="row-meta">
                                    <span class="pill">{status_name(i18n, status.as_str())}</span>
                                    <StatusBadge id=id/>
                                </div>
                            </li>
                        }
                    }).collect_view().into_any()
                }
            }}
        </ul>
    }
}

#[component]
fn StartForm() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let unit = RwSignal::new(String::new());
    let reported_by = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let fault = RwSignal::new(String::new());
    let component = RwSignal::new(Component::DoorLock);
    let model = RwSignal::new(String::new());
    let estate = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let estates = move || {
        ctx.session
            .get()
            .map(|s| s.user.estates)
            .unwrap_or_default()
    };
    let start = move |_| {
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let Some(estate_id) = ctx.start_estate(estate.get_untracked()) else {
            return;
        };
        let record = RepairRecord::start(
            &estate_id,
            &user.id,
            &user.display_name,
            &unit.get_untracked(),
            &reported_by.get_untracked(),
            &contact.get_untracked(),
            &fault.get_untracked(),
            component.get_untracked(),
            &model.get_untracked(),
            now_ms(),
        );
        spawn_local(async move {
            let started = match record {
                Ok(record) => ctx.start(record).await,
                Err(found) => Err(EditError::Invalid(found)),
            };
            match started {
                Ok(id) => {
                    for field in [unit, reported_by, contact, fault, model] {
                        field.set(String::new());
                    }
                    problems.set(Vec::new());
                    ctx.notify("repair.started", false);
                    ctx.screen.set(Screen::Record(id));
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="start-repair-form">
            <h2>{t!(i18n, repair.start)}</h2>
            <label>{t!(i18n, repair.unit)}
                <input data-testid="repair-unit-input" prop:value=move || unit.get()
                    placeholder=move || t_string!(i18n, repair.unit_placeholder).to_string()
                    on:input=move |ev| unit.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, repair.reported_by)}
                <input data-testid="reported-by-input" prop:value=move || reported_by.get()
                    on:input=move |ev| reported_by.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, repair.contact)}
                <input type="tel" data-testid="contact-input" prop:value=move || contact.get()
                    on:input=move |ev| contact.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, repair.fault)}
                <textarea data-testid="fault-input" prop:value=move || fault.get()
                    on:input=move |ev| fault.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t!(i18n, repair.component)}
                <select data-testid="component-select" prop:value=move || component.get().as_str()
                    on:change=move |ev| component.set(Component::parse(&event_target_value(&ev)).unwrap_or(Component::Other))>
                    {Component::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str()>{move || component_name(i18n, c)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, repair.model)}
                <input data-testid="model-input" prop:value=move || model.get()
                    on:input=move |ev| model.set(event_target_value(&ev))/>
            </label>
            <Show when=move || { estates().len() > 1 }>
                <label>{t!(i18n, app.estate)}
                    <select data-testid="repair-estate" on:change=move |ev| estate.set(Some(event_target_value(&ev)))>
                        {move || estates().into_iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </Show>
            <Problems problems=problems/>
            <button class="primary" data-testid="start-repair" on:click=start>{t!(i18n, repair.start)}</button>
        </section>
    }
}

/// The step the repair is at, for the technician who started it while it is open.
#[component]
pub fn Steps(id: DocumentId, repair: Memo<Option<RepairRecord>>) -> impl IntoView {
    let i18n = use_i18n();
    let status = Memo::new(move |_| repair.get().map(|r| r.status()));
    // A revision is offered once there is an estimate; it is the form itself before that.
    let revising = RwSignal::new(false);
    let has_estimate = move || repair.get().is_some_and(|r| r.current_estimate().is_some());
    // The owner signed an earlier revision: the fee or method changed since.
    let needs_new_consent = move || {
        repair.get().is_some_and(|r| {
            r.needs_consent()
                && r.signatures
                    .iter()
                    .any(|s| s.purpose == Purpose::RepairConsent)
        })
    };
    view! {
        <Show when=needs_new_consent>
            <p class="card warning" data-testid="consent-outdated">{t!(i18n, repair.consent_outdated)}</p>
        </Show>
        {move || match status.get() {
            Some(RepairStatus::Reported) => view! { <EstimateForm id=id repair=repair revising=revising/> }.into_any(),
            Some(RepairStatus::Explained) => view! {
                <SignStep id=id repair=repair purpose=Purpose::RepairConsent/>
            }.into_any(),
            Some(RepairStatus::Consented) => view! { <WorkForm id=id repair=repair/> }.into_any(),
            Some(RepairStatus::InProgress) => view! {
                <SignStep id=id repair=repair purpose=Purpose::RepairAcceptance/>
                <WorkForm id=id repair=repair/>
            }.into_any(),
            Some(RepairStatus::Accepted) => view! { <OutcomeForm id=id/> }.into_any(),
            Some(RepairStatus::Closed) | None => ().into_any(),
        }}
        // Before acceptance the estimate can be revised (the owner then signs again).
        <Show when=move || has_estimate() && matches!(status.get(),
            Some(RepairStatus::Explained | RepairStatus::Consented | RepairStatus::InProgress))>
            <Show when=move || revising.get()
                fallback=move || view! {
                    <button class="secondary" data-testid="revise-estimate" on:click=move |_| revising.set(true)>
                        {t!(i18n, repair.revise)}
                    </button>
                }>
                <EstimateForm id=id repair=repair revising=revising/>
            </Show>
        </Show>
        <MeasureForm id=id/>
    }
}

/// One editable row of parts; the key keeps a row's inputs when others are added.
#[derive(Clone, Copy)]
struct PartRow {
    key: u64,
    name: RwSignal<String>,
    quantity: RwSignal<String>,
    price: RwSignal<String>,
}

impl PartRow {
    fn new(key: u64, part: Option<&Part>) -> Self {
        Self {
            key,
            name: RwSignal::new(part.map(|p| p.name.clone()).unwrap_or_default()),
            quantity: RwSignal::new(
                part.map_or_else(|| "1".to_owned(), |p| p.quantity.to_string()),
            ),
            price: RwSignal::new(
                part.map(|p| yuan(p.unit_price_fen).trim_start_matches('¥').to_owned())
                    .unwrap_or_default(),
            ),
        }
    }
}

/// Reads the rows as parts; rows left entirely blank are skipped. Quantities and prices that
/// are not numbers are problems at `path[i]`.
fn read_parts(rows: &[PartRow], path: &str, problems: &mut Vec<Problem>) -> Vec<Part> {
    let mut parts = Vec::new();
    for row in rows {
        let (name, quantity, price) = (
            row.name.get_untracked(),
            row.quantity.get_untracked(),
            row.price.get_untracked(),
        );
        if name.trim().is_empty() && price.trim().is_empty() {
            continue;
        }
        let i = parts.len();
        let quantity = quantity.trim().parse::<u32>().unwrap_or_else(|_| {
            problems.push(Problem::new(
                format!("{path}[{i}].quantity"),
                keys::OUT_OF_RANGE,
            ));
            0
        });
        let unit_price_fen = parse_yuan(&price, MAX_FEN).unwrap_or_else(|| {
            problems.push(Problem::new(
                format!("{path}[{i}].unit_price_fen"),
                keys::OUT_OF_RANGE,
            ));
            0
        });
        parts.push(Part {
            name: name.trim().to_owned(),
            quantity,
            unit_price_fen,
        });
    }
    parts
}

#[component]
fn PartsEditor(rows: RwSignal<Vec<PartRow>>, next_key: StoredValue<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rows.update(|r| r.push(PartRow::new(key, None)));
    };
    view! {
        <div class="parts" data-testid="parts-editor">
            <For each=move || rows.get() key=|row| row.key children=move |row: PartRow| view! {
                <div class="part-row" data-testid="part-row">
                    <input class="part-name" data-testid="part-name" prop:value=move || row.name.get()
                        placeholder=move || t_string!(i18n, repair.part_name).to_string()
                        on:input=move |ev| row.name.set(event_target_value(&ev))/>
                    <input class="part-qty" data-testid="part-quantity" inputmode="numeric" prop:value=move || row.quantity.get()
                        aria-label=move || t_string!(i18n, repair.quantity).to_string()
                        on:input=move |ev| row.quantity.set(event_target_value(&ev))/>
                    <input class="part-price" data-testid="part-price" inputmode="decimal" prop:value=move || row.price.get()
                        placeholder=move || t_string!(i18n, repair.unit_price).to_string()
                        on:input=move |ev| row.price.set(event_target_value(&ev))/>
                    <button class="link" data-testid="remove-part"
                        on:click=move |_| rows.update(|r| r.retain(|x| x.key != row.key))>
                        {t!(i18n, repair.remove_part)}
                    </button>
                </div>
            }/>
            <button class="secondary" data-testid="add-part" on:click=add>{t!(i18n, repair.add_part)}</button>
        </div>
    }
}

/// The diagnosis and quote; a revision starts from the estimate in force.
#[component]
fn EstimateForm(
    id: DocumentId,
    repair: Memo<Option<RepairRecord>>,
    revising: RwSignal<bool>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let current = repair
        .get_untracked()
        .and_then(|r| r.current_estimate().cloned());
    let cause = RwSignal::new(
        current
            .as_ref()
            .map(|e| e.cause.clone())
            .unwrap_or_default(),
    );
    let method = RwSignal::new(
        current
            .as_ref()
            .map(|e| e.method.clone())
            .unwrap_or_default(),
    );
    let labour = RwSignal::new(
        current
            .as_ref()
            .map(|e| yuan(e.labour_fen).trim_start_matches('¥').to_owned())
            .unwrap_or_default(),
    );
    let next_key = StoredValue::new(0u64);
    let initial: Vec<PartRow> = match &current {
        Some(e) if !e.parts.is_empty() => e.parts.iter().map(Some).collect::<Vec<_>>(),
        _ => vec![None],
    }
    .into_iter()
    .enumerate()
    .map(|(i, p)| PartRow::new(i as u64, p))
    .collect();
    next_key.set_value(initial.len() as u64);
    let rows = RwSignal::new(initial);
    let problems = RwSignal::new(Vec::<Problem>::new());
    // The fee as typed so far, or nothing while something does not read as an amount.
    let total = move || {
        let rows = rows.get();
        for row in &rows {
            row.name.track();
            row.quantity.track();
            row.price.track();
        }
        let mut found = Vec::new();
        let parts = read_parts(&rows, "estimate.parts", &mut found);
        let labour = if labour.get().trim().is_empty() {
            Some(0)
        } else {
            parse_yuan(&labour.get(), MAX_FEN)
        };
        (found.is_empty()).then_some(labour).flatten().map(|l| {
            parts
                .iter()
                .map(Part::total_fen)
                .fold(l, i64::saturating_add)
        })
    };
    let save = move |_| {
        let mut found = Vec::new();
        let parts = read_parts(&rows.get_untracked(), "estimate.parts", &mut found);
        let labour_text = labour.get_untracked();
        let labour_fen = if labour_text.trim().is_empty() {
            0
        } else {
            parse_yuan(&labour_text, MAX_FEN).unwrap_or_else(|| {
                found.push(Problem::new("estimate.labour_fen", keys::OUT_OF_RANGE));
                0
            })
        };
        match Estimate::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &cause.get_untracked(),
            &method.get_untracked(),
            parts,
            labour_fen,
            now_ms(),
        ) {
            Ok(estimate) if found.is_empty() => ctx.save_edit::<RepairRecord>(
                id,
                problems,
                "repair.estimate_saved",
                move |r| r.estimates.push(estimate),
                move || revising.set(false),
            ),
            Ok(_) => problems.set(found),
            Err(mut more) => {
                found.append(&mut more);
                problems.set(found);
            }
        }
    };
    view! {
        <section class="card" data-testid="estimate-form">
            <h3>{move || if current.is_some() {
                t_string!(i18n, repair.revise).to_string()
            } else {
                t_string!(i18n, repair.estimate).to_string()
            }}</h3>
            <label>{t!(i18n, repair.cause)}
                <textarea data-testid="cause-input" prop:value=move || cause.get()
                    on:input=move |ev| cause.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t!(i18n, repair.method)}
                <textarea data-testid="method-input" prop:value=move || method.get()
                    on:input=move |ev| method.set(event_target_value(&ev))></textarea>
            </label>
            <p class="muted">{t!(i18n, repair.parts)}</p>
            <PartsEditor rows=rows next_key=next_key/>
            <label>{t!(i18n, repair.labour)}
                <input data-testid="labour-input" inputmode="decimal" prop:value=move || labour.get()
                    on:input=move |ev| labour.set(event_target_value(&ev))/>
            </label>
            <p><strong>{t!(i18n, repair.fee)}": "
                <span data-testid="estimate-total">{move || total().map(yuan).unwrap_or_else(|| "—".to_owned())}</span>
            </strong></p>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-estimate" on:click=save>{t!(i18n, repair.save_estimate)}</button>
            <Show when=move || revising.get()>
                <button class="link" data-testid="cancel-revision" on:click=move |_| revising.set(false)>
                    {t!(i18n, record.cancel)}
                </button>
            </Show>
        </section>
    }
}

/// Work done on the consented estimate; parts used start as quoted.
#[component]
fn WorkForm(id: DocumentId, repair: Memo<Option<RepairRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let estimate = repair
        .get_untracked()
        .and_then(|r| r.current_estimate().cloned());
    let done = RwSignal::new(String::new());
    let minutes = RwSignal::new(String::new());
    let quoted = estimate
        .as_ref()
        .map(|e| e.parts.clone())
        .unwrap_or_default();
    let next_key = StoredValue::new(quoted.len() as u64 + 1);
    let rows = RwSignal::new(
        quoted
            .iter()
            .enumerate()
            .map(|(i, p)| PartRow::new(i as u64, Some(p)))
            .collect::<Vec<_>>(),
    );
    let problems = RwSignal::new(Vec::<Problem>::new());
    let save = move |_| {
        let Some(estimate) = repair
            .get_untracked()
            .and_then(|r| r.current_estimate().cloned())
        else {
            return;
        };
        let mut found = Vec::new();
        let parts = read_parts(&rows.get_untracked(), "work.parts_used", &mut found);
        // Whole minutes only: "1.5" or "30分钟" is a problem to fix, never 0 minutes signed for.
        let minutes = minutes
            .get_untracked()
            .trim()
            .parse::<u32>()
            .unwrap_or_else(|_| {
                found.push(Problem::new("work.minutes", keys::OUT_OF_RANGE));
                0
            });
        match WorkLine::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            &estimate.id,
            &done.get_untracked(),
            parts,
            minutes,
            now_ms(),
        ) {
            Ok(line) if found.is_empty() => ctx.save_edit::<RepairRecord>(
                id,
                problems,
                "repair.work_saved",
                move |r| r.work.push(line),
                move || done.set(String::new()),
            ),
            Ok(_) => problems.set(found),
            Err(mut more) => {
                found.append(&mut more);
                problems.set(found);
            }
        }
    };
    view! {
        <section class="card" data-testid="work-form">
            <h3>{t!(i18n, repair.add_work)}</h3>
            <label>{t!(i18n, repair.done)}
                <textarea data-testid="work-done-input" prop:value=move || done.get()
                    on:input=move |ev| done.set(event_target_value(&ev))></textarea>
            </label>
            <p class="muted">{t!(i18n, repair.parts_used)}</p>
            <PartsEditor rows=rows next_key=next_key/>
            <label>{t!(i18n, repair.minutes)}
                <input data-testid="work-minutes-input" inputmode="numeric" prop:value=move || minutes.get()
                    on:input=move |ev| minutes.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-work" on:click=save>{t!(i18n, repair.save_work)}</button>
        </section>
    }
}

/// A temporary safety measure, at any point while the repair is open.
#[component]
fn MeasureForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let measure = RwSignal::new(MeasureKind::PowerCut);
    let note = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let save = move |_| match SafetyMeasure::new(
        EntryId::from_random(random_id()),
        &ctx.user_id(),
        measure.get_untracked(),
        &note.get_untracked(),
        now_ms(),
    ) {
        Ok(entry) => ctx.save_edit::<RepairRecord>(
            id,
            problems,
            "repair.measure_saved",
            move |r| r.measures.push(entry),
            move || {
                note.set(String::new());
                open.set(false);
            },
        ),
        Err(found) => problems.set(found),
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button class="secondary" data-testid="add-measure" on:click=move |_| open.set(true)>{t!(i18n, repair.add_measure)}</button>
        }>
            <section class="card" data-testid="measure-form">
                <h3>{t!(i18n, repair.add_measure)}</h3>
                <label>{t!(i18n, repair.measure)}
                    <select data-testid="measure-select" prop:value=move || measure.get().as_str()
                        on:change=move |ev| measure.set(MeasureKind::parse(&event_target_value(&ev)).unwrap_or(MeasureKind::Other))>
                        {MeasureKind::ALL.into_iter().map(|m| view! {
                            <option value=m.as_str()>{move || measure_name(i18n, m)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, visit.note)}
                    <textarea data-testid="measure-note-input" prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <Problems problems=problems/>
                <button class="primary" data-testid="save-measure" on:click=save>{t!(i18n, repair.save_measure)}</button>
                <button class="link" on:click=move |_| open.set(false)>{t!(i18n, record.cancel)}</button>
            </section>
        </Show>
    }
}

/// Who pays; saving it closes the record.
#[component]
fn OutcomeForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let outcome = RwSignal::new(Outcome::Charged);
    let reason = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let save = move |_| {
        let now = now_ms();
        match FeeOutcome::new(
            EntryId::from_random(random_id()),
            &ctx.user_id(),
            outcome.get_untracked(),
            &reason.get_untracked(),
            now,
        ) {
            Ok(entry) => ctx.save_edit::<RepairRecord>(
                id,
                problems,
                "repair.closed",
                move |r| {
                    r.outcomes.push(entry);
                    r.closed_at = Some(now);
                },
                || {},
            ),
            Err(found) => problems.set(found),
        }
    };
    view! {
        <section class="card" data-testid="outcome-form">
            <h3>{t!(i18n, repair.outcome)}</h3>
            <label>{t!(i18n, repair.outcome)}
                <select data-testid="outcome-select" prop:value=move || outcome.get().as_str()
                    on:change=move |ev| outcome.set(Outcome::parse(&event_target_value(&ev)).unwrap_or(Outcome::Charged))>
                    {Outcome::ALL.into_iter().map(|o| view! {
                        <option value=o.as_str()>{move || outcome_name(i18n, o)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, repair.reason)}
                <textarea data-testid="outcome-reason-input" prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-outcome" on:click=save>{t!(i18n, repair.close)}</button>
        </section>
    }
}
