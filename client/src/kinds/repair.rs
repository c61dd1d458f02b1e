//! The repair record's screens. This version shows a repair as the office sees it: the
//! report, temporary measures, every estimate revision (the one in force marked), the
//! signatures drawn with what each covers, the work and the fee outcome. The technician's
//! forms and the signature pad come next (see ARCHITECTURE.md).

use gatehouse_shared::record::repair::{Component, MeasureKind, Outcome, RepairRecord};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::signature::{Purpose, SignerRole, Stroke};
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;
use crate::time::format_time;

/// Fen as yuan with two decimals: 12345 → "¥123.45".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "reported" => t_string!(i18n, repair.status_reported),
        "explained" => t_string!(i18n, repair.status_explained),
        "consented" => t_string!(i18n, repair.status_consented),
        "in_progress" => t_string!(i18n, repair.status_in_progress),
        "accepted" => t_string!(i18n, repair.status_accepted),
        _ => t_string!(i18n, repair.status_closed),
    }
    .to_string()
}

pub fn component_name(i18n: I18nContext<Locale>, component: Component) -> String {
    match component {
        Component::DoorLock => t_string!(i18n, component.door_lock),
        Component::WaterPipe => t_string!(i18n, component.water_pipe),
        Component::Drain => t_string!(i18n, component.drain),
        Component::Circuit => t_string!(i18n, component.circuit),
        Component::Lighting => t_string!(i18n, component.lighting),
        Component::Appliance => t_string!(i18n, component.appliance),
        Component::Window => t_string!(i18n, component.window),
        Component::Other => t_string!(i18n, component.other),
    }
    .to_string()
}

fn measure_name(i18n: I18nContext<Locale>, measure: MeasureKind) -> String {
    match measure {
        MeasureKind::PowerCut => t_string!(i18n, measure.power_cut),
        MeasureKind::WaterShutOff => t_string!(i18n, measure.water_shut_off),
        MeasureKind::WarningSign => t_string!(i18n, measure.warning_sign),
        MeasureKind::WrittenNotice => t_string!(i18n, measure.written_notice),
        MeasureKind::Other => t_string!(i18n, measure.other),
    }
    .to_string()
}

fn outcome_name(i18n: I18nContext<Locale>, outcome: Outcome) -> String {
    match outcome {
        Outcome::Charged => t_string!(i18n, outcome.charged),
        Outcome::Waived => t_string!(i18n, outcome.waived),
        Outcome::Warranty => t_string!(i18n, outcome.warranty),
    }
    .to_string()
}

fn signer_role_name(i18n: I18nContext<Locale>, role: SignerRole) -> String {
    match role {
        SignerRole::Owner => t_string!(i18n, signer.owner),
        SignerRole::Tenant => t_string!(i18n, signer.tenant),
        SignerRole::OwnersAgent => t_string!(i18n, signer.owners_agent),
        SignerRole::Technician => t_string!(i18n, signer.technician),
    }
    .to_string()
}

fn purpose_name(i18n: I18nContext<Locale>, purpose: Purpose) -> String {
    match purpose {
        Purpose::RepairConsent => t_string!(i18n, signature.repair_consent),
        Purpose::RepairAcceptance => t_string!(i18n, signature.repair_acceptance),
    }
    .to_string()
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::Repair {
        component, fee_fen, ..
    } = *detail
    else {
        return ().into_any();
    };
    view! {
        <span>{component_name(i18n, component)}</span>
        {fee_fen.map(|fee| view! { <span data-testid="office-fee">{t!(i18n, repair.fee)}" "{yuan(fee)}</span> })}
    }
    .into_any()
}

/// What a refused version held that the record does not hold now.
pub fn set_aside_lines(refused: &RepairRecord, current: Option<&RepairRecord>) -> Vec<String> {
    let has = |id: &str| {
        current.is_some_and(|c| {
            c.estimates.iter().any(|e| e.id == id)
                || c.work.iter().any(|w| w.id == id)
                || c.signatures.iter().any(|s| s.id == id)
        })
    };
    let mut lines = Vec::new();
    if current.is_none() {
        lines.push(format!("{} {}", refused.unit, refused.fault));
    }
    for estimate in refused.estimates.iter().filter(|e| !has(&e.id)) {
        lines.push(format!(
            "{} · {}",
            estimate.method,
            yuan(estimate.fee_fen())
        ));
    }
    for line in refused.work.iter().filter(|w| !has(&w.id)) {
        lines.push(format!("{} {}", line.done, format_time(line.done_at)));
    }
    for signature in refused.signatures.iter().filter(|s| !has(&s.id)) {
        lines.push(format!(
            "{} {}",
            signature.signer_name,
            format_time(signature.signed_at)
        ));
    }
    lines
}

/// A drawn signature as an SVG polyline per stroke, scaled to the box.
fn drawing(stroke: &[u8]) -> AnyView {
    let Some(stroke) = Stroke::decode(stroke) else {
        return ().into_any();
    };
    let view_box = format!("0 0 {} {}", stroke.width.max(1), stroke.height.max(1));
    view! {
        <svg class="signature-drawing" data-testid="signature-drawing" viewBox=view_box
            preserveAspectRatio="xMidYMid meet" role="img">
            {stroke.lines.into_iter().map(|line| {
                let points = line.iter().map(|(x, y)| format!("{x},{y}")).collect::<Vec<_>>().join(" ");
                view! { <polyline points=points fill="none" stroke="#1c2321" stroke-width="3"
                    stroke-linecap="round" stroke-linejoin="round"/> }
            }).collect_view()}
        </svg>
    }
    .into_any()
}

/// A repair's body under the common frame.
#[component]
pub fn RepairBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let i18n = use_i18n();
    let _ = id;
    let repair = Memo::new(move |_| record.get().and_then(|r| r.as_repair().cloned()));
    view! {
        {move || repair.get().map(|r| {
            let current = r.current_estimate().map(|e| e.id.clone());
            let needs_consent = r.needs_consent();
            view! {
                <section class="card" data-testid="repair-report">
                    <p>{component_name(i18n, r.component)}{(!r.model.is_empty()).then(|| format!(" · {}", r.model))}</p>
                    <p class="muted">{t!(i18n, repair.reported_by)}" "{r.reported_by.clone()}" "{r.contact.clone()}</p>
                    <p class="pill" data-testid="repair-status">{status_name(i18n, r.status().as_str())}</p>
                    {needs_consent.then(|| view! { <p class="problems" data-testid="needs-consent">{t!(i18n, repair.needs_consent)}</p> })}
                </section>
                <h3>{t!(i18n, repair.measures)}</h3>
                <ul class="list" data-testid="measure-list">
                    {r.measures.iter().map(|m| view! {
                        <li class="entry" data-testid="measure-item">
                            <strong>{measure_name(i18n, m.measure)}</strong>" "{m.note.clone()}
                            <div class="muted">{format_time(m.taken_at)}</div>
                        </li>
                    }).collect_view()}
                </ul>
                <h3>{t!(i18n, repair.estimates)}</h3>
                <ul class="list" data-testid="estimate-list">
                    {r.estimates.iter().map(|e| {
                        let in_force = current.as_deref() == Some(e.id.as_str());
                        view! {
                            <li class=if in_force { "entry" } else { "entry corrected" } data-testid="estimate-item"
                                data-current=in_force.to_string()>
                                <div><strong>{t!(i18n, repair.cause)}</strong>" "{e.cause.clone()}</div>
                                <div><strong>{t!(i18n, repair.method)}</strong>" "{e.method.clone()}</div>
                                <ul>{e.parts.iter().map(|p| view! {
                                    <li>{p.name.clone()}" × "{p.quantity}" · "{yuan(p.unit_price_fen)}</li>
                                }).collect_view()}</ul>
                                <div>{t!(i18n, repair.labour)}" "{yuan(e.labour_fen)}" · "
                                    <strong data-testid="estimate-fee">{t!(i18n, repair.fee)}" "{yuan(e.fee_fen())}</strong></div>
                                <div class="muted">{format_time(e.written_at)}</div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <h3>{t!(i18n, repair.signatures)}</h3>
                <ul class="list" data-testid="signature-list">
                    {r.signatures.iter().map(|s| view! {
                        <li class="entry" data-testid="signature-item" data-purpose=s.purpose.as_str()>
                            <strong>{purpose_name(i18n, s.purpose)}</strong>" · "
                            {signer_role_name(i18n, s.signer_role)}" "{s.signer_name.clone()}
                            {drawing(&s.stroke)}
                            <div class="muted">{format_time(s.signed_at)}" · "{s.device_id.clone()}</div>
                        </li>
                    }).collect_view()}
                </ul>
                <h3>{t!(i18n, repair.work)}</h3>
                <ul class="list" data-testid="work-list">
                    {r.work.iter().map(|w| view! {
                        <li class="entry" data-testid="work-item">
                            {w.done.clone()}" · "{w.minutes}" "{t!(i18n, repair.minutes)}
                            <div class="muted">{format_time(w.done_at)}</div>
                        </li>
                    }).collect_view()}
                </ul>
                {r.outcome().map(|o| view! {
                    <section class="card" data-testid="repair-outcome">
                        <strong>{outcome_name(i18n, o.outcome)}</strong>" "{o.reason.clone()}
                    </section>
                })}
            }
        })}
    }
}
