//! A repair record as everyone sees it: the details, every estimate revision (which one is in
//! force, which one the owner signed), safety measures, work, the signatures drawn with
//! whether they check out, the fee outcome and the office's remarks; and, for the technician
//! who started it while it is open, the step it is at (`technician::Steps`).

use std::collections::HashMap;

use gatehouse_shared::money::format_yuan as yuan;
use gatehouse_shared::record::repair::{Estimate, MeasureKind, Outcome, Part, RepairRecord};
use gatehouse_shared::signature::{self, Purpose, Signature, SignatureProblem, SignerRole};
use gatehouse_shared::{AnyRecord, DocumentId, Role};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::{component_name, pad::StrokeDrawing, status_name, technician::Steps};
use crate::api;
use crate::ctx::Ctx;
use crate::i18n::*;
use crate::identity;
use crate::text::problem_key_text;
use crate::time::format_time;
use crate::widgets::remark_form;

#[component]
pub fn RepairBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let repair = Memo::new(move |_| record.get().and_then(|r| r.as_repair().cloned()));
    let user_id = move || ctx.session.get().map(|s| s.user.id);
    let role = move || ctx.session.get().map(|s| s.user.role);
    let editable = move || ctx.editable(id);
    // The technician who started the repair adds to it while it is open.
    let technician_writes = Memo::new(move |_| {
        editable()
            && role() == Some(Role::Technician)
            && repair
                .get()
                .is_some_and(|r| r.closed_at.is_none() && Some(r.created_by) == user_id())
    });
    let keys = office_keys(ctx);
    view! {
        {move || repair.get().map(|r| view! { <Details repair=r/> })}
        <h3>{t!(i18n, repair.estimates)}</h3>
        <ul class="list" data-testid="estimate-list">
            {move || repair.get().map(|r| {
                let mut estimates = r.estimates.clone();
                estimates.sort_by(|a, b| a.written_at.cmp(&b.written_at).then(a.id.cmp(&b.id)));
                if estimates.is_empty() {
                    return view! { <li class="muted">{t!(i18n, repair.no_estimate)}</li> }.into_any();
                }
                estimates.iter().enumerate()
                    .map(|(n, e)| estimate_item(i18n, &r, e, n + 1))
                    .collect_view()
                    .into_any()
            })}
        </ul>
        {move || repair.get().filter(|r| !r.measures.is_empty()).map(|r| view! {
            <h3>{t!(i18n, repair.measures)}</h3>
            <ul class="list" data-testid="measure-list">
                {r.measures.iter().map(|m| view! {
                    <li class="entry" data-testid="measure-item">
                        <strong>{measure_name(i18n, m.measure)}</strong>" "{m.note.clone()}
                        <div class="muted">{format_time(m.taken_at)}</div>
                    </li>
                }).collect_view()}
            </ul>
        })}
        {move || repair.get().filter(|r| !r.work.is_empty()).map(|r| view! {
            <h3>{t!(i18n, repair.work)}</h3>
            <ul class="list" data-testid="work-list">
                {r.work.iter().map(|w| view! {
                    <li class="entry" data-testid="work-item">
                        <div>{w.done.clone()}</div>
                        {parts_lines(&w.parts_used)}
                        <div class="muted">{w.minutes}" "{t!(i18n, repair.minutes_unit)}" · "{format_time(w.done_at)}</div>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <h3>{t!(i18n, repair.signatures)}</h3>
        <ul class="list" data-testid="signature-list">
            {move || repair.get().map(|r| {
                if r.signatures.is_empty() {
                    return view! { <li class="muted">{t!(i18n, repair.no_signature)}</li> }.into_any();
                }
                r.signatures.iter()
                    .map(|s| view! { <SignatureItem id=id repair=r.clone() signature=s.clone() keys=keys/> })
                    .collect_view()
                    .into_any()
            })}
        </ul>
        {move || repair.get().and_then(|r| r.outcome().cloned()).map(|o| view! {
            <section class="card" data-testid="outcome">
                <strong data-testid="outcome-value">{outcome_name(i18n, o.outcome)}</strong>
                {(!o.reason.is_empty()).then(|| view! { <div>{o.reason.clone()}</div> })}
                <div class="muted">{format_time(o.decided_at)}</div>
            </section>
        })}
        {move || repair.get().filter(|r| !r.remarks.is_empty()).map(|r| view! {
            <h3>{t!(i18n, patrol.remarks)}</h3>
            <ul class="list" data-testid="remark-list">
                {r.remarks.iter().map(|m| view! {
                    <li class="entry" data-testid="remark-item">
                        {m.text.clone()}<div class="muted">{m.author_name.clone()}" "{format_time(m.written_at)}</div>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <Show when=move || technician_writes.get()>
            <Steps id=id repair=repair/>
        </Show>
        <Show when=move || editable() && role() == Some(Role::Office)>
            {remark_form::<RepairRecord>(id)}
        </Show>
    }
}

#[component]
fn Details(repair: RepairRecord) -> impl IntoView {
    let i18n = use_i18n();
    let status = repair.status();
    let component = if repair.model.is_empty() {
        component_name(i18n, repair.component)
    } else {
        format!(
            "{} · {}",
            component_name(i18n, repair.component),
            repair.model
        )
    };
    view! {
        <section class="card" data-testid="repair-details">
            <p>
                <span class="pill" data-testid="repair-status" data-status=status.as_str()>
                    {status_name(i18n, status.as_str())}
                </span>
            </p>
            <p><span class="muted">{t!(i18n, repair.fault)}{t!(i18n, app.colon)}</span>{repair.fault.clone()}</p>
            <p><span class="muted">{t!(i18n, repair.component)}{t!(i18n, app.colon)}</span>{component}</p>
            <p><span class="muted">{t!(i18n, repair.reported_by)}{t!(i18n, app.colon)}</span>{repair.reported_by.clone()}
                {(!repair.contact.is_empty()).then(|| view! { " · "<a href=format!("tel:{}", repair.contact)>{repair.contact.clone()}</a> })}
            </p>
            {repair.request.as_deref().and_then(|r| r.parse::<DocumentId>().ok()).map(|request| view! {
                <button class="link" data-testid="open-request" on:click=move |_| {
                    let ctx = expect_context::<Ctx>();
                    if ctx.session.get_untracked().is_some_and(|s| s.user.role.lists_records()) {
                        ctx.follow(request);
                    }
                    ctx.screen.set(crate::ctx::Screen::Record(request));
                }>
                    {t!(i18n, request.from_request)}
                </button>
            })}
        </section>
    }
}

fn estimate_item(
    i18n: I18nContext<Locale>,
    repair: &RepairRecord,
    estimate: &Estimate,
    revision: usize,
) -> impl IntoView {
    let current = repair
        .current_estimate()
        .is_some_and(|c| c.id == estimate.id);
    let consented = repair.consent_for(&estimate.id).is_some();
    let state = match (current, consented) {
        (true, true) => t_string!(i18n, repair.consented_current).to_string(),
        (true, false) => t_string!(i18n, repair.awaiting_consent).to_string(),
        (false, _) => t_string!(i18n, repair.superseded).to_string(),
    };
    view! {
        <li class=if current { "entry" } else { "entry corrected" } data-testid="estimate-item"
            data-current=current.to_string() data-consented=consented.to_string()>
            <strong>{t!(i18n, repair.revision)}" "{revision}</strong>" "
            <span class="pill">{state}</span>
            <div><span class="muted">{t!(i18n, repair.cause)}{t!(i18n, app.colon)}</span>{estimate.cause.clone()}</div>
            <div><span class="muted">{t!(i18n, repair.method)}{t!(i18n, app.colon)}</span>{estimate.method.clone()}</div>
            {parts_lines(&estimate.parts)}
            <div><span class="muted">{t!(i18n, repair.labour)}{t!(i18n, app.colon)}</span>{yuan(estimate.labour_fen)}</div>
            <div><strong>{t!(i18n, repair.fee)}": "<span data-testid="estimate-fee">{yuan(estimate.fee_fen())}</span></strong></div>
            <div class="muted">{format_time(estimate.written_at)}</div>
        </li>
    }
}

/// Parts as "name × quantity @ price = total", one line each.
pub fn parts_lines(parts: &[Part]) -> impl IntoView {
    parts
        .iter()
        .map(|p| {
            view! {
                <div class="part">{format!("{} × {} @ {} = {}", p.name, p.quantity, yuan(p.unit_price_fen), yuan(p.total_fen()))}</div>
            }
        })
        .collect_view()
}

pub fn measure_name(i18n: I18nContext<Locale>, measure: MeasureKind) -> String {
    match measure {
        MeasureKind::PowerCut => t_string!(i18n, measure.power_cut),
        MeasureKind::WaterShutOff => t_string!(i18n, measure.water_shut_off),
        MeasureKind::WarningSign => t_string!(i18n, measure.warning_sign),
        MeasureKind::WrittenNotice => t_string!(i18n, measure.written_notice),
        MeasureKind::Other => t_string!(i18n, measure.other),
    }
    .to_string()
}

pub fn outcome_name(i18n: I18nContext<Locale>, outcome: Outcome) -> String {
    match outcome {
        Outcome::Charged => t_string!(i18n, outcome.charged),
        Outcome::Waived => t_string!(i18n, outcome.waived),
        Outcome::Warranty => t_string!(i18n, outcome.warranty),
    }
    .to_string()
}

pub fn signer_role_name(i18n: I18nContext<Locale>, role: SignerRole) -> String {
    match role {
        SignerRole::Owner => t_string!(i18n, signer.owner),
        SignerRole::Tenant => t_string!(i18n, signer.tenant),
        SignerRole::OwnersAgent => t_string!(i18n, signer.owners_agent),
        SignerRole::Technician => t_string!(i18n, signer.technician),
        SignerRole::Guard => t_string!(i18n, signer.guard),
        SignerRole::Finder => t_string!(i18n, found.signer_finder),
        SignerRole::Witness => t_string!(i18n, found.signer_witness),
        SignerRole::Claimant => t_string!(i18n, found.signer_claimant),
        SignerRole::Receiver => t_string!(i18n, found.signer_receiver),
    }
    .to_string()
}

pub fn purpose_name(i18n: I18nContext<Locale>, purpose: Purpose) -> String {
    match purpose {
        Purpose::RepairConsent => t_string!(i18n, repair.consent),
        Purpose::RepairAcceptance => t_string!(i18n, repair.acceptance),
        Purpose::GateCheck => t_string!(i18n, signer.gate_check),
        Purpose::SlipApproval => t_string!(i18n, slip.in_person),
        Purpose::FoundItemCount => t_string!(i18n, found.counts),
        Purpose::FoundItemReceipt => t_string!(i18n, found.sign_receipt),
        Purpose::FoundItemDisposal => t_string!(i18n, found.sign_disposal),
    }
    .to_string()
}

/// The enrolled keys of the estate's devices, by device ID, for office staff (fetched once
/// per record screen; `None` until they arrive or when they cannot be had).
fn office_keys(ctx: Ctx) -> LocalResource<Option<HashMap<String, Vec<u8>>>> {
    LocalResource::new(move || async move {
        let session = ctx.session.get_untracked()?;
        if session.user.role != Role::Office {
            return None;
        }
        let keys = api::device_keys(&session.token).await.ok()?;
        Some(
            keys.into_iter()
                .filter_map(|k| Some((k.device_id, hex(&k.public_key_hex)?)))
                .collect(),
        )
    })
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What checking a signature found.
#[derive(Debug, Clone, PartialEq)]
enum Check {
    Verified,
    Problems(Vec<SignatureProblem>),
    /// The key of the device that took it is not on this phone (only the office gets the
    /// estate's keys, online).
    NoKey,
}

/// Checks a signature in the browser: the structural checks of `shared` (stroke, record,
/// content as it stands), then the Ed25519 signature with the enrolled key (WebCrypto).
async fn check(
    id: DocumentId,
    repair: &RepairRecord,
    entry: &Signature,
    key: Option<Vec<u8>>,
) -> Check {
    let Some(key) = key else {
        return Check::NoKey;
    };
    let mut problems = match repair.content_for(entry.purpose, &entry.subject) {
        Some(content) => {
            signature::verify(entry, id, &content, &key, signature::left_to_the_server)
        }
        None => vec![SignatureProblem::ContentMismatch],
    };
    if !identity::ed25519_verifies(&key, &entry.message(), &entry.signature).await {
        problems.push(SignatureProblem::BadSignature);
    }
    if problems.is_empty() {
        Check::Verified
    } else {
        Check::Problems(problems)
    }
}

#[component]
fn SignatureItem(
    id: DocumentId,
    repair: RepairRecord,
    signature: Signature,
    keys: LocalResource<Option<HashMap<String, Vec<u8>>>>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let subject_revision = {
        let mut estimates: Vec<_> = repair.estimates.iter().collect();
        estimates.sort_by(|a, b| a.written_at.cmp(&b.written_at).then(a.id.cmp(&b.id)));
        estimates
            .iter()
            .position(|e| e.id == signature.subject)
            .map(|n| n + 1)
    };
    let header = format!(
        "{} · {} {}",
        purpose_name(i18n, signature.purpose),
        signer_role_name(i18n, signature.signer_role),
        signature.signer_name
    );
    let checked = {
        let signature = signature.clone();
        LocalResource::new(move || {
            let (repair, signature) = (repair.clone(), signature.clone());
            // The phone's own signatures check with its own key; the office has every key.
            let own = ctx
                .session
                .get_untracked()
                .is_some_and(|s| s.device_id == signature.device_id);
            let office_keys = keys.get().flatten();
            async move {
                let key = if own {
                    Some(ctx.device_key.get_value())
                } else {
                    office_keys.and_then(|k| k.get(&signature.device_id).cloned())
                };
                check(id, &repair, &signature, key).await
            }
        })
    };
    let verdict = move || {
        checked.get().map(|result| match result {
            Check::Verified => view! {
                <span class="pill ok" data-testid="signature-check" data-verified="true">{t!(i18n, signature.verified)}</span>
            }
            .into_any(),
            Check::NoKey => view! {
                <span class="pill" data-testid="signature-check" data-verified="unknown">{t!(i18n, signature.no_key)}</span>
            }
            .into_any(),
            Check::Problems(problems) => {
                let why = problems
                    .iter()
                    .map(|p| problem_key_text(i18n, p.key()))
                    .collect::<Vec<_>>()
                    .join("；");
                view! {
                    <span class="pill bad" data-testid="signature-check" data-verified="false">
                        {t!(i18n, signature.not_verified)}": "{why}
                    </span>
                }
                .into_any()
            }
        })
    };
    view! {
        <li class="entry" data-testid="signature-item" data-purpose=signature.purpose.as_str()>
            <strong>{header}</strong>
            {subject_revision.map(|n| view! { <span class="muted">" · "{t!(i18n, repair.revision)}" "{n}</span> })}
            <StrokeDrawing stroke=signature.stroke.to_vec()/>
            <div class="muted">{format_time(signature.signed_at)}" · "{signature.device_id.clone()}</div>
            {verdict}
        </li>
    }
}
