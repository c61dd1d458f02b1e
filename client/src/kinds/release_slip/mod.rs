//! The release slip in the app. Here, in the main module: its office list row, status and
//! set-aside lines. The screens (the gate's list and check, the office's new slip and
//! phone approval) are loaded on first use.

mod register;
mod screens;
mod view;

use gatehouse_shared::record::release_slip::ReleaseSlip;
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;

/// The slips screen: for guards the gate (find a slip, check goods against it), for office
/// staff a new slip.
#[lazy]
pub fn slips_screen() -> AnyView {
    view! { <screens::SlipsScreen/> }.into_any()
}

/// The goods release register (物品放行登记表), for office staff.
#[lazy]
pub fn register_screen() -> AnyView {
    view! { <register::Register/> }.into_any()
}

/// A slip's body under the common frame: the slip, the registry entry of its unit, its
/// approvals and checks, and the form of whoever may add to it.
#[lazy]
pub fn slip_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <view::SlipBody id=id record=record/> }.into_any()
}

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "awaiting_approval" => t_string!(i18n, slip.status_awaiting_approval),
        "issued" => t_string!(i18n, slip.status_issued),
        "partly_released" => t_string!(i18n, slip.status_partly_released),
        "over_released" => t_string!(i18n, slip.status_over_released),
        _ => t_string!(i18n, slip.status_used_up),
    }
    .to_string()
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::ReleaseSlip {
        item_count,
        check_count,
        valid_until,
        ..
    } = detail
    else {
        return ().into_any();
    };
    let (items, checks) = (*item_count, *check_count);
    let until = valid_until.clone();
    view! {
        <span>{t!(i18n, slip.summary, items = move || items, checks = move || checks)}</span>
        <span class="muted">{t!(i18n, slip.valid_until)}" "{until}</span>
    }
    .into_any()
}

/// What a refused version of a slip added that the slip does not hold: its checks.
pub fn set_aside_lines(refused: &ReleaseSlip, current: Option<&ReleaseSlip>) -> Vec<String> {
    let kept: std::collections::HashSet<&str> = current
        .map(|c| c.checks.iter().map(|k| k.id.as_str()).collect())
        .unwrap_or_default();
    refused
        .checks
        .iter()
        .filter(|c| !kept.contains(c.id.as_str()))
        .map(|c| {
            let released: Vec<String> = c
                .released
                .iter()
                .filter(|l| l.quantity > 0)
                .map(|l| {
                    let what = refused
                        .items
                        .iter()
                        .find(|i| i.id == l.item)
                        .map_or(l.item.as_str(), |i| i.what.as_str());
                    format!("{what} ×{}", l.quantity)
                })
                .collect();
            format!(
                "{} {}: {}",
                c.check_date,
                c.carrier_name,
                released.join(", ")
            )
        })
        .collect()
}
