//! The office's form for one unit: a new unit, or a change to one, saved as a new entry of
//! the estate's registry (the unit as it stood stays in the registry's history).

use gatehouse_shared::record::registry::{
    id_last4, Occupancy, Owner, Registry, Tenant, UnitEntry, UnitInfo,
};
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::occupancy_name;
use crate::ctx::{random_id, Ctx, EditError};
use crate::i18n::*;
use crate::time::now_ms;
use crate::widgets::Problems;

/// A unit with nobody in it yet, for "add a unit".
pub fn empty_unit() -> UnitInfo {
    UnitInfo {
        building: String::new(),
        entrance: String::new(),
        room: String::new(),
        occupancy: Occupancy::OwnerOccupied,
        company: String::new(),
        owners: vec![empty_owner()],
        tenants: Vec::new(),
    }
}

fn empty_owner() -> Owner {
    Owner {
        name: String::new(),
        phone: String::new(),
        employer: String::new(),
        id_last4: String::new(),
    }
}

fn empty_tenant() -> Tenant {
    Tenant {
        name: String::new(),
        phone: String::new(),
        id_last4: String::new(),
        lease_start: String::new(),
        lease_end: String::new(),
    }
}

/// Keeps the last four characters of whatever ID number was typed (a whole one is never
/// stored); fewer than four are left for the rules to refuse.
fn keep_last4(text: &str) -> String {
    id_last4(text).unwrap_or_else(|| text.trim().to_owned())
}

/// A text input bound to one field of the draft.
fn field(
    label: impl IntoView + 'static,
    testid: &'static str,
    kind: &'static str,
    get: impl Fn() -> String + Send + Sync + 'static,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label>{label}
            <input type=kind data-testid=testid prop:value=get on:input=move |ev| set(event_target_value(&ev))/>
        </label>
    }
}

/// The form. `estate` is where a new registry goes; `registry` the document to add to, if
/// the estate has one on this phone.
#[component]
pub fn UnitForm(
    draft: RwSignal<Option<UnitInfo>>,
    estate: String,
    registry: Option<DocumentId>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let problems = RwSignal::new(Vec::<Problem>::new());
    let saving = RwSignal::new(false);
    let edit = move |change: &dyn Fn(&mut UnitInfo)| {
        draft.update(|d| {
            if let Some(d) = d.as_mut() {
                change(d);
            }
        })
    };
    let text = move |read: fn(&UnitInfo) -> &String| {
        move || draft.with(|d| d.as_ref().map(|d| read(d).clone()).unwrap_or_default())
    };
    let owner_count = Memo::new(move |_| draft.with(|d| d.as_ref().map_or(0, |d| d.owners.len())));
    let tenant_count =
        Memo::new(move |_| draft.with(|d| d.as_ref().map_or(0, |d| d.tenants.len())));
    let owner_text = move |i: usize, read: fn(&Owner) -> &String| {
        move || {
            draft.with(|d| {
                d.as_ref()
                    .and_then(|d| d.owners.get(i))
                    .map(|o| read(o).clone())
                    .unwrap_or_default()
            })
        }
    };
    let tenant_text = move |i: usize, read: fn(&Tenant) -> &String| {
        move || {
            draft.with(|d| {
                d.as_ref()
                    .and_then(|d| d.tenants.get(i))
                    .map(|t| read(t).clone())
                    .unwrap_or_default()
            })
        }
    };
    let save = move |_| {
        let Some(mut unit) = draft.get_untracked() else {
            return;
        };
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        for owner in &mut unit.owners {
            owner.id_last4 = keep_last4(&owner.id_last4);
        }
        for tenant in &mut unit.tenants {
            tenant.id_last4 = keep_last4(&tenant.id_last4);
        }
        let now = now_ms();
        let entry = UnitEntry {
            id: EntryId::from_random(random_id()).to_string(),
            author: user.id.clone(),
            corrects: None,
            written_at: now,
            unit,
        };
        let estate = estate.clone();
        saving.set(true);
        spawn_local(async move {
            let saved = match registry {
                Some(id) => ctx.edit::<Registry>(id, move |r| r.units.push(entry)).await,
                None => {
                    let mut new = Registry::start(&estate, &user.id, &user.display_name, now);
                    new.units.push(entry);
                    ctx.start(new).await.map(|_| ())
                }
            };
            saving.set(false);
            match saved {
                Ok(()) => {
                    problems.set(Vec::new());
                    draft.set(None);
                    ctx.notify("registry.unit_saved", false);
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="unit-form">
            <h3>{t!(i18n, registry.unit_form_title)}</h3>
            {field(t!(i18n, field.building), "unit-building", "text", text(|d| &d.building), move |v| edit(&|d| d.building = v.clone()))}
            {field(t!(i18n, field.entrance), "unit-entrance", "text", text(|d| &d.entrance), move |v| edit(&|d| d.entrance = v.clone()))}
            {field(t!(i18n, field.room), "unit-room", "text", text(|d| &d.room), move |v| edit(&|d| d.room = v.clone()))}
            <label>{t!(i18n, field.occupancy)}
                <select data-testid="unit-occupancy"
                    prop:value=move || draft.with(|d| d.as_ref().map(|d| d.occupancy.as_str()).unwrap_or_default())
                    on:change=move |ev| {
                        if let Some(occupancy) = Occupancy::parse(&event_target_value(&ev)) {
                            edit(&|d| d.occupancy = occupancy);
                        }
                    }>
                    {Occupancy::ALL.into_iter().map(|o| view! { <option value=o.as_str()>{occupancy_name(i18n, o)}</option> }).collect_view()}
                </select>
            </label>
            {field(t!(i18n, field.company), "unit-company", "text", text(|d| &d.company), move |v| edit(&|d| d.company = v.clone()))}
            <For each=move || 0..owner_count.get() key=|i| *i let:i>
                <fieldset class="person" data-testid="owner-fields">
                    <legend>{t!(i18n, registry.owner)}" "{i + 1}</legend>
                    {field(t!(i18n, field.owner_name), "owner-name", "text", owner_text(i, |o| &o.name), move |v| edit(&|d| if let Some(o) = d.owners.get_mut(i) { o.name = v.clone() }))}
                    {field(t!(i18n, field.owner_phone), "owner-phone", "tel", owner_text(i, |o| &o.phone), move |v| edit(&|d| if let Some(o) = d.owners.get_mut(i) { o.phone = v.clone() }))}
                    {field(t!(i18n, field.owner_employer), "owner-employer", "text", owner_text(i, |o| &o.employer), move |v| edit(&|d| if let Some(o) = d.owners.get_mut(i) { o.employer = v.clone() }))}
                    {field(t!(i18n, registry.id_number), "owner-id", "text", owner_text(i, |o| &o.id_last4), move |v| edit(&|d| if let Some(o) = d.owners.get_mut(i) { o.id_last4 = v.clone() }))}
                    <button class="link" on:click=move |_| edit(&|d| { if i < d.owners.len() { d.owners.remove(i); } })>{t!(i18n, registry.remove)}</button>
                </fieldset>
            </For>
            <button class="secondary" data-testid="add-owner" on:click=move |_| edit(&|d| d.owners.push(empty_owner()))>{t!(i18n, registry.add_owner)}</button>
            <For each=move || 0..tenant_count.get() key=|i| *i let:i>
                <fieldset class="person" data-testid="tenant-fields">
                    <legend>{t!(i18n, registry.tenant)}" "{i + 1}</legend>
                    {field(t!(i18n, field.tenant_name), "tenant-name", "text", tenant_text(i, |t| &t.name), move |v| edit(&|d| if let Some(t) = d.tenants.get_mut(i) { t.name = v.clone() }))}
                    {field(t!(i18n, field.tenant_phone), "tenant-phone", "tel", tenant_text(i, |t| &t.phone), move |v| edit(&|d| if let Some(t) = d.tenants.get_mut(i) { t.phone = v.clone() }))}
                    {field(t!(i18n, registry.id_number), "tenant-id", "text", tenant_text(i, |t| &t.id_last4), move |v| edit(&|d| if let Some(t) = d.tenants.get_mut(i) { t.id_last4 = v.clone() }))}
                    {field(t!(i18n, field.lease_start), "lease-start", "date", tenant_text(i, |t| &t.lease_start), move |v| edit(&|d| if let Some(t) = d.tenants.get_mut(i) { t.lease_start = v.clone() }))}
                    {field(t!(i18n, field.lease_end), "lease-end", "date", tenant_text(i, |t| &t.lease_end), move |v| edit(&|d| if let Some(t) = d.tenants.get_mut(i) { t.lease_end = v.clone() }))}
                    <button class="link" on:click=move |_| edit(&|d| { if i < d.tenants.len() { d.tenants.remove(i); } })>{t!(i18n, registry.remove)}</button>
                </fieldset>
            </For>
            <button class="secondary" data-testid="add-tenant" on:click=move |_| edit(&|d| d.tenants.push(empty_tenant()))>{t!(i18n, registry.add_tenant)}</button>
            <Problems problems=problems/>
            <div class="actions">
                <button data-testid="save-unit" on:click=save prop:disabled=move || saving.get()>{t!(i18n, registry.save_unit)}</button>
                <button class="secondary" data-testid="cancel-unit" on:click=move |_| draft.set(None)>{t!(i18n, registry.cancel)}</button>
            </div>
        </section>
    }
}
