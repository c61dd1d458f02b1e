//! The slips screen: at the gate, the slips on the phone found by number or unit; at the
//! desk, a new slip with the unit's registry entry beside it.

use gatehouse_shared::date::Date;
use gatehouse_shared::record::registry::current_units;
use gatehouse_shared::record::release_slip::{slip_number, Applicant, ReleaseSlip, SlipItem};
use gatehouse_shared::{DocumentId, Problem, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::kinds::registry::{registries, today, unit_card};
use crate::text::problem_key_text;
use crate::time::now_ms;
use crate::widgets::Problems;

#[component]
pub fn SlipsScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let role = ctx.session.get_untracked().map(|s| s.user.role);
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            {t!(i18n, record.back)}
        </button>
        {match role {
            Some(Role::Office) => view! { <NewSlip/> }.into_any(),
            _ => view! { <Gate/> }.into_any(),
        }}
    }
}

/// Text for matching: no spaces or dashes, lower case.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The slips on the phone, found by number, unit or applicant; the ones goods may leave on
/// today first.
#[component]
fn Gate() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let query = RwSignal::new(String::new());
    let day = today();
    let slips = Memo::new(move |_| {
        ctx.version.track();
        let mut slips: Vec<(DocumentId, ReleaseSlip)> = ctx.model.with_value(|m| {
            m.records
                .iter()
                .filter(|(_, r)| m.belongs(r))
                .filter_map(|(id, r)| Some((*id, r.record.as_ref()?.as_release_slip()?.clone())))
                .collect()
        });
        slips.sort_by_key(|(id, slip)| {
            let open = day.is_some_and(|d| slip.refuses_release(d).is_none());
            (!open, -slip.started_at, *id)
        });
        slips
    });
    let found = Memo::new(move |_| {
        let query = plain(&query.get());
        slips.with(|slips| {
            slips
                .iter()
                .filter(|(id, slip)| {
                    query.is_empty()
                        || plain(&slip_number(*id)).contains(&query)
                        || plain(&slip.unit).ends_with(&query)
                        || plain(&slip.applicant_name).contains(&query)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <h2>{t!(i18n, slip.gate_title)}</h2>
        <section class="card">
            <label>{t!(i18n, slip.search)}
                <input type="search" data-testid="slip-search" prop:value=move || query.get()
                    placeholder=move || t_string!(i18n, slip.search_placeholder).to_string()
                    on:input=move |ev| query.set(event_target_value(&ev))/>
            </label>
            <p class="muted" data-testid="slip-count">
                {move || {
                    let total = slips.with(Vec::len);
                    let shown = found.with(Vec::len);
                    t!(i18n, slip.count, shown = move || shown, total = move || total)
                }}
            </p>
        </section>
        <ul class="list" data-testid="slip-list">
            {move || found.get().into_iter().map(|(id, slip)| {
                let refusal = day.and_then(|d| slip.refuses_release(d));
                view! {
                    <li class="row" data-testid="slip-item" data-doc=id.to_string() on:click=move |_| ctx.screen.set(Screen::Record(id))>
                        <div class="row-main">
                            <strong data-testid="slip-number">{slip_number(id)}</strong>
                            <span data-testid="slip-unit">{slip.unit.clone()}</span>
                            <span>{slip.applicant_name.clone()}</span>
                            <span class="pill">{super::status_name(i18n, slip.status().as_str())}</span>
                        </div>
                        <div class="row-meta muted">
                            {slip.valid_from.clone()}" – "{slip.valid_until.clone()}
                            {refusal.map(|key| view! { " · "<span class="warning-text">{problem_key_text(i18n, key)}</span> })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// A new slip, written at the desk; it is approved on its own screen.
#[component]
fn NewSlip() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let first_day = today().map(|d| d.to_string()).unwrap_or_default();
    let last_day = today()
        .map(|d| Date::from_days_since_epoch(d.days_since_epoch() + 2).to_string())
        .unwrap_or_default();
    let unit = RwSignal::new(String::new());
    let applicant_name = RwSignal::new(String::new());
    let applicant = RwSignal::new(Applicant::Tenant);
    let valid_from = RwSignal::new(first_day);
    let valid_until = RwSignal::new(last_day);
    let items = RwSignal::new(vec![(String::new(), String::new())]);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let estate = ctx
        .session
        .get_untracked()
        .map(|s| s.user.estate_id)
        .unwrap_or_default();
    let docs = Memo::new(move |_| {
        ctx.version.track();
        registries(ctx, &estate)
    });
    let labels = Memo::new(move |_| {
        docs.with(|docs| {
            current_units(docs.iter().map(|(_, r)| r))
                .iter()
                .map(|u| u.unit.key().label())
                .collect::<Vec<_>>()
        })
    });
    let entry = move || {
        let wanted = unit.get();
        docs.with(|docs| {
            current_units(docs.iter().map(|(_, r)| r))
                .into_iter()
                .find(|u| u.unit.key().label() == wanted.trim())
                .map(|u| u.unit.clone())
        })
    };
    let item_count = Memo::new(move |_| items.with(Vec::len));
    let save = move |_| {
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let mut found = Vec::new();
        let lines: Vec<SlipItem> = items
            .get_untracked()
            .into_iter()
            .enumerate()
            .filter(|(_, (what, quantity))| !(what.trim().is_empty() && quantity.trim().is_empty()))
            .map(|(i, (what, quantity))| {
                let quantity = quantity.trim().parse::<u32>().unwrap_or_else(|_| {
                    found.push(Problem::new(
                        format!("items[{i}].quantity"),
                        gatehouse_shared::problem::keys::OUT_OF_RANGE,
                    ));
                    0
                });
                SlipItem {
                    id: gatehouse_shared::EntryId::from_random(random_id()).to_string(),
                    what: what.trim().to_owned(),
                    quantity,
                }
            })
            .collect();
        let slip = ReleaseSlip::new(
            &user.estate_id,
            &user.id,
            &user.display_name,
            &unit.get_untracked(),
            &applicant_name.get_untracked(),
            applicant.get_untracked(),
            &valid_from.get_untracked(),
            &valid_until.get_untracked(),
            lines,
            now_ms(),
        );
        spawn_local(async move {
            let started = match slip {
                Ok(slip) if found.is_empty() => ctx.start(slip).await,
                Ok(_) => Err(EditError::Invalid(found)),
                Err(mut more) => {
                    more.extend(found);
                    Err(EditError::Invalid(more))
                }
            };
            match started {
                Ok(id) => {
                    ctx.notify("slip.saved", false);
                    ctx.screen.set(Screen::Record(id));
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <h2>{t!(i18n, slip.new_title)}</h2>
        <section class="card" data-testid="slip-form">
            <label>{t!(i18n, field.unit)}
                <input data-testid="slip-unit-input" list="registry-units" prop:value=move || unit.get()
                    on:input=move |ev| unit.set(event_target_value(&ev))/>
                <datalist id="registry-units">
                    {move || labels.get().into_iter().map(|l| view! { <option value=l/> }).collect_view()}
                </datalist>
            </label>
            {move || entry().map(|u| view! { <ul class="list" data-testid="slip-registry">{unit_card(i18n, &u, today(), None)}</ul> })}
            <label>{t!(i18n, slip.applicant_name)}
                <input data-testid="applicant-name" prop:value=move || applicant_name.get()
                    on:input=move |ev| applicant_name.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, slip.applicant)}
                <select data-testid="applicant-role" on:change=move |ev| {
                    if let Some(a) = Applicant::parse(&event_target_value(&ev)) { applicant.set(a) }
                }>
                    <option value="tenant" selected=true>{t!(i18n, registry.tenant)}</option>
                    <option value="owner">{t!(i18n, registry.owner)}</option>
                </select>
            </label>
            <div class="actions">
                <label>{t!(i18n, slip.valid_from)}
                    <input type="date" data-testid="valid-from" prop:value=move || valid_from.get()
                        on:input=move |ev| valid_from.set(event_target_value(&ev))/>
                </label>
                <label>{t!(i18n, slip.valid_until)}
                    <input type="date" data-testid="valid-until" prop:value=move || valid_until.get()
                        on:input=move |ev| valid_until.set(event_target_value(&ev))/>
                </label>
            </div>
            <For each=move || 0..item_count.get() key=|i| *i let:i>
                <div class="actions" data-testid="slip-item-fields">
                    <label>{t!(i18n, slip.item_what)}
                        <input data-testid="item-what"
                            prop:value=move || items.with(|l| l.get(i).map(|x| x.0.clone()).unwrap_or_default())
                            on:input=move |ev| items.update(|l| if let Some(x) = l.get_mut(i) { x.0 = event_target_value(&ev) })/>
                    </label>
                    <label>{t!(i18n, field.quantity)}
                        <input inputmode="numeric" data-testid="item-quantity"
                            prop:value=move || items.with(|l| l.get(i).map(|x| x.1.clone()).unwrap_or_default())
                            on:input=move |ev| items.update(|l| if let Some(x) = l.get_mut(i) { x.1 = event_target_value(&ev) })/>
                    </label>
                </div>
            </For>
            <button class="secondary" data-testid="add-item" on:click=move |_| items.update(|l| l.push((String::new(), String::new())))>
                {t!(i18n, slip.add_item)}
            </button>
            <Problems problems=problems/>
            <button data-testid="save-slip" on:click=save>{t!(i18n, slip.save)}</button>
        </section>
    }
}
