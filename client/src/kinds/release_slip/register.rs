//! The goods release register (物品放行登记表): every check at the gate of the estate's
//! slips, newest first, filtered by date and unit, exported as CSV for a spreadsheet, and
//! printed like the paper register. Slips load a page at a time; the screen says whether
//! older ones remain.

use gatehouse_shared::record::release_slip::{slip_number, RegisterLine};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{DocumentId, RecordKind, RecordSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::time::format_time;

use super::view::decision_name;

/// One row: the check and the slip it was made against.
#[derive(Clone, PartialEq)]
struct Row {
    doc: DocumentId,
    unit: String,
    applicant: String,
    line: RegisterLine,
}

fn rows_of(slips: &[RecordSummary]) -> Vec<Row> {
    let mut rows: Vec<Row> = slips
        .iter()
        .flat_map(|s| {
            let SummaryDetail::ReleaseSlip { register, .. } = &s.detail else {
                return Vec::new();
            };
            register
                .iter()
                .map(|line| Row {
                    doc: s.doc,
                    unit: s.unit.clone(),
                    applicant: s.title.clone(),
                    line: line.clone(),
                })
                .collect()
        })
        .collect();
    rows.sort_by(|a, b| {
        b.line
            .checked_at
            .cmp(&a.line.checked_at)
            .then(a.doc.cmp(&b.doc))
    });
    rows
}

/// A CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[component]
pub fn Register() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let slips = RwSignal::new(Vec::<RecordSummary>::new());
    let cursor = RwSignal::new(None::<(i64, DocumentId)>);
    let more = RwSignal::new(false);
    let loading = RwSignal::new(false);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let load = move || {
        let Some(session) = ctx.session.get_untracked() else {
            return;
        };
        loading.set(true);
        spawn_local(async move {
            match api::list_records_of(
                &session.token,
                Some(RecordKind::ReleaseSlip),
                cursor.get_untracked(),
            )
            .await
            {
                Ok(page) => {
                    more.set(page.len() >= api::OFFICE_PAGE);
                    if let Some(last) = page.last() {
                        cursor.set(Some((last.started_at, last.doc)));
                    }
                    slips.update(|s| s.extend(page));
                }
                Err(_) => ctx.notify("register.load_failed", true),
            }
            loading.set(false);
        });
    };
    load();
    let rows = Memo::new(move |_| {
        let (from, to, unit) = (from.get(), to.get(), unit.get());
        slips
            .with(|s| rows_of(s))
            .into_iter()
            .filter(|r| {
                // `YYYY-MM-DD HH:MM` in the browser's time zone compares as text.
                let day = format_time(r.line.checked_at);
                let day = &day[..10.min(day.len())];
                (from.is_empty() || day >= from.as_str())
                    && (to.is_empty() || day <= to.as_str())
                    && (unit.trim().is_empty() || r.unit.contains(unit.trim()))
            })
            .collect::<Vec<_>>()
    });
    let export = move |_| {
        let header = [
            t_string!(i18n, register.time),
            t_string!(i18n, register.unit),
            t_string!(i18n, register.slip),
            t_string!(i18n, register.applicant),
            t_string!(i18n, register.carrier),
            t_string!(i18n, register.carrier_id),
            t_string!(i18n, register.plate),
            t_string!(i18n, register.released),
            t_string!(i18n, register.held),
            t_string!(i18n, register.decision),
            t_string!(i18n, register.reason),
            t_string!(i18n, register.guard),
        ]
        .map(csv_field)
        .join(",");
        let mut text = String::from("\u{feff}");
        text.push_str(&header);
        text.push_str("\r\n");
        for r in rows.get_untracked() {
            let fields = [
                format_time(r.line.checked_at),
                r.unit.clone(),
                slip_number(r.doc),
                r.applicant.clone(),
                r.line.carrier_name.clone(),
                r.line.carrier_id.clone(),
                r.line.plate.clone(),
                r.line.released.clone(),
                r.line.held.clone(),
                decision_name(i18n, r.line.decision),
                r.line.reason.clone(),
                r.line.guard_name.clone(),
            ];
            text.push_str(
                &fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            text.push_str("\r\n");
        }
        let name = format!("goods-release-register-{}.csv", crate::time::now_ms());
        if crate::export::download_as(&name, "text/csv;charset=utf-8", &text).is_ok() {
            ctx.notify("register.exported", false);
        } else {
            ctx.notify("export.failed", true);
        }
    };
    let print = move |_| {
        let _ = window().print();
    };
    view! {
        <div class="no-print">
            <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
                {t!(i18n, record.back)}
            </button>
        </div>
        <h2>{t!(i18n, register.title)}</h2>
        <section class="card no-print">
            <div class="actions">
                <label>{t!(i18n, register.from)}
                    <input type="date" data-testid="register-from" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
                </label>
                <label>{t!(i18n, register.to)}
                    <input type="date" data-testid="register-to" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
                </label>
                <label>{t!(i18n, register.unit)}
                    <input data-testid="register-unit" prop:value=move || unit.get() on:input=move |ev| unit.set(event_target_value(&ev))/>
                </label>
            </div>
            <p class="muted" data-testid="register-count">
                {move || {
                    let count = rows.with(Vec::len);
                    let loaded = slips.with(Vec::len);
                    t!(i18n, register.count, count = move || count, slips = move || loaded)
                }}
                " "
                {move || if more.get() {
                    t_string!(i18n, register.more_slips).to_string()
                } else {
                    t_string!(i18n, register.all_loaded).to_string()
                }}
            </p>
            <Show when=move || more.get()>
                <button class="secondary" data-testid="register-more" prop:disabled=move || loading.get() on:click=move |_| load()>
                    {t!(i18n, register.load_more)}
                </button>
            </Show>
            <div class="actions">
                <button data-testid="register-export" on:click=export>{t!(i18n, register.export)}</button>
                <button class="secondary" data-testid="register-print" on:click=print>{t!(i18n, register.print)}</button>
            </div>
        </section>
        <div class="register-wrap">
            <table class="register" data-testid="register">
                <thead>
                    <tr>
                        <th>{t!(i18n, register.time)}</th>
                        <th>{t!(i18n, register.unit)}</th>
                        <th>{t!(i18n, register.slip)}</th>
                        <th>{t!(i18n, register.applicant)}</th>
                        <th>{t!(i18n, register.carrier)}</th>
                        <th>{t!(i18n, register.carrier_id)}</th>
                        <th>{t!(i18n, register.plate)}</th>
                        <th>{t!(i18n, register.released)}</th>
                        <th>{t!(i18n, register.held)}</th>
                        <th>{t!(i18n, register.decision)}</th>
                        <th>{t!(i18n, register.guard)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|r| view! {
                        <tr data-testid="register-row">
                            <td>{format_time(r.line.checked_at)}</td>
                            <td>{r.unit.clone()}</td>
                            <td>{slip_number(r.doc)}</td>
                            <td>{r.applicant.clone()}</td>
                            <td>{r.line.carrier_name.clone()}</td>
                            <td>{r.line.carrier_id.clone()}</td>
                            <td>{r.line.plate.clone()}</td>
                            <td>{r.line.released.clone()}</td>
                            <td>{r.line.held.clone()}</td>
                            <td>{decision_name(i18n, r.line.decision)}{(!r.line.reason.is_empty()).then(|| format!("（{}）", r.line.reason))}</td>
                            <td>{r.line.guard_name.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
