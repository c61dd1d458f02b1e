//! The repair record in the app. Here, in the main module: its row in the office list
//! (component, fee in force, status) and its lines in a set-aside refused version. The
//! technician's screens, the record view with its signatures and the signature pad are in
//! the submodules, loaded on first use (`#[lazy]`): guards never download them.

pub(crate) mod pad;
mod technician;
mod view;

use gatehouse_shared::money::format_yuan as yuan;
use gatehouse_shared::record::repair::{Component, RepairRecord};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;
use crate::time::format_time;

/// The technician's home: start a repair, and the repairs on this phone.
#[lazy]
pub fn technician_home() -> AnyView {
    view! { <technician::TechnicianHome/> }.into_any()
}

/// A repair's body under the common frame: details, estimates, measures, work, signatures
/// (drawn, and checked), the fee outcome, and the forms of the step the record is at.
#[lazy]
pub fn repair_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <view::RepairBody id=id record=record/> }.into_any()
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
