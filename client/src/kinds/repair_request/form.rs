//! The office's form for a work order: what and where, who reported it, and to whom it
//! goes (a technician of the estate, or the pool). From an owner's call on its own screen,
//! or prefilled from a patrol finding under it.

use gatehouse_shared::record::repair::Component;
use gatehouse_shared::record::repair_request::{Assignment, RepairRequest};
use gatehouse_shared::user::StaffMember;
use gatehouse_shared::{DocumentId, EntryId, Problem, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::kinds::repair::component_name;
use crate::time::now_ms;
use crate::widgets::Problems;

#[component]
pub fn NewRequestScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let estate = ctx.start_estate(None).unwrap_or_default();
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            {t!(i18n, record.back)}
        </button>
        <h2>{t!(i18n, request.new_order)}" · "{t!(i18n, request.from_call)}</h2>
        <RequestForm estate=estate finding=None prefill=Prefill::default()
            on_created=Callback::new(move |id| ctx.screen.set(Screen::Record(id)))/>
    }
}

/// What a finding gives the form to start from.
#[derive(Debug, Clone, Default)]
pub struct Prefill {
    pub unit: String,
    pub fault: String,
    pub reported_by: String,
}

/// The technicians of the signed-in clerk's estates, read once per form; `None` while
/// loading, an empty list when they could not be read (the pool is then the only choice).
pub fn load_technicians(failed: RwSignal<bool>) -> RwSignal<Option<Vec<StaffMember>>> {
    let ctx = expect_context::<Ctx>();
    let staff = RwSignal::new(None::<Vec<StaffMember>>);
    if let Some(session) = ctx.session.get_untracked() {
        spawn_local(async move {
            match api::staff(&session.token).await {
                Ok(list) => staff.set(Some(
                    list.into_iter()
                        .filter(|s| s.role == Role::Technician)
                        .collect(),
                )),
                Err(_) => {
                    failed.set(true);
                    staff.set(Some(Vec::new()));
                }
            }
        });
    }
    staff
}

/// A choice of technician of `estate` or the pool, as `(user ID, name)`; empty ID: pool.
#[component]
pub fn AssigneeSelect(
    estate: String,
    staff: RwSignal<Option<Vec<StaffMember>>>,
    failed: RwSignal<bool>,
    assignee: RwSignal<(String, String)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let estate = StoredValue::new(estate);
    let technicians = move || {
        staff
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| estate.with_value(|e| s.estate_ids.contains(e)))
            .collect::<Vec<_>>()
    };
    let pick = move |id: String| {
        let name = technicians()
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.display_name)
            .unwrap_or_default();
        assignee.set((id, name));
    };
    view! {
        <label>{t!(i18n, request.assign_to)}
            <select data-testid="request-assignee" prop:value=move || assignee.get().0
                on:change=move |ev| pick(event_target_value(&ev))>
                <option value="">{t!(i18n, request.pool)}</option>
                {move || technicians().into_iter().map(|s| view! {
                    <option value=s.id.clone()>{s.display_name.clone()}</option>
                }).collect_view()}
            </select>
        </label>
        <Show when=move || failed.get()>
            <p class="muted" data-testid="staff-unavailable">{t!(i18n, request.staff_unavailable)}</p>
        </Show>
    }
}

#[component]
pub fn RequestForm(
    /// The estate the order belongs to (the finding's round's, or the clerk's first).
    estate: String,
    /// The patrol log and the finding's entry ID it follows up.
    finding: Option<(DocumentId, String)>,
    prefill: Prefill,
    on_created: Callback<DocumentId>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let unit = RwSignal::new(prefill.unit);
    let fault = RwSignal::new(prefill.fault);
    let reported_by = RwSignal::new(prefill.reported_by);
    let contact = RwSignal::new(String::new());
    let component = RwSignal::new(Component::Other);
    let assignee = RwSignal::new((String::new(), String::new()));
    let problems = RwSignal::new(Vec::<Problem>::new());
    let saving = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let staff = load_technicians(failed);
    let estate_id = estate.clone();
    let create = move |_| {
        if saving.get_untracked() {
            return;
        }
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let (assignee_id, assignee_name) = assignee.get_untracked();
        let now = now_ms();
        let assignment = Assignment::new(
            EntryId::from_random(random_id()),
            &user.id,
            &assignee_id,
            &assignee_name,
            now,
        );
        let request = RepairRequest::new(
            &estate_id,
            &user.id,
            &user.display_name,
            &unit.get_untracked(),
            &fault.get_untracked(),
            component.get_untracked(),
            &reported_by.get_untracked(),
            &contact.get_untracked(),
            finding.as_ref().map(|(doc, entry)| (*doc, entry.as_str())),
            assignment,
            now,
        );
        saving.set(true);
        spawn_local(async move {
            let started = match request {
                Ok(request) => ctx.start(request).await,
                Err(found) => Err(EditError::Invalid(found)),
            };
            saving.set(false);
            match started {
                Ok(id) => {
                    problems.set(Vec::new());
                    ctx.notify("request.created", false);
                    on_created.run(id);
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="request-form">
            <label>{t!(i18n, request.unit)}
                <input data-testid="request-unit" prop:value=move || unit.get()
                    placeholder=move || t_string!(i18n, request.unit_placeholder).to_string()
                    on:input=move |ev| unit.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, request.fault)}
                <textarea data-testid="request-fault" prop:value=move || fault.get()
                    on:input=move |ev| fault.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t!(i18n, repair.component)}
                <select data-testid="request-component" prop:value=move || component.get().as_str()
                    on:change=move |ev| component.set(Component::parse(&event_target_value(&ev)).unwrap_or(Component::Other))>
                    {Component::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str()>{move || component_name(i18n, c)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, request.reported_by)}
                <input data-testid="request-reported-by" prop:value=move || reported_by.get()
                    on:input=move |ev| reported_by.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, request.contact)}
                <input type="tel" data-testid="request-contact" prop:value=move || contact.get()
                    on:input=move |ev| contact.set(event_target_value(&ev))/>
            </label>
            <AssigneeSelect estate=estate staff=staff failed=failed assignee=assignee/>
            <Problems problems=problems/>
            <button class="primary" data-testid="create-request" on:click=create
                prop:disabled=move || saving.get()>
                {t!(i18n, request.create)}
            </button>
        </section>
    }
}
