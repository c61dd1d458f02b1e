//! A slip's screen: the slip and what may still leave on it, the registry entry of its unit
//! beside it (who owns it, whether it is let, the lease), the approvals and checks, and the
//! form of whoever may add to it: the office's phone approval, the guard's check at the gate.

use gatehouse_shared::problem::keys;
use gatehouse_shared::record::judge_kind;
use gatehouse_shared::record::registry::{current_units, LeaseState, Occupancy, UnitInfo};
use gatehouse_shared::record::release_slip::{
    slip_number, Applicant, Approval, ApprovalMethod, Decision, GateCheck, Held, IdentityCheck,
    ReleaseSlip, Released,
};
use gatehouse_shared::signature::{Purpose, SignerRole, Stroke, Unsigned};
use gatehouse_shared::{AnyRecord, DocumentId, EntryId, Problem, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_i18n::I18nContext;

use crate::ctx::{random_id, Ctx, EditError};
use crate::i18n::*;
use crate::kinds::registry::{registries, today, unit_card};
use crate::kinds::repair::pad::{take_signature, SignaturePad, StrokeDrawing};
use crate::text::problem_key_text;
use crate::time::{format_time, now_ms};
use crate::widgets::Problems;

/// The guard's decision in the user's language.
pub(super) fn decision_name(i18n: I18nContext<Locale>, decision: Decision) -> String {
    match decision {
        Decision::Released => t_string!(i18n, slip.decision_released),
        Decision::PartlyReleased => t_string!(i18n, slip.decision_partly_released),
        Decision::Refused => t_string!(i18n, slip.decision_refused),
    }
    .to_string()
}

fn identity_name(i18n: I18nContext<Locale>, check: IdentityCheck) -> String {
    match check {
        IdentityCheck::IdNumber => t_string!(i18n, slip.check_id_number),
        IdentityCheck::Employer => t_string!(i18n, slip.check_employer),
        IdentityCheck::Household => t_string!(i18n, slip.check_household),
    }
    .to_string()
}

/// What the registry says against the slip: the applicant is not who the registry names, a
/// tenant's lease ends soon or has ended, or the unit is not in the registry at all.
fn registry_warnings(
    i18n: I18nContext<Locale>,
    slip: &ReleaseSlip,
    unit: Option<&UnitInfo>,
) -> Vec<AnyView> {
    let Some(unit) = unit else {
        return vec![t!(i18n, slip.not_in_registry).into_any()];
    };
    let mut warnings = Vec::new();
    let name = slip.applicant_name.trim();
    let tenant = unit.tenants.iter().find(|t| t.name.trim() == name);
    let owner = unit.owners.iter().any(|o| o.name.trim() == name);
    match slip.applicant {
        Applicant::Tenant if unit.occupancy != Occupancy::Let || tenant.is_none() => {
            warnings.push(t!(i18n, slip.applicant_not_tenant).into_any());
        }
        Applicant::Owner if !owner => warnings.push(t!(i18n, slip.applicant_not_owner).into_any()),
        _ => {}
    }
    if let (Some(tenant), Some(day)) = (tenant, today()) {
        match tenant.lease_state(day) {
            LeaseState::EndsSoon(days) => {
                warnings.push(t!(i18n, slip.tenant_lease_ends_in, days = move || days).into_any())
            }
            LeaseState::Ended(days) => {
                warnings.push(t!(i18n, slip.tenant_lease_ended, days = move || days).into_any())
            }
            _ => {}
        }
    }
    if slip.applicant == Applicant::Tenant && tenant.is_some() {
        warnings.push(t!(i18n, slip.is_tenant).into_any());
    }
    // Whoever approved must be an owner the registry names, on an owner's number.
    let approver_is_owner = |a: &Approval| {
        unit.owners.iter().any(|o| {
            o.name.trim() == a.approver_name.trim()
                && (o.phone.is_empty()
                    || plain_digits(&o.phone).contains(&plain_digits(&a.phone_number)))
        })
    };
    if slip.approvals.iter().any(|a| !approver_is_owner(a)) {
        warnings.push(t!(i18n, slip.approver_not_owner).into_any());
    }
    warnings
}

fn plain_digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[component]
pub fn SlipBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let slip = Memo::new(move |_| record.get().and_then(|r| r.as_release_slip().cloned()));
    let role = ctx.session.get_untracked().map(|s| s.user.role);
    let unit = Memo::new(move |_| {
        ctx.version.track();
        let slip = slip.get()?;
        current_units(registries(ctx, &slip.estate_id).iter().map(|(_, r)| r))
            .into_iter()
            .find(|u| u.unit.key().label() == slip.unit)
            .map(|u| u.unit.clone())
    });
    let editable = move || ctx.editable(id);
    let items = Memo::new(move |_| slip.with(|s| s.as_ref().map(|s| s.items.clone())));
    view! {
        {move || slip.get().map(|slip| {
            let warnings = registry_warnings(i18n, &slip, unit.get().as_ref());
            let refusal = today().and_then(|d| slip.refuses_release(d));
            view! {
                <section class="card" data-testid="slip" data-status=slip.status().as_str()>
                    <p>{t!(i18n, slip.number)}" "<strong data-testid="slip-number">{slip_number(id)}</strong></p>
                    <p>
                        {match slip.applicant { Applicant::Owner => t_string!(i18n, registry.owner), Applicant::Tenant => t_string!(i18n, registry.tenant) }}
                        " "<strong data-testid="slip-applicant">{slip.applicant_name.clone()}</strong>
                    </p>
                    <p data-testid="slip-window">{t!(i18n, slip.window)}" "{slip.valid_from.clone()}" – "{slip.valid_until.clone()}</p>
                    <ul data-testid="slip-items">
                        {slip.items.iter().map(|item| {
                            let left = slip.remaining(item);
                            view! { <li data-testid="slip-item-line">{item.what.clone()}" ×"{item.quantity}" · "{t!(i18n, slip.remaining)}" "<strong data-testid="remaining">{left}</strong></li> }
                        }).collect_view()}
                    </ul>
                    {refusal.map(|key| view! { <p class="warning-text" data-testid="slip-refusal">{problem_key_text(i18n, key)}</p> })}
                </section>
                <section class="card" data-testid="slip-registry">
                    <h3>{t!(i18n, slip.registry_title)}</h3>
                    {warnings.into_iter().map(|w| view! { <p class="warning-text" data-testid="registry-warning">{w}</p> }).collect_view()}
                    {unit.get().map(|u| view! { <ul class="list">{unit_card(i18n, &u, today(), None)}</ul> })}
                </section>
                <section class="card" data-testid="approvals">
                    <h3>{t!(i18n, slip.approvals_title)}</h3>
                    {slip.approvals.iter().map(|a| {
                        let checks: Vec<String> = a.identity_checks.iter().map(|c| identity_name(i18n, *c)).collect();
                        let signed = slip.approval_signature(&a.id).map(|s| s.stroke.to_vec());
                        let method = match a.method {
                            ApprovalMethod::Phone => t_string!(i18n, slip.by_phone).to_string(),
                            ApprovalMethod::InPerson => t_string!(i18n, slip.in_person).to_string(),
                        };
                        view! {
                            <p data-testid="approval" data-method=a.method.as_str()>
                                {method}" · "{a.approver_name.clone()}
                                {(!a.phone_number.is_empty()).then(|| format!(" · {}", a.phone_number))}
                                " · "{t!(i18n, slip.checked)}" "{checks.join("、")}" · "{format_time(a.approved_at)}
                                {signed.map(|stroke| view! {
                                    <span class="signature" data-testid="approval-signature"><StrokeDrawing stroke=stroke/></span>
                                })}
                            </p>
                        }
                    }).collect_view()}
                    {slip.approvals.is_empty().then(|| view! { <p class="warning-text" data-testid="no-approval">{problem_key_text(i18n, keys::NOT_APPROVED)}</p> })}
                </section>
                <section class="card" data-testid="checks">
                    <h3>{t!(i18n, slip.checks_title)}</h3>
                    {slip.checks.iter().map(|c| check_line(i18n, &slip, c, role == Some(Role::Office))).collect_view()}
                </section>
            }
        })}
        <Show when=move || editable() && role == Some(Role::Office) && slip.with(|s| s.as_ref().is_some_and(|s| !s.is_approved()))>
            <PhoneApproval id=id unit=unit slip=slip/>
        </Show>
        // Built again only when the items change (never once the slip is approved): a check
        // arriving from another gate does not wipe what the guard is typing.
        <Show when=move || editable() && role == Some(Role::Guard)>
            {move || items.get().map(|_| view! { <CheckForm id=id slip=slip/> })}
        </Show>
    }
}

/// One check as the register lists it. The carrier's ID number is shown whole to the office
/// only; the gate sees its last four.
fn check_line(
    i18n: I18nContext<Locale>,
    slip: &ReleaseSlip,
    check: &GateCheck,
    office: bool,
) -> impl IntoView {
    let what = |item: &str| {
        slip.items
            .iter()
            .find(|i| i.id == item)
            .map_or(item.to_owned(), |i| i.what.clone())
    };
    let released: Vec<String> = check
        .released
        .iter()
        .filter(|l| l.quantity > 0)
        .map(|l| format!("{} ×{}", what(&l.item), l.quantity))
        .collect();
    let held: Vec<String> = check
        .held
        .iter()
        .map(|h| format!("{} ×{}", h.what, h.quantity))
        .collect();
    let id = if office {
        check.carrier_id.clone()
    } else {
        let chars: Vec<char> = check.carrier_id.chars().collect();
        let last: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("…{last}")
    };
    view! {
        <div class="entry" data-testid="check" data-decision=check.decision.as_str()>
            <strong>{decision_name(i18n, check.decision)}</strong>" · "{format_time(check.checked_at)}" · "{check.guard_name.clone()}
            <div>{t!(i18n, slip.carrier)}" "{check.carrier_name.clone()}" · "<span data-testid="carrier-id">{id}</span>" · "{check.plate.clone()}</div>
            {(!released.is_empty()).then(|| view! { <div data-testid="check-released">{t!(i18n, slip.released)}" "{released.join("、")}</div> })}
            {(!held.is_empty()).then(|| view! { <div data-testid="check-held">{t!(i18n, slip.held)}" "{held.join("、")}</div> })}
            {(!check.reason.is_empty()).then(|| view! { <div class="muted">{check.reason.clone()}</div> })}
            {match slip.check_signature(&check.id) {
                Some(signature) => view! {
                    <div class="signature" data-testid="check-signature">
                        <span class="muted">{t!(i18n, slip.guard_signed)}" "{signature.signer_name.clone()}</span>
                        <StrokeDrawing stroke=signature.stroke.to_vec()/>
                    </div>
                }.into_any(),
                None => view! {
                    <div class="warning-text" data-testid="check-unsigned">{t!(i18n, slip.guard_unsigned)}</div>
                }.into_any(),
            }}
        </div>
    }
}

/// The owner approves by phone: whom the office called, on which number, what they proved.
#[component]
fn PhoneApproval(
    id: DocumentId,
    unit: Memo<Option<UnitInfo>>,
    slip: Memo<Option<ReleaseSlip>>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let owner = unit.get_untracked().and_then(|u| u.owners.first().cloned());
    let name = RwSignal::new(owner.as_ref().map(|o| o.name.clone()).unwrap_or_default());
    let phone = RwSignal::new(owner.map(|o| o.phone).unwrap_or_default());
    let checks = RwSignal::new(Vec::<IdentityCheck>::new());
    let note = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let method = RwSignal::new(ApprovalMethod::Phone);
    let signer_role = RwSignal::new(SignerRole::Owner);
    let stroke = RwSignal::new(Stroke {
        width: 1,
        height: 1,
        lines: Vec::new(),
    });
    let full = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let save = move |_| {
        if busy.get_untracked() {
            return;
        }
        // The approval covers the slip exactly as the clerk read it out (or the owner read).
        let Some(current) = slip.get_untracked() else {
            return;
        };
        let approval = Approval {
            slip_hash: current.content_hash(),
            id: EntryId::from_random(random_id()).to_string(),
            author: ctx.user_id(),
            corrects: None,
            approved_at: now_ms(),
            approver_name: name.get_untracked().trim().to_owned(),
            phone_number: phone.get_untracked().trim().to_owned(),
            identity_checks: checks.get_untracked(),
            note: note.get_untracked().trim().to_owned(),
            method: method.get_untracked(),
        };
        if approval.method == ApprovalMethod::Phone {
            ctx.save_edit::<ReleaseSlip>(
                id,
                problems,
                "slip.approved",
                move |s| s.approvals.push(approval),
                || {},
            );
            return;
        }
        // At the desk the owner signs the slip as it stands, on this device, in the same edit;
        // every other problem of the approval is shown with a missing signature.
        let mut trial = current.clone();
        trial.approvals.push(approval.clone());
        let mut found: Vec<Problem> = ctx
            .with_writer(|writer| judge_kind(Some(&current), &trial, writer, id, now_ms()))
            .and_then(Result::err)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.key != keys::UNSIGNED)
            .collect();
        let drawn = stroke.get_untracked();
        if drawn.is_empty() {
            found.push(Problem::new("signature.stroke", keys::EMPTY_STROKE));
        }
        if !found.is_empty() {
            problems.set(found);
            return;
        }
        let Some(identity) = ctx.identity.get_value() else {
            return;
        };
        let content = current.approval_content(&approval);
        let signature_id = EntryId::from_random(random_id()).to_string();
        let stroke_bytes = drawn.encode();
        busy.set(true);
        spawn_local(async move {
            let unsigned = Unsigned {
                id: &signature_id,
                author: &approval.author,
                purpose: Purpose::SlipApproval,
                subject: &approval.id,
                signer_role: signer_role.get_untracked(),
                signer_name: &approval.approver_name,
                stroke: &stroke_bytes,
                content_hash: content.hash(),
                signed_at: now_ms(),
                document: id,
                device_id: identity.device_id(),
            };
            let outcome = match take_signature(&identity, &unsigned).await {
                Ok(entry) => {
                    ctx.edit::<ReleaseSlip>(id, move |s| {
                        s.approvals.push(approval);
                        s.signatures.push(entry);
                    })
                    .await
                }
                Err(error) => Err(error),
            };
            busy.set(false);
            match outcome {
                Ok(()) => {
                    problems.set(Vec::new());
                    ctx.notify("slip.approved", false);
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    let in_person = move || method.get() == ApprovalMethod::InPerson;
    view! {
        <section class="card" data-testid="approval-form">
            <h3>{t!(i18n, slip.approve_title)}</h3>
            <label>{t!(i18n, slip.approval_method)}
                <select data-testid="approval-method" prop:value=move || method.get().as_str()
                    on:change=move |ev| method.set(if event_target_value(&ev) == "in_person" { ApprovalMethod::InPerson } else { ApprovalMethod::Phone })>
                    <option value="phone">{t!(i18n, slip.by_phone)}</option>
                    <option value="in_person">{t!(i18n, slip.in_person)}</option>
                </select>
            </label>
            <p class="muted">{move || if in_person() { t_string!(i18n, slip.in_person_help) } else { t_string!(i18n, slip.approve_help) }}</p>
            <label>{t!(i18n, slip.approver_name)}
                <input data-testid="approver-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <label>{move || if in_person() { t_string!(i18n, slip.phone_optional) } else { t_string!(i18n, slip.phone_called) }}
                <input type="tel" data-testid="approver-phone" prop:value=move || phone.get() on:input=move |ev| phone.set(event_target_value(&ev))/>
            </label>
            <fieldset class="person">
                <legend>{t!(i18n, slip.identity_checked)}</legend>
                {IdentityCheck::ALL.into_iter().map(|check| view! {
                    <label class="checkbox">
                        <input type="checkbox" data-testid=format!("identity-{}", check.as_str())
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                checks.update(|c| { c.retain(|x| *x != check); if on { c.push(check); } });
                            }/>
                        {identity_name(i18n, check)}
                    </label>
                }).collect_view()}
            </fieldset>
            <label>{t!(i18n, slip.note)}
                <input data-testid="approval-note" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
            </label>
            <Show when=in_person>
                <label>{t!(i18n, signature.signer_role)}
                    <select data-testid="signer-role" prop:value=move || signer_role.get().as_str()
                        on:change=move |ev| signer_role.set(if event_target_value(&ev) == "owners_agent" { SignerRole::OwnersAgent } else { SignerRole::Owner })>
                        <option value="owner">{t!(i18n, signer.owner)}</option>
                        <option value="owners_agent">{t!(i18n, signer.owners_agent)}</option>
                    </select>
                </label>
                <p class="muted">{t!(i18n, slip.owner_sign_below)}</p>
                <SignaturePad stroke=stroke full=full/>
                <Show when=move || full.get()>
                    <p class="problems">{t!(i18n, signature.pad_full)}</p>
                </Show>
                <div class="actions">
                    <button class="secondary" data-testid="clear-signature"
                        on:click=move |_| { stroke.update(|s| s.lines.clear()); full.set(false); }>
                        {t!(i18n, signature.clear)}
                    </button>
                </div>
            </Show>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-approval" on:click=save prop:disabled=move || busy.get()>{t!(i18n, slip.save_approval)}</button>
        </section>
    }
}

/// The check at the gate: how many of each item leave (at most what remains), what else
/// was presented and is held, the carrier and vehicle, and why, when not everything left.
/// Every quantity starts empty: the guard counts each item.
#[component]
fn CheckForm(id: DocumentId, slip: Memo<Option<ReleaseSlip>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let items: Vec<(String, String)> = slip.with_untracked(|s| {
        s.as_ref()
            .map(|s| {
                s.items
                    .iter()
                    .map(|i| (i.id.clone(), i.what.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });
    let releasable = move || {
        slip.with(|s| {
            s.as_ref()
                .is_some_and(|s| today().is_some_and(|d| s.refuses_release(d).is_none()))
        })
    };
    let remaining = move |item: &str| {
        slip.with(|s| {
            s.as_ref()
                .and_then(|s| {
                    s.items
                        .iter()
                        .find(|i| i.id == item)
                        .map(|i| s.remaining(i))
                })
                .unwrap_or(0)
        })
    };
    let quantities = RwSignal::new(vec![String::new(); items.len()]);
    let held = RwSignal::new(Vec::<(String, String)>::new());
    let held_count = Memo::new(move |_| held.with(Vec::len));
    let carrier = RwSignal::new(String::new());
    let carrier_id = RwSignal::new(String::new());
    let plate = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let stroke = RwSignal::new(Stroke {
        width: 1,
        height: 1,
        lines: Vec::new(),
    });
    let full = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let item_ids: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
    let save = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Some(current) = slip.get_untracked() else {
            return;
        };
        let mut found = Vec::new();
        let released: Vec<Released> = quantities
            .get_untracked()
            .iter()
            .zip(&item_ids)
            .enumerate()
            .map(|(i, (text, item))| {
                let text = text.trim();
                let quantity = if text.is_empty() {
                    0
                } else {
                    text.parse::<u32>().unwrap_or_else(|_| {
                        found.push(Problem::new(
                            format!("released[{i}].quantity"),
                            keys::OUT_OF_RANGE,
                        ));
                        0
                    })
                };
                Released {
                    item: item.clone(),
                    quantity,
                }
            })
            .collect();
        // The same rule as the shared core: nothing beyond what remains after every check
        // this phone holds.
        found.extend(current.release_problems(&released));
        // A blank line for an extra item is no item.
        let held_items: Vec<Held> = held
            .get_untracked()
            .into_iter()
            .filter(|(what, quantity)| !(what.trim().is_empty() && quantity.trim().is_empty()))
            .enumerate()
            .map(|(i, (what, quantity))| Held {
                what: what.trim().to_owned(),
                quantity: quantity.trim().parse().unwrap_or_else(|_| {
                    found.push(Problem::new(
                        format!("held[{i}].quantity"),
                        keys::OUT_OF_RANGE,
                    ));
                    0
                }),
            })
            .collect();
        if !found.is_empty() {
            problems.set(found);
            return;
        }
        let total: u64 = released.iter().map(|l| u64::from(l.quantity)).sum();
        let all = released.iter().all(|l| {
            current
                .items
                .iter()
                .find(|i| i.id == l.item)
                .is_some_and(|i| current.remaining(i) == l.quantity)
        });
        let decision = if total == 0 {
            Decision::Refused
        } else if all && held_items.is_empty() {
            Decision::Released
        } else {
            Decision::PartlyReleased
        };
        let (Some(user), Some(identity)) = (
            ctx.session.get_untracked().map(|s| s.user),
            ctx.identity.get_value(),
        ) else {
            return;
        };
        let check = GateCheck {
            id: EntryId::from_random(random_id()).to_string(),
            author: user.id.clone(),
            corrects: None,
            guard_name: user.display_name.clone(),
            checked_at: now_ms(),
            check_date: today().map(|d| d.to_string()).unwrap_or_default(),
            carrier_name: carrier.get_untracked().trim().to_owned(),
            carrier_id: carrier_id.get_untracked().trim().to_owned(),
            plate: plate.get_untracked().trim().to_owned(),
            released,
            held: held_items,
            decision,
            reason: reason.get_untracked().trim().to_owned(),
        };
        // Everything the rules say about the check, and the missing signature, at once.
        let mut trial = current.clone();
        trial.checks.push(check.clone());
        let mut found: Vec<Problem> = ctx
            .with_writer(|writer| judge_kind(Some(&current), &trial, writer, id, now_ms()))
            .and_then(Result::err)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.key != keys::UNSIGNED)
            .collect();
        let drawn = stroke.get_untracked();
        if drawn.is_empty() {
            found.push(Problem::new("signature.stroke", keys::EMPTY_STROKE));
        }
        if !found.is_empty() {
            problems.set(found);
            return;
        }
        // The guard signs the check as recorded, with this phone's key, in the same edit.
        let content = current.check_content(&check);
        let signature_id = EntryId::from_random(random_id()).to_string();
        let stroke_bytes = drawn.encode();
        busy.set(true);
        spawn_local(async move {
            let unsigned = Unsigned {
                id: &signature_id,
                author: &user.id,
                purpose: Purpose::GateCheck,
                subject: &check.id,
                signer_role: SignerRole::Guard,
                signer_name: &user.display_name,
                stroke: &stroke_bytes,
                content_hash: content.hash(),
                signed_at: now_ms(),
                document: id,
                device_id: identity.device_id(),
            };
            let outcome = match take_signature(&identity, &unsigned).await {
                Ok(entry) => {
                    ctx.edit::<ReleaseSlip>(id, move |s| {
                        s.checks.push(check);
                        s.signatures.push(entry);
                    })
                    .await
                }
                Err(error) => Err(error),
            };
            busy.set(false);
            match outcome {
                Ok(()) => {
                    problems.set(Vec::new());
                    ctx.notify("slip.checked", false);
                    quantities.update(|q| q.iter_mut().for_each(String::clear));
                    held.set(Vec::new());
                    reason.set(String::new());
                    stroke.update(|s| s.lines.clear());
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="check-form">
            <h3>{t!(i18n, slip.check_title)}</h3>
            {items.into_iter().enumerate().map(|(i, (item, what))| {
                let for_label = item.clone();
                view! {
                    <label>{what}" ("{t!(i18n, slip.remaining)}" "{move || remaining(&for_label)}")"
                        <input inputmode="numeric" data-testid="release-qty" data-item=item
                            placeholder="0"
                            prop:disabled=move || !releasable()
                            prop:value=move || quantities.with(|q| q.get(i).cloned().unwrap_or_default())
                            on:input=move |ev| quantities.update(|q| if let Some(x) = q.get_mut(i) { *x = event_target_value(&ev) })/>
                    </label>
                }
            }).collect_view()}
            <For each=move || 0..held_count.get() key=|i| *i let:i>
                <div class="actions" data-testid="held-fields">
                    <label>{t!(i18n, slip.held_what)}
                        <input data-testid="held-what"
                            prop:value=move || held.with(|l| l.get(i).map(|x| x.0.clone()).unwrap_or_default())
                            on:input=move |ev| held.update(|l| if let Some(x) = l.get_mut(i) { x.0 = event_target_value(&ev) })/>
                    </label>
                    <label>{t!(i18n, field.quantity)}
                        <input inputmode="numeric" data-testid="held-quantity"
                            prop:value=move || held.with(|l| l.get(i).map(|x| x.1.clone()).unwrap_or_default())
                            on:input=move |ev| held.update(|l| if let Some(x) = l.get_mut(i) { x.1 = event_target_value(&ev) })/>
                    </label>
                </div>
            </For>
            <button class="secondary" data-testid="add-held" on:click=move |_| held.update(|l| l.push((String::new(), "1".to_owned())))>
                {t!(i18n, slip.add_held)}
            </button>
            <label>{t!(i18n, slip.carrier_name)}
                <input data-testid="carrier-name" prop:value=move || carrier.get() on:input=move |ev| carrier.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, slip.carrier_id)}
                <input data-testid="carrier-id-input" prop:value=move || carrier_id.get() on:input=move |ev| carrier_id.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, slip.plate)}
                <input data-testid="plate" prop:value=move || plate.get() on:input=move |ev| plate.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, slip.reason)}
                <input data-testid="check-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
            </label>
            <p class="muted">{t!(i18n, slip.guard_sign_below)}</p>
            <SignaturePad stroke=stroke full=full/>
            <Show when=move || full.get()>
                <p class="problems" data-testid="pad-full">{t!(i18n, signature.pad_full)}</p>
            </Show>
            <div class="actions">
                <button class="secondary" data-testid="clear-signature"
                    on:click=move |_| { stroke.update(|s| s.lines.clear()); full.set(false); }>
                    {t!(i18n, signature.clear)}
                </button>
            </div>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-check" on:click=save prop:disabled=move || busy.get()>{t!(i18n, slip.save_check)}</button>
        </section>
    }
}
