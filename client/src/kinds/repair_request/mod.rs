//! The work order (维修工单) in the app. Here, in the main module: its office list row,
//! status and set-aside lines. Its screens (the order itself, the office's form, the
//! technician's list, what became of a patrol finding) are loaded on first use.

mod form;
mod view;

use gatehouse_shared::record::repair_request::RepairRequest;
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;

pub(crate) use view::RequestList;

/// A work order's body under the common frame: what and where, where it came from, to
/// whom it went, who took it for which repair, and the actions of whoever may act on it.
#[lazy]
pub fn request_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <view::RequestBody id=id record=record/> }.into_any()
}

/// The office's form for a work order from an owner's call.
#[lazy]
pub fn new_request_screen() -> AnyView {
    view! { <form::NewRequestScreen/> }.into_any()
}

/// Under a patrol finding that needs follow-up, for office staff: the work orders raised
/// for it with their repair's progress, and the form that raises one.
#[lazy]
pub fn finding_follow_up(
    doc: DocumentId,
    finding: String,
    what: String,
    location: String,
    reporter: String,
) -> AnyView {
    view! {
        <view::FindingFollowUp doc=doc finding=finding what=what location=location reporter=reporter/>
    }
    .into_any()
}

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "pooled" => t_string!(i18n, request.status_pooled),
        "assigned" => t_string!(i18n, request.status_assigned),
        "taken" => t_string!(i18n, request.status_taken),
        _ => t_string!(i18n, request.status_cancelled),
    }
    .to_string()
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::RepairRequest {
        assignee_name,
        taken_by,
        ..
    } = detail
    else {
        return ().into_any();
    };
    let assignee = if assignee_name.is_empty() {
        t_string!(i18n, request.summary_pool).to_string()
    } else {
        assignee_name.clone()
    };
    match taken_by.clone() {
        Some(name) => view! { <span>{t!(i18n, request.summary_taken)}{name}</span> }.into_any(),
        None => view! { <span>{t!(i18n, request.assigned_to)}" "{assignee}</span> }.into_any(),
    }
}

/// What a refused version of a work order added that the order does not hold: a taking
/// or an assignment.
pub fn set_aside_lines(refused: &RepairRequest, current: Option<&RepairRequest>) -> Vec<String> {
    let kept = |id: &str| {
        current.is_some_and(|c| {
            c.takings.iter().any(|t| t.id == id) || c.assignments.iter().any(|a| a.id == id)
        })
    };
    let takings = refused
        .takings
        .iter()
        .filter(|t| !kept(&t.id))
        .map(|t| format!("{} → {}", t.technician_name, t.repair));
    let assignments = refused
        .assignments
        .iter()
        .filter(|a| !kept(&a.id))
        .map(|a| format!("→ {}", a.assignee_name));
    takings.chain(assignments).collect()
}
