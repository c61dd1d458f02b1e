//! The found-items screen: for a finder (guard, cleaner, technician), registering one and
//! their own; for the office, every found item of their estates with its status, age and
//! place, filtered by status and date; and the public notice of unclaimed items.

use gatehouse_shared::record::found_item::NoticeLine;
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{DocumentId, RecordKind, RecordSummary, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{category_name, status_name};
use crate::api;
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::time::{format_time, now_ms};

const DAY_MS: i64 = 86_400_000;
const STATUSES: [&str; 7] = [
    "with_finder",
    "handing_over",
    "at_desk",
    "in_storage",
    "claimed",
    "with_police",
    "disposed",
];

#[component]
pub fn FoundItemsScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let office = move || {
        ctx.session
            .get()
            .is_some_and(|s| s.user.role == Role::Office)
    };
    // A cleaner's home is this screen: no way back to it.
    let home = move || ctx.screen.get() == Screen::Home;
    view! {
        <Show when=move || !home()>
            <div class="no-print">
                <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
                    "← "{t!(i18n, record.back)}
                </button>
            </div>
        </Show>
        {move || if office() {
            view! { <OfficeFoundList/> }.into_any()
        } else {
            view! { <super::finder::FinderHome/> }.into_any()
        }}
    }
}

/// Loads every page of the estate's found items (the list says how many).
fn load_all(ctx: Ctx, items: RwSignal<Vec<RecordSummary>>, loading: RwSignal<bool>) {
    let Some(session) = ctx.session.get_untracked() else {
        return;
    };
    loading.set(true);
    spawn_local(async move {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            match api::list_records_of(&session.token, Some(RecordKind::FoundItem), cursor).await {
                Ok(page) => {
                    let full = page.len() >= api::OFFICE_PAGE;
                    cursor = page.last().map(|r| (r.started_at, r.doc));
                    all.extend(page);
                    if !full {
                        break;
                    }
                }
                Err(_) => {
                    ctx.notify("office.load_failed", true);
                    break;
                }
            }
        }
        items.set(all);
        loading.set(false);
    });
}

fn found_at(summary: &RecordSummary) -> i64 {
    match &summary.detail {
        SummaryDetail::FoundItem { found_at, .. } => *found_at,
        _ => summary.started_at,
    }
}

#[component]
fn OfficeFoundList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let items = RwSignal::new(Vec::<RecordSummary>::new());
    let loading = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    load_all(ctx, items, loading);
    let shown = Memo::new(move |_| {
        let (status, from, to) = (status.get(), from.get(), to.get());
        items.with(|items| {
            items
                .iter()
                .filter(|r| {
                    let day = format_time(found_at(r));
                    let day = &day[..10.min(day.len())];
                    (status.is_empty() || r.status == status)
                        && (from.is_empty() || day >= from.as_str())
                        && (to.is_empty() || day <= to.as_str())
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let open = move |id: DocumentId| {
        ctx.follow(id);
        ctx.screen.set(Screen::Record(id));
    };
    view! {
        <h2>{t!(i18n, found.title)}</h2>
        <section class="card no-print">
            <div class="actions">
                <label>{t!(i18n, found.filter_status)}
                    <select data-testid="found-filter-status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, found.all)}</option>
                        {STATUSES.into_iter().map(|s| view! { <option value=s>{move || status_name(i18n, s)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, register.from)}
                    <input type="date" data-testid="found-from" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
                </label>
                <label>{t!(i18n, register.to)}
                    <input type="date" data-testid="found-to" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
                </label>
            </div>
            <div class="actions">
                <button class="secondary" data-testid="open-notice" on:click=move |_| ctx.screen.set(Screen::Notice)>{t!(i18n, found.notice_title)}</button>
                <button class="secondary" data-testid="found-reload" prop:disabled=move || loading.get() on:click=move |_| load_all(ctx, items, loading)>{t!(i18n, found.reload)}</button>
            </div>
        </section>
        <p class="muted" data-testid="found-count">
            {move || {
                let (count, all) = (shown.with(Vec::len), items.with(Vec::len));
                t!(i18n, found.count, count = move || count, all = move || all)
            }}
        </p>
        <div class="list" data-testid="office-found-list">
            {move || shown.get().into_iter().map(|r| {
                let id = r.doc;
                let age = (now_ms() - found_at(&r)).max(0) / DAY_MS;
                let (place, holder) = match &r.detail {
                    SummaryDetail::FoundItem { place, holder_name, .. } => (place.clone(), holder_name.clone()),
                    _ => (String::new(), String::new()),
                };
                view! {
                    <div class="row" role="button" tabindex="0" data-testid="office-found-item" data-doc=id.to_string()
                        on:click=move |_| open(id)
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            open(id);
                        }>
                        <div class="row-main">
                            <strong>{r.title.clone()}</strong>
                            <span>{place}" "{r.unit.clone()}</span>
                            <span class="muted">{format_time(found_at(&r))}" · "{t!(i18n, found.age_days, days = move || age)}</span>
                        </div>
                        <div class="row-meta">
                            <span class="pill" data-testid="found-row-status">{status_name(i18n, &r.status)}</span>
                            {(!holder.is_empty()).then(|| view! { <span>{t!(i18n, found.holder)}" "{holder.clone()}</span> })}
                            {crate::kinds::summary_detail(i18n, &r.detail)}
                        </div>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// The public notice of the user's estate: unclaimed items found as many days ago as the
/// estate sets or more, with what the public may read only (category, the item as described,
/// building and floor, the day, a reference), never the contents, IDs, amounts or names.
#[component]
pub fn NoticeBoard() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let items = RwSignal::new(Vec::<RecordSummary>::new());
    let loading = RwSignal::new(false);
    load_all(ctx, items, loading);
    // The estate the notice is posted in: the user's first.
    let estate_id = move || {
        ctx.session
            .get()
            .map(|s| s.user.estate_id)
            .unwrap_or_default()
    };
    let notice_days = move || ctx.found_item_periods(&estate_id()).notice_days;
    let lines = Memo::new(move |_| {
        let now = now_ms();
        let estate_id = estate_id();
        let after = i64::from(notice_days()) * DAY_MS;
        items.with(|items| {
            let mut lines: Vec<NoticeLine> = items
                .iter()
                .filter(|r| r.estate_id == estate_id)
                .filter(|r| matches!(r.status.as_str(), "at_desk" | "in_storage"))
                .filter(|r| now - found_at(r) >= after)
                .filter_map(|r| match &r.detail {
                    SummaryDetail::FoundItem {
                        category,
                        place,
                        found_at,
                        ..
                    } => Some(NoticeLine {
                        category: *category,
                        // The title is the public description (the rules keep numbers out).
                        description: if gatehouse_shared::record::found_item::looks_personal(
                            &r.title,
                        ) {
                            String::new()
                        } else {
                            r.title.clone()
                        },
                        place: place.clone(),
                        found_at: *found_at,
                        reference: r.doc.to_string()[..8].to_uppercase(),
                    }),
                    _ => None,
                })
                .collect();
            lines.sort_by_key(|l| l.found_at);
            lines
        })
    });
    let estate = move || {
        ctx.session
            .get()
            .map(|s| s.user.estate_name)
            .unwrap_or_default()
    };
    view! {
        <div class="no-print">
            <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::FoundItems)>
                "← "{t!(i18n, record.back)}
            </button>
            <button class="secondary" data-testid="print-notice" on:click=move |_| { let _ = window().print(); }>{t!(i18n, register.print)}</button>
        </div>
        <article class="card found-notice" data-testid="notice-board">
            <h2>{t!(i18n, found.notice_title)}</h2>
            <p>{estate}</p>
            <p>{t!(i18n, found.notice_intro, days = notice_days)}</p>
            <table class="register">
                <thead><tr>
                    <th>{t!(i18n, found.reference)}</th>
                    <th>{t!(i18n, found.category)}</th>
                    <th>{t!(i18n, found.description)}</th>
                    <th>{t!(i18n, found.where_found)}</th>
                    <th>{t!(i18n, found.found_on)}</th>
                </tr></thead>
                <tbody>
                    {move || lines.get().into_iter().map(|l| {
                        let day = format_time(l.found_at);
                        view! {
                            <tr data-testid="notice-line">
                                <td>{l.reference.clone()}</td>
                                <td>{category_name(i18n, l.category)}</td>
                                <td>{l.description.clone()}</td>
                                <td>{l.place.clone()}</td>
                                <td>{day[..10.min(day.len())].to_owned()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <p data-testid="notice-count" class="muted">{move || {
                let count = lines.with(Vec::len);
                t!(i18n, found.notice_count, count = move || count)
            }}</p>
            <p>{t!(i18n, found.notice_footer)}</p>
        </article>
    }
}
