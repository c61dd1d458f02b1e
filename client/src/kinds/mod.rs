//! The client's one match on the record kind: which screens, list rows and set-aside lines
//! each kind has. Adding a kind adds a module here and an arm to each function.

pub mod found_item;
pub mod patrol_log;
pub mod patrol_route;
pub mod registry;
pub mod release_slip;
pub mod repair;
pub mod repair_request;

use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId, RecordKind};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;
use crate::widgets::lazy_view;

/// The kind's name as staff call it.
pub fn kind_name(i18n: I18nContext<Locale>, kind: RecordKind) -> String {
    match kind {
        RecordKind::PatrolLog => t_string!(i18n, kind.patrol_log).to_string(),
        RecordKind::Repair => t_string!(i18n, kind.repair).to_string(),
        RecordKind::Registry => t_string!(i18n, kind.registry).to_string(),
        RecordKind::ReleaseSlip => t_string!(i18n, kind.release_slip).to_string(),
        RecordKind::RepairRequest => t_string!(i18n, kind.repair_request).to_string(),
        RecordKind::PatrolRoute => t_string!(i18n, kind.patrol_route).to_string(),
        RecordKind::FoundItem => t_string!(i18n, kind.found_item).to_string(),
    }
}

/// Where a record stands (its derived status key), in the user's language.
pub fn status_name(i18n: I18nContext<Locale>, kind: RecordKind, status: &str) -> String {
    match kind {
        RecordKind::PatrolLog => patrol_log::status_name(i18n, status),
        RecordKind::Repair => repair::status_name(i18n, status),
        RecordKind::Registry => registry::status_name(i18n, status),
        RecordKind::ReleaseSlip => release_slip::status_name(i18n, status),
        RecordKind::RepairRequest => repair_request::status_name(i18n, status),
        RecordKind::PatrolRoute => patrol_route::status_name(i18n, status),
        RecordKind::FoundItem => found_item::status_name(i18n, status),
    }
}

/// The per-kind columns of an office list row.
pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    match detail {
        SummaryDetail::PatrolLog { .. } => patrol_log::summary_detail(i18n, detail),
        SummaryDetail::Repair { .. } => repair::summary_detail(i18n, detail),
        SummaryDetail::Registry { .. } => registry::summary_detail(i18n, detail),
        SummaryDetail::ReleaseSlip { .. } => release_slip::summary_detail(i18n, detail),
        SummaryDetail::RepairRequest { .. } => repair_request::summary_detail(i18n, detail),
        SummaryDetail::PatrolRoute { .. } => patrol_route::summary_detail(i18n, detail),
        SummaryDetail::FoundItem { .. } => found_item::summary_detail(i18n, detail),
    }
}

/// The body of a record's screen, below the frame every kind shares. Built once per kind, so
/// a sync that changes the record does not rebuild the forms and lose what is being typed.
pub fn record_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    let kind = Memo::new(move |_| record.get().map(|r| r.kind()));
    (move || match kind.get() {
        Some(RecordKind::PatrolLog) => lazy_view(patrol_log::patrol_record(id, record)),
        Some(RecordKind::Repair) => lazy_view(repair::repair_body(id, record)),
        // A registry document is read with the estate's others, on the registry screen.
        Some(RecordKind::Registry) => lazy_view(registry::registry_screen()),
        Some(RecordKind::ReleaseSlip) => lazy_view(release_slip::slip_body(id, record)),
        Some(RecordKind::RepairRequest) => lazy_view(repair_request::request_body(id, record)),
        Some(RecordKind::PatrolRoute) => lazy_view(patrol_route::route_body(id, record)),
        Some(RecordKind::FoundItem) => lazy_view(found_item::found_body(id, record)),
        None => ().into_any(),
    })
    .into_any()
}

/// What a refused version held that the record does not hold now, one line per entry.
pub fn set_aside_lines(refused: &AnyRecord, current: Option<&AnyRecord>) -> Vec<String> {
    match refused {
        AnyRecord::PatrolLog(refused) => {
            patrol_log::set_aside_lines(refused, current.and_then(AnyRecord::as_patrol_log))
        }
        AnyRecord::Repair(refused) => {
            repair::set_aside_lines(refused, current.and_then(AnyRecord::as_repair))
        }
        AnyRecord::Registry(refused) => {
            registry::set_aside_lines(refused, current.and_then(AnyRecord::as_registry))
        }
        AnyRecord::ReleaseSlip(refused) => {
            release_slip::set_aside_lines(refused, current.and_then(AnyRecord::as_release_slip))
        }
        AnyRecord::RepairRequest(refused) => {
            repair_request::set_aside_lines(refused, current.and_then(AnyRecord::as_repair_request))
        }
        AnyRecord::PatrolRoute(refused) => {
            patrol_route::set_aside_lines(refused, current.and_then(AnyRecord::as_patrol_route))
        }
        AnyRecord::FoundItem(refused) => {
            found_item::set_aside_lines(refused, current.and_then(AnyRecord::as_found_item))
        }
    }
}
