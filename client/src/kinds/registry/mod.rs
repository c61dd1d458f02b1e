//! The owner/tenant registry (业主资料) on the phone: the guard finds a unit or a name with
//! no network and sees who owns it, whether it is let, to whom and until when; office staff
//! also import it from a spreadsheet's CSV file. The screen is loaded on first use.

use gatehouse_shared::date::Date;
use gatehouse_shared::record::registry::import::{self, ImportProblem};
use gatehouse_shared::record::registry::{
    current_units, LeaseState, Occupancy, Registry, UnitEntry, UnitInfo,
};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{DocumentId, EntryId, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_i18n::I18nContext;

use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::text::problem_key_text;
use crate::time::now_ms;

mod unit_form;

/// Units shown at a time; more on request.
const PAGE: usize = 30;
/// Import problems shown at a time; the count says how many there are.
const PROBLEM_PAGE: usize = 100;

pub fn status_name(i18n: I18nContext<Locale>, _status: &str) -> String {
    t_string!(i18n, registry.status_current).to_string()
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::Registry { unit_count } = detail else {
        return ().into_any();
    };
    let count = *unit_count;
    view! { <span>{t!(i18n, registry.unit_count, count = move || count)}</span> }.into_any()
}

/// What a refused version of a registry document added that the document does not hold.
pub fn set_aside_lines(refused: &Registry, current: Option<&Registry>) -> Vec<String> {
    let kept: std::collections::HashSet<&str> = current
        .map(|c| c.units.iter().map(|u| u.id.as_str()).collect())
        .unwrap_or_default();
    refused
        .units
        .iter()
        .filter(|u| !kept.contains(u.id.as_str()))
        .map(|u| u.unit.key().label())
        .collect()
}

/// The registry screen, loaded on first use.
#[lazy]
pub fn registry_screen() -> AnyView {
    view! { <RegistryScreen/> }.into_any()
}

/// The phone's local date.
pub(crate) fn today() -> Option<Date> {
    let now = js_sys::Date::new_0();
    Date::new(
        i32::try_from(now.get_full_year()).ok()?,
        u8::try_from(now.get_month() + 1).ok()?,
        u8::try_from(now.get_date()).ok()?,
    )
}

/// The registry documents of `estate` on the phone, with their IDs.
pub(crate) fn registries(ctx: Ctx, estate: &str) -> Vec<(DocumentId, Registry)> {
    ctx.model.with_value(|m| {
        let mut found: Vec<_> = m
            .records
            .iter()
            .filter(|(_, r)| m.belongs(r))
            .filter_map(|(id, r)| {
                let registry = r.record.as_ref()?.as_registry()?;
                (registry.estate_id == estate).then(|| (*id, registry.clone()))
            })
            .collect();
        found.sort_by_key(|(id, registry)| (registry.started_at, *id));
        found
    })
}

#[component]
fn RegistryScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let user = move || ctx.session.get().map(|s| s.user);
    let estate = RwSignal::new(ctx.session.get_untracked().map(|s| s.user.estate_id));
    let docs = Memo::new(move |_| {
        ctx.version.track();
        estate
            .get()
            .map(|estate| registries(ctx, &estate))
            .unwrap_or_default()
    });
    let is_office = move || user().is_some_and(|u| u.role == Role::Office);
    // The unit being added or changed (office staff only).
    let draft = RwSignal::new(None::<UnitInfo>);
    let editing = Memo::new(move |_| draft.with(Option::is_some));
    let form = move || {
        editing.get().then(|| {
            let estate = estate.get_untracked().unwrap_or_default();
            let registry = docs.with_untracked(|d| target_document(ctx, d));
            view! { <unit_form::UnitForm draft=draft estate=estate registry=registry/> }
        })
    };
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            {t!(i18n, record.back)}
        </button>
        <h2>{t!(i18n, registry.title)}</h2>
        <Show when=move || user().is_some_and(|u| u.estates.len() > 1)>
            <label>{t!(i18n, app.estate)}
                <select data-testid="registry-estate" on:change=move |ev| estate.set(Some(event_target_value(&ev)))>
                    {move || user().map(|u| u.estates).unwrap_or_default().into_iter().map(|e| {
                        view! { <option value=e.id.clone()>{e.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
        </Show>
        <Show when=is_office>
            <ImportForm estate=estate docs=docs/>
            <Show when=move || !editing.get()>
                <button class="secondary" data-testid="add-unit" on:click=move |_| draft.set(Some(unit_form::empty_unit()))>
                    {t!(i18n, registry.add_unit)}
                </button>
            </Show>
        </Show>
        {form}
        <UnitSearch docs=docs edit=is_office().then_some(draft)/>
    }
}

/// Search by unit or name over the registry as it stands.
#[component]
fn UnitSearch(
    docs: Memo<Vec<(DocumentId, Registry)>>,
    /// Where "change" puts a unit, for office staff.
    edit: Option<RwSignal<Option<UnitInfo>>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = RwSignal::new(String::new());
    let shown = RwSignal::new(PAGE);
    let units = Memo::new(move |_| {
        let docs = docs.get();
        current_units(docs.iter().map(|(_, r)| r))
            .into_iter()
            .cloned()
            .collect::<Vec<UnitEntry>>()
    });
    let matches = Memo::new(move |_| {
        let query = query.get();
        units.with(|units| {
            units
                .iter()
                .filter(|u| u.unit.matches(&query))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let today = today();
    view! {
        <section class="card">
            <label>{t!(i18n, registry.search)}
                <input type="search" data-testid="registry-search" prop:value=move || query.get()
                    placeholder=move || t_string!(i18n, registry.search_placeholder).to_string()
                    on:input=move |ev| { query.set(event_target_value(&ev)); shown.set(PAGE); }/>
            </label>
            <p class="muted" data-testid="registry-count">
                {move || {
                    let total = units.with(Vec::len);
                    let found = matches.with(Vec::len);
                    if total == 0 {
                        t!(i18n, registry.none_on_phone).into_any()
                    } else if query.with(String::is_empty) {
                        t!(i18n, registry.total, count = move || total).into_any()
                    } else {
                        t!(i18n, registry.found, found = move || found, total = move || total).into_any()
                    }
                }}
            </p>
        </section>
        <ul class="list" data-testid="registry-units">
            {move || matches.with(|found| {
                found.iter().take(shown.get()).map(|entry| unit_card(i18n, &entry.unit, today, edit)).collect_view()
            })}
        </ul>
        <Show when=move || { matches.with(Vec::len) > shown.get() }>
            <p class="muted" data-testid="registry-shown">
                {move || {
                    let total = matches.with(Vec::len);
                    let count = shown.get().min(total);
                    t!(i18n, registry.shown_of, count = move || count, total = move || total)
                }}
            </p>
            <button class="secondary" data-testid="registry-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                {t!(i18n, registry.more)}
            </button>
        </Show>
    }
}

pub(crate) fn occupancy_name(i18n: I18nContext<Locale>, occupancy: Occupancy) -> String {
    match occupancy {
        Occupancy::OwnerOccupied => t_string!(i18n, registry.owner_occupied),
        Occupancy::Let => t_string!(i18n, registry.let_out),
        Occupancy::Company => t_string!(i18n, registry.company),
        Occupancy::Vacant => t_string!(i18n, registry.vacant),
    }
    .to_string()
}

fn phone_link(phone: &str) -> impl IntoView {
    let phone = phone.to_owned();
    (!phone.is_empty()).then(|| {
        let first = phone
            .split(['/', ','])
            .next()
            .unwrap_or_default()
            .replace([' ', '(', ')', '-'], "");
        view! { " · " <a href=format!("tel:{first}")>{phone}</a> }
    })
}

fn id_last4(i18n: I18nContext<Locale>, last4: &str) -> impl IntoView {
    let last4 = last4.to_owned();
    (!last4.is_empty()).then(|| {
        view! { " · " {t!(i18n, registry.id_last4)}" "<span data-testid="id-last4">{last4}</span> }
    })
}

/// One unit: its label and occupancy, every owner and tenant, and a tenant's lease pointed
/// out when it ends within 30 days or has ended.
pub(crate) fn unit_card(
    i18n: I18nContext<Locale>,
    unit: &UnitInfo,
    today: Option<Date>,
    edit: Option<RwSignal<Option<UnitInfo>>>,
) -> impl IntoView {
    let label = unit.key().label();
    let owners = unit
        .owners
        .iter()
        .map(|owner| {
            let employer = owner.employer.clone();
            view! {
                <div data-testid="owner">
                    {t!(i18n, registry.owner)}" "<strong>{owner.name.clone()}</strong>
                    {phone_link(&owner.phone)}
                    {(!employer.is_empty()).then(|| view! { " · " {employer} })}
                    {id_last4(i18n, &owner.id_last4)}
                </div>
            }
        })
        .collect_view();
    let tenants = unit
        .tenants
        .iter()
        .map(|tenant| {
            let state = today.map_or(LeaseState::Unknown, |d| tenant.lease_state(d));
            let warning = match state {
                LeaseState::EndsSoon(days) => Some(t!(i18n, registry.lease_ends_in, days = move || days).into_any()),
                LeaseState::Ended(days) => Some(t!(i18n, registry.lease_ended, days = move || days).into_any()),
                LeaseState::Unknown => Some(t!(i18n, registry.lease_unknown).into_any()),
                LeaseState::Running => None,
            };
            let lease = format!(
                "{} – {}",
                if tenant.lease_start.is_empty() { "?" } else { &tenant.lease_start },
                if tenant.lease_end.is_empty() { "?" } else { &tenant.lease_end },
            );
            view! {
                <div data-testid="tenant">
                    {t!(i18n, registry.tenant)}" "<strong>{tenant.name.clone()}</strong>
                    {phone_link(&tenant.phone)}
                    {id_last4(i18n, &tenant.id_last4)}
                    <div>{t!(i18n, registry.lease)}" "<span data-testid="lease">{lease}</span></div>
                    {warning.map(|text| view! { <div class="warning-text" data-testid="lease-warning">{text}</div> })}
                </div>
            }
        })
        .collect_view();
    let company = unit.company.clone();
    let shown_label = label.clone();
    let change = edit.map(|draft| {
        let unit = unit.clone();
        view! {
            <button class="link" data-testid="edit-unit" on:click=move |_| {
                draft.set(Some(unit.clone()));
                window().scroll_to_with_x_and_y(0.0, 0.0);
            }>
                {t!(i18n, registry.edit_unit)}
            </button>
        }
    });
    view! {
        <li class="row unit" data-testid="unit" data-unit=label>
            <div class="row-main">
                <strong data-testid="unit-label">{shown_label}</strong>
                <span class="pill" data-testid="occupancy">{occupancy_name(i18n, unit.occupancy)}</span>
                {(!company.is_empty()).then(|| view! { <span>{company}</span> })}
                {change}
            </div>
            {owners}
            {tenants}
        </li>
    }
}

/// What the chosen file gave.
#[derive(Clone)]
enum Loaded {
    Nothing,
    Reading,
    Unreadable,
    Problems(Vec<ImportProblem>),
    Ready {
        plan: import::Plan,
        rows: usize,
        ignored: Vec<String>,
        /// The estate the plan was made for, and the registry document it goes into (a new
        /// one when none, or none with room, is on the phone).
        estate_id: String,
        target: Option<DocumentId>,
    },
}

/// A registry document this big takes no more imports; a new one is started (the registry
/// is the latest entry per unit over all of them). The server's limit is 2 MiB.
const REGISTRY_DOC_ROOM_BYTES: usize = 1024 * 1024;

/// The registry document of `docs` an import or a form adds to: the oldest with room.
pub(crate) fn target_document(ctx: Ctx, docs: &[(DocumentId, Registry)]) -> Option<DocumentId> {
    ctx.model.with_value(|m| {
        docs.iter().map(|(id, _)| *id).find(|id| {
            m.records
                .get(id)
                .is_some_and(|r| r.doc.save().len() < REGISTRY_DOC_ROOM_BYTES)
        })
    })
}

/// Whether the phone holds the registry as the server has it: connected, and every
/// followed document fetched. An import planned against less would write every unit again.
fn registry_current(ctx: Ctx) -> bool {
    ctx.connected()
        && ctx.model.with_value(|m| {
            !m.records
                .values()
                .any(|r| m.belongs(r) && !r.followers.is_empty() && r.record.is_none())
        })
}

/// The file's text: UTF-8 (what "CSV UTF-8" saves), else GB18030 (what a Chinese
/// spreadsheet's plain "CSV" saves).
async fn read_file(file: web_sys::File) -> Option<String> {
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .ok()?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    let utf8 = {
        let options = web_sys::TextDecoderOptions::new();
        options.set_fatal(true);
        web_sys::TextDecoder::new_with_label_and_options("utf-8", &options).ok()?
    };
    if let Ok(text) = utf8.decode_with_buffer_source(&bytes) {
        return Some(text);
    }
    web_sys::TextDecoder::new_with_label("gb18030")
        .ok()?
        .decode_with_buffer_source(&bytes)
        .ok()
}

/// Import from a CSV file: every bad row by line and column, or what would change; nothing
/// is written until the clerk confirms, and then all of it in one change.
#[component]
fn ImportForm(
    estate: RwSignal<Option<String>>,
    docs: Memo<Vec<(DocumentId, Registry)>>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let loaded = RwSignal::new(Loaded::Nothing);
    let saving = RwSignal::new(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    // A plan is for the estate it was made for: another estate picked, the file is read again.
    Effect::new(move |previous: Option<Option<String>>| {
        let now = estate.get();
        if previous.is_some_and(|p| p != now) {
            loaded.set(Loaded::Nothing);
            if let Some(input) = input_ref.get_untracked() {
                input.set_value("");
            }
        }
        now
    });
    let current = move || {
        ctx.version.track();
        registry_current(ctx)
    };
    let choose = move |_| {
        let Some(file) = input_ref
            .get()
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        loaded.set(Loaded::Reading);
        spawn_local(async move {
            let Some(text) = read_file(file).await else {
                loaded.set(Loaded::Unreadable);
                return;
            };
            loaded.set(match import::parse_csv(&text) {
                Err(problems) => Loaded::Problems(problems),
                Ok(parsed) => {
                    let current = docs.get_untracked();
                    let plan =
                        import::plan(&current_units(current.iter().map(|(_, r)| r)), parsed.units);
                    Loaded::Ready {
                        plan,
                        rows: parsed.rows,
                        ignored: parsed.ignored_columns,
                        estate_id: estate.get_untracked().unwrap_or_default(),
                        target: target_document(ctx, &current),
                    }
                }
            });
        });
    };
    let confirm = move |_| {
        let Loaded::Ready {
            plan,
            estate_id,
            target,
            ..
        } = loaded.get_untracked()
        else {
            return;
        };
        let (Some(user), Some(estate_id)) = (
            ctx.session.get_untracked().map(|s| s.user),
            ctx.start_estate(Some(estate_id)),
        ) else {
            return;
        };
        let now = now_ms();
        let entries: Vec<UnitEntry> = plan
            .changed
            .into_iter()
            .map(|unit| UnitEntry {
                id: EntryId::from_random(random_id()).to_string(),
                author: user.id.clone(),
                corrects: None,
                written_at: now,
                unit,
            })
            .collect();
        let count = entries.len();
        saving.set(true);
        spawn_local(async move {
            let saved = match target {
                Some(id) => {
                    ctx.edit::<Registry>(id, move |r| r.units.extend(entries))
                        .await
                }
                None => {
                    let mut registry =
                        Registry::start(&estate_id, &user.id, &user.display_name, now);
                    registry.units = entries;
                    ctx.start(registry).await.map(|_| ())
                }
            };
            saving.set(false);
            match saved {
                Ok(()) => {
                    loaded.set(Loaded::Nothing);
                    if let Some(input) = input_ref.get_untracked() {
                        input.set_value("");
                    }
                    ctx.notify("registry.imported", false);
                    leptos::logging::log!("imported {count} units");
                }
                Err(EditError::Invalid(problems)) => loaded.set(Loaded::Problems(
                    problems
                        .into_iter()
                        .map(|p| ImportProblem {
                            line: 0,
                            column: p.path,
                            key: p.key,
                        })
                        .collect(),
                )),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="registry-import">
            <h3>{t!(i18n, registry.import_title)}</h3>
            <p class="muted">{t!(i18n, registry.import_help)}</p>
            <input type="file" accept=".csv,text/csv" data-testid="registry-file" node_ref=input_ref on:change=choose/>
            {move || match loaded.get() {
                Loaded::Nothing => ().into_any(),
                Loaded::Reading => view! { <p class="muted">{t!(i18n, registry.reading)}</p> }.into_any(),
                Loaded::Unreadable => view! { <p class="error" data-testid="import-unreadable">{t!(i18n, registry.unreadable)}</p> }.into_any(),
                Loaded::Problems(problems) => {
                    let total = problems.len();
                    view! {
                        <p class="error" data-testid="import-refused">{t!(i18n, registry.import_refused, count = move || total)}</p>
                        <ul class="problems">
                            {problems.iter().take(PROBLEM_PAGE).map(|p| {
                                let text = import_problem_text(i18n, p);
                                view! { <li data-testid="import-problem">{text}</li> }
                            }).collect_view()}
                        </ul>
                        {(total > PROBLEM_PAGE).then(|| view! {
                            <p class="muted">{t!(i18n, registry.problems_not_shown, count = move || total - PROBLEM_PAGE)}</p>
                        })}
                    }.into_any()
                }
                Loaded::Ready { plan, rows, ignored, .. } => {
                    let changed = plan.changed.len();
                    let unchanged = plan.unchanged;
                    let kept = plan.not_in_file;
                    let ignored_text = ignored.join("、");
                    view! {
                        <p data-testid="import-plan">
                            {t!(i18n, registry.import_plan, rows = move || rows, changed = move || changed, unchanged = move || unchanged)}
                        </p>
                        {(kept > 0).then(|| view! { <p class="muted">{t!(i18n, registry.not_in_file, count = move || kept)}</p> })}
                        {(!ignored.is_empty()).then(|| view! { <p class="muted" data-testid="import-ignored">{t!(i18n, registry.ignored_columns)}" "{ignored_text}</p> })}
                        <Show when=move || !current()>
                            <p class="error" data-testid="import-needs-sync">{t!(i18n, registry.import_needs_sync)}</p>
                        </Show>
                        <button data-testid="import-confirm" on:click=confirm
                            prop:disabled=move || saving.get() || changed == 0 || !current()>
                            {t!(i18n, registry.import_confirm, count = move || changed)}
                        </button>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// "Line 3, 业主电话: not a contact number".
fn import_problem_text(i18n: I18nContext<Locale>, problem: &ImportProblem) -> AnyView {
    let what = problem_key_text(i18n, problem.key);
    let line = problem.line;
    let column = problem.column.clone();
    if problem.line == 0 {
        format!("{column}: {what}").into_any()
    } else if column.is_empty() {
        t!(
            i18n,
            registry.problem_on_line,
            line = move || line,
            what = move || what
        )
        .into_any()
    } else {
        t!(
            i18n,
            registry.problem_in_column,
            line = move || line,
            column = move || column.clone(),
            what = move || what
        )
        .into_any()
    }
}
