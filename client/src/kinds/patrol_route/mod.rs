//! The patrol route's screens: the office defines routes, prints a QR code per checkpoint
//! and sees, per route and day, which rounds were done and which checkpoints were missed
//! (`office.rs`, loaded lazily); the guard's round scans the codes (`scan.rs`, loaded with
//! the round). Routes reach guards' phones through the follow set, so a round on one works
//! with no network.

use gatehouse_shared::record::patrol_route::format_time_of_day;
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId, PatrolRoute};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::ctx::Ctx;
use crate::i18n::*;

pub mod office;
pub mod scan;

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "retired" => t_string!(i18n, route.status_retired).to_string(),
        _ => t_string!(i18n, route.status_active).to_string(),
    }
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::PatrolRoute {
        checkpoint_count,
        due_times,
        max_minutes,
    } = detail.clone()
    else {
        return ().into_any();
    };
    view! {
        <span>{t!(i18n, route.checkpoint_count, count = checkpoint_count)}</span>
        <span>{due_times.join(" ")}</span>
        <span>{t!(i18n, route.limit, minutes = max_minutes)}</span>
    }
    .into_any()
}

/// The revisions of a refused route that the route does not hold now.
pub fn set_aside_lines(refused: &PatrolRoute, current: Option<&PatrolRoute>) -> Vec<String> {
    refused
        .revisions
        .iter()
        .filter(|r| current.is_none_or(|c| !c.revisions.iter().any(|k| k.id == r.id)))
        .map(|r| {
            let names: Vec<&str> = r.checkpoints.iter().map(|c| c.name.as_str()).collect();
            format!("{}: {}", r.name, names.join(", "))
        })
        .collect()
}

/// The routes on this phone (the estates' routes its user follows), by name; retired ones
/// only with `retired`.
pub fn routes(ctx: Ctx, retired: bool) -> Vec<(DocumentId, PatrolRoute)> {
    ctx.version.track();
    ctx.model.with_value(|m| {
        let mut found: Vec<_> = m
            .records
            .iter()
            .filter(|(_, r)| m.belongs(r) && !r.rejected)
            .filter_map(|(id, r)| {
                let route = r.shown()?.as_patrol_route()?.clone();
                (retired || !route.is_retired()).then_some((*id, route))
            })
            .collect();
        found.sort_by(|a, b| a.1.name().cmp(b.1.name()).then(a.0.cmp(&b.0)));
        found
    })
}

/// The next time of day (`HH:MM`) a round of `route` is due after `now` (the phone's time).
pub fn next_due(route: &PatrolRoute, now: i64) -> Option<String> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(now as f64));
    let minutes = date.get_hours() * 60 + date.get_minutes();
    let times: Vec<u32> = route
        .current()?
        .due_times
        .iter()
        .filter_map(|t| gatehouse_shared::record::patrol_route::parse_time_of_day(t))
        .collect();
    times
        .iter()
        .find(|t| **t >= minutes)
        .or_else(|| times.first())
        .map(|t| format_time_of_day(*t))
}

/// A route's screen (the office revises it, prints its codes) under the common frame.
#[lazy]
pub fn route_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <office::RouteBody id=id record=record/> }.into_any()
}

/// The office's routes: the list, a new route, and the day's report.
#[lazy]
pub fn routes_screen() -> AnyView {
    view! { <office::RoutesScreen/> }.into_any()
}

/// The camera scanner, loaded when a guard first scans (with the QR decoder).
#[lazy]
pub fn scanner(on_code: Callback<String>, on_close: Callback<()>) -> AnyView {
    view! { <scan::Scanner on_code=on_code on_close=on_close/> }.into_any()
}
