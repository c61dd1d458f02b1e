//! A work order as everyone sees it, the technician's list of the orders for them, and what
//! became of a patrol finding (for office staff).

use gatehouse_shared::record::repair::RepairRecord;
use gatehouse_shared::record::repair_request::{Assignment, Cancellation, RepairRequest, Taking};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId, EntryId, Problem, RecordKind, RecordSummary, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{load_technicians, AssigneeSelect, Prefill, RequestForm};
use super::status_name;
use crate::api;
use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::kinds;
use crate::kinds::repair::component_name;
use crate::time::{format_time, now_ms};
use crate::widgets::{remark_form, Problems};

/// Opens a record: office staff fetch it first (their phone holds only what they opened).
fn open(ctx: Ctx, id: DocumentId) {
    if ctx
        .session
        .get_untracked()
        .is_some_and(|s| s.user.role.lists_records())
    {
        ctx.follow(id);
    }
    ctx.screen.set(Screen::Record(id));
}

#[component]
pub fn RequestBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let request = Memo::new(move |_| record.get().and_then(|r| r.as_repair_request().cloned()));
    let role = ctx.session.get_untracked().map(|s| s.user.role);
    let details = move || {
        request.get().map(|r| {
            let finding_doc = r.finding_doc.as_deref().and_then(|d| d.parse::<DocumentId>().ok());
            let status = r.status();
            view! {
                <section class="card" data-testid="request-details">
                    <p>
                        <span class="pill" data-testid="request-status">{status_name(i18n, status.as_str())}</span>
                    </p>
                    <p><strong data-testid="request-unit-shown">{r.unit.clone()}</strong>" · "{component_name(i18n, r.component)}</p>
                    <p data-testid="request-fault-shown">{r.fault.clone()}</p>
                    {(!r.reported_by.is_empty() || !r.contact.is_empty()).then(|| view! {
                        <p>{t!(i18n, request.reported_by)}" "{r.reported_by.clone()}
                            {(!r.contact.is_empty()).then(|| view! { " · "<a href=format!("tel:{}", r.contact)>{r.contact.clone()}</a> })}
                        </p>
                    })}
                    <p class="muted" data-testid="request-source">
                        {match finding_doc {
                            Some(_) => t!(i18n, request.source_finding).into_any(),
                            None => t!(i18n, request.source_call).into_any(),
                        }}
                        " · "{r.clerk_name.clone()}" "{format_time(r.created_at)}
                    </p>
                    {finding_doc.filter(|_| role == Some(Role::Office)).map(|doc| view! {
                        <button class="link" data-testid="open-finding" on:click=move |_| open(ctx, doc)>
                            {t!(i18n, request.open_finding)}
                        </button>
                    })}
                </section>
                <h3>{t!(i18n, request.assignments)}</h3>
                <ul class="list" data-testid="assignment-list">
                    {assignment_lines(&r).into_iter().map(|(name, at)| view! {
                        <li class="entry" data-testid="assignment-item">
                            {match name {
                                Some(name) => view! { {t!(i18n, request.assigned_to)}" "<strong>{name}</strong> }.into_any(),
                                None => view! { {t!(i18n, request.put_in_pool)} }.into_any(),
                            }}
                            <div class="muted">{format_time(at)}</div>
                        </li>
                    }).collect_view()}
                </ul>
                {r.taking().cloned().map(|t| {
                    let repair = t.repair.parse::<DocumentId>().ok();
                    view! {
                        <section class="card" data-testid="request-taking">
                            <p>{t!(i18n, request.taken_by)}" "<strong data-testid="taken-by">{t.technician_name.clone()}</strong>
                                " "<span class="muted">{format_time(t.taken_at)}</span></p>
                            {repair.map(|repair| view! {
                                <button class="secondary" data-testid="open-repair" on:click=move |_| open(ctx, repair)>
                                    {t!(i18n, request.open_repair)}
                                </button>
                            })}
                        </section>
                    }
                })}
                {r.cancellation().cloned().map(|c| view! {
                    <p class="card warning" data-testid="request-cancelled">
                        {t!(i18n, request.cancelled_because)}{c.reason.clone()}
                        " "<span class="muted">{format_time(c.cancelled_at)}</span>
                    </p>
                })}
            }
        })
    };
    view! {
        {details}
        {match role {
            Some(Role::Technician) => view! { <TakeAction id=id request=request/> }.into_any(),
            Some(Role::Office) => view! {
                <OfficeActions id=id request=request/>
                {remark_form::<RepairRequest>(id)}
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// The assignments in the order they were made: the assignee's name (`None`: the pool)
/// and when.
fn assignment_lines(request: &RepairRequest) -> Vec<(Option<String>, i64)> {
    let mut list: Vec<&Assignment> = request.assignments.iter().collect();
    list.sort_by(|a, b| a.assigned_at.cmp(&b.assigned_at).then(a.id.cmp(&b.id)));
    list.into_iter()
        .map(|a| {
            (
                (!a.assignee.is_empty()).then(|| a.assignee_name.clone()),
                a.assigned_at,
            )
        })
        .collect()
}

/// The repair record on this phone started from work order `id`, if any.
fn repair_for(ctx: Ctx, id: DocumentId) -> Option<DocumentId> {
    ctx.version.track();
    let wanted = id.to_string();
    ctx.model.with_value(|m| {
        m.mine_of::<RepairRecord>()
            .into_iter()
            .find(|(_, r)| r.request.as_deref() == Some(wanted.as_str()))
            .map(|(repair, _)| repair)
    })
}

/// The technician takes the order: a repair record starts with the order's unit, fault
/// and reporter, and the order names it. Offered while it is open and in the pool or for
/// them; once there is a repair for it on the phone, that repair opens instead.
#[component]
fn TakeAction(id: DocumentId, request: Memo<Option<RepairRequest>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let me = ctx.user_id();
    let saving = RwSignal::new(false);
    let mine = Memo::new(move |_| repair_for(ctx, id));
    let takeable = {
        let me = me.clone();
        move || ctx.editable(id) && request.get().is_some_and(|r| r.takeable_by(&me))
    };
    let taken_by_other = {
        let me = me.clone();
        move || {
            request
                .get()
                .and_then(|r| r.taking().map(|t| t.author != me))
                .unwrap_or(false)
        }
    };
    // A repair was started here for the order but the taking was not written (the phone
    // could not store it): it can be written again, naming that repair.
    let untaken = {
        let me = me.clone();
        move || {
            mine.get().is_some()
                && ctx.editable(id)
                && request.get().is_some_and(|r| r.takeable_by(&me))
        }
    };
    let problems = RwSignal::new(Vec::<Problem>::new());
    let complete = move |_| {
        let (Some(repair), Some(user)) = (
            mine.get_untracked(),
            ctx.session.get_untracked().map(|s| s.user),
        ) else {
            return;
        };
        let taking = Taking {
            id: EntryId::from_random(random_id()).to_string(),
            author: user.id.clone(),
            corrects: None,
            technician_name: user.display_name.clone(),
            repair: repair.to_string(),
            taken_at: now_ms(),
        };
        ctx.save_edit::<RepairRequest>(
            id,
            problems,
            "request.taken",
            move |r| r.takings.push(taking),
            || {},
        );
    };
    let take = move |_| {
        if saving.get_untracked() {
            return;
        }
        let (Some(r), Some(user)) = (
            request.get_untracked(),
            ctx.session.get_untracked().map(|s| s.user),
        ) else {
            return;
        };
        let started = RepairRecord::start(
            &r.estate_id,
            &user.id,
            &user.display_name,
            &r.unit,
            &r.reported_by,
            &r.contact,
            &r.fault,
            r.component,
            "",
            now_ms(),
        )
        .map(|mut repair| {
            repair.request = Some(id.to_string());
            repair
        });
        saving.set(true);
        spawn_local(async move {
            let repair = match started {
                Ok(repair) => ctx.start(repair).await,
                Err(found) => Err(EditError::Invalid(found)),
            };
            let Ok(repair) = repair else {
                saving.set(false);
                ctx.notify("error.not_saved", true);
                return;
            };
            let taking = Taking {
                id: EntryId::from_random(random_id()).to_string(),
                author: user.id.clone(),
                corrects: None,
                technician_name: user.display_name.clone(),
                repair: repair.to_string(),
                taken_at: now_ms(),
            };
            let taken = ctx
                .edit::<RepairRequest>(id, move |r| r.takings.push(taking))
                .await;
            saving.set(false);
            ctx.notify(
                if taken.is_ok() {
                    "request.taken"
                } else {
                    "request.take_failed"
                },
                taken.is_err(),
            );
            ctx.screen.set(Screen::Record(repair));
        });
    };
    view! {
        {move || match mine.get() {
            Some(repair) => view! {
                <button class="primary" data-testid="open-repair" on:click=move |_| ctx.screen.set(Screen::Record(repair))>
                    {t!(i18n, request.open_repair)}
                </button>
            }.into_any(),
            None => ().into_any(),
        }}
        <Show when=move || mine.get().is_none() && takeable()>
            <button class="primary" data-testid="take-request" on:click=take prop:disabled=move || saving.get()>
                {t!(i18n, request.take)}
            </button>
        </Show>
        <Show when=untaken>
            <button class="secondary" data-testid="complete-taking" on:click=complete>
                {t!(i18n, request.take)}
            </button>
        </Show>
        <Problems problems=problems/>
        <Show when=taken_by_other>
            <p class="muted" data-testid="taken-by-other">{t!(i18n, request.taken_by_other)}</p>
        </Show>
    }
}

/// The office reassigns or cancels an order nobody has taken yet.
#[component]
fn OfficeActions(id: DocumentId, request: Memo<Option<RepairRequest>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let open = move || ctx.editable(id) && request.get().is_some_and(|r| r.closed_at().is_none());
    let estate = request
        .get_untracked()
        .map(|r| r.estate_id)
        .unwrap_or_default();
    let failed = RwSignal::new(false);
    let staff = load_technicians(failed);
    let assignee = RwSignal::new((String::new(), String::new()));
    let reason = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let reassign = move |_| {
        let (to, name) = assignee.get_untracked();
        let me = ctx.user_id();
        ctx.save_edit::<RepairRequest>(
            id,
            problems,
            "request.reassigned",
            move |r| {
                r.assignments.push(Assignment::new(
                    EntryId::from_random(random_id()),
                    &me,
                    &to,
                    &name,
                    now_ms(),
                ))
            },
            || {},
        );
    };
    let cancel = move |_| {
        let text = reason.get_untracked().trim().to_owned();
        let me = ctx.user_id();
        ctx.save_edit::<RepairRequest>(
            id,
            problems,
            "request.cancelled",
            move |r| {
                r.cancellations.push(Cancellation {
                    id: EntryId::from_random(random_id()).to_string(),
                    author: me,
                    corrects: None,
                    reason: text,
                    cancelled_at: now_ms(),
                })
            },
            move || reason.set(String::new()),
        );
    };
    view! {
        <Show when=open>
            <section class="card" data-testid="request-office-actions">
                <AssigneeSelect estate=estate.clone() staff=staff failed=failed assignee=assignee/>
                <button class="secondary" data-testid="reassign" on:click=reassign>{t!(i18n, request.reassign)}</button>
                <label>{t!(i18n, request.cancel_reason)}
                    <input data-testid="cancel-reason" prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev))/>
                </label>
                <button class="secondary" data-testid="cancel-request" on:click=cancel>{t!(i18n, request.cancel)}</button>
                <Problems problems=problems/>
            </section>
        </Show>
    }
}

/// The technician's work orders: open ones for them or the pool first, then the rest.
#[component]
pub fn RequestList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let me = ctx.user_id();
    let requests = move || {
        ctx.version.track();
        let mut list = ctx.model.with_value(|m| m.mine_of::<RepairRequest>());
        // Stable: newest first within open and within the rest.
        list.sort_by_key(|(_, r)| r.closed_at().is_some());
        list
    };
    view! {
        <h2>{t!(i18n, request.mine)}</h2>
        <ul class="list" data-testid="request-list">
            {move || {
                let list = requests();
                if list.is_empty() {
                    return view! { <li class="muted">{t!(i18n, request.none)}</li> }.into_any();
                }
                let me = me.clone();
                list.into_iter().map(|(id, r)| {
                    let for_me = r.addressed_to() == Some(me.as_str());
                    view! {
                        <li class="row" data-testid="request-item" data-doc=id.to_string()
                            on:click=move |_| ctx.screen.set(Screen::Record(id))>
                            <div class="row-main">
                                <strong data-testid="request-item-unit">{r.unit.clone()}</strong>
                                <span>{r.fault.clone()}</span>
                                <span class="muted">{format_time(r.created_at)}</span>
                            </div>
                            <div class="row-meta">
                                <span class="pill" data-testid="request-item-status">{status_name(i18n, r.status().as_str())}</span>
                                <span>{if for_me { t_string!(i18n, request.for_me) } else { t_string!(i18n, request.for_pool) }}</span>
                            </div>
                        </li>
                    }
                }).collect_view().into_any()
            }}
        </ul>
    }
}

/// A work order raised for a finding, with its repair's summary once one was started.
#[derive(Debug, Clone)]
struct Raised {
    request: RecordSummary,
    repair: Option<RecordSummary>,
}

/// What came of one patrol finding: its work orders and their repairs' progress, read from
/// the server; and the form that raises one.
#[component]
pub fn FindingFollowUp(
    doc: DocumentId,
    finding: String,
    what: String,
    location: String,
    reporter: String,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let raised = RwSignal::new(None::<Result<Vec<Raised>, ()>>);
    let showing_form = RwSignal::new(false);
    let load = {
        let finding = finding.clone();
        move || {
            let Some(session) = ctx.session.get_untracked() else {
                return;
            };
            let finding = finding.clone();
            spawn_local(async move {
                raised.set(Some(load_raised(&session.token, doc, &finding).await));
            });
        }
    };
    load();
    let estate = ctx
        .model
        .with_value(|m| {
            m.records
                .get(&doc)
                .and_then(|r| r.record.as_ref().map(|r| r.header().estate_id.to_owned()))
        })
        .unwrap_or_default();
    let prefill = Prefill {
        unit: location,
        fault: what,
        reported_by: reporter,
    };
    // A new order is read back from the server once the server holds it.
    let pending = RwSignal::new(None::<DocumentId>);
    let reload = load.clone();
    Effect::new(move |_| {
        ctx.version.track();
        let Some(id) = pending.get() else {
            return;
        };
        // Stored, or refused (the record screen says why): either way the list is read
        // again and the note goes.
        let settled = ctx.model.with_value(|m| {
            m.records
                .get(&id)
                .is_some_and(|r| r.is_acked() || r.rejected)
        });
        if settled {
            pending.set(None);
            reload();
        }
    });
    let created = Callback::new(move |id: DocumentId| {
        showing_form.set(false);
        pending.set(Some(id));
    });
    view! {
        <div data-testid="finding-follow-up">
            <Show when=move || pending.get().is_some()>
                <p class="muted" data-testid="request-sending">{t!(i18n, request.sending)}</p>
            </Show>
            {move || match raised.get() {
                None => ().into_any(),
                Some(Err(())) => view! { <p class="muted">{t!(i18n, request.links_failed)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-request">{t!(i18n, request.no_request)}</p>
                }.into_any(),
                Some(Ok(list)) => list.into_iter().map(|r| {
                    let id = r.request.doc;
                    let assignee = match &r.request.detail {
                        SummaryDetail::RepairRequest { taken_by: Some(name), .. } => name.clone(),
                        SummaryDetail::RepairRequest { assignee_name, .. } if !assignee_name.is_empty() => assignee_name.clone(),
                        _ => t_string!(i18n, request.pool_short).to_string(),
                    };
                    let repair = match &r.repair {
                        Some(repair) => kinds::status_name(i18n, RecordKind::Repair, &repair.status),
                        None => t_string!(i18n, request.not_started).to_string(),
                    };
                    view! {
                        <p class="row" data-testid="raised-request" on:click=move |_| open(ctx, id)>
                            <span class="pill" data-testid="raised-status">{kinds::status_name(i18n, RecordKind::RepairRequest, &r.request.status)}</span>
                            " "{assignee}" · "{t!(i18n, request.repair_status)}
                            <span data-testid="raised-repair-status">{repair}</span>
                        </p>
                    }
                }).collect_view().into_any(),
            }}
            <Show when=move || !showing_form.get()>
                <button class="secondary" data-testid="raise-request" on:click=move |_| showing_form.set(true)>
                    {t!(i18n, request.from_finding)}
                </button>
            </Show>
            <Show when=move || showing_form.get()>
                <button class="link" data-testid="close-request-form" on:click=move |_| showing_form.set(false)>
                    {t!(i18n, request.close_form)}
                </button>
                <RequestForm estate=estate.clone() finding=Some((doc, finding.clone())) prefill=prefill.clone() on_created=created/>
            </Show>
        </div>
    }
}

/// The work orders that follow up `finding` of patrol log `doc`, each with its repair's
/// summary when a technician started one.
async fn load_raised(token: &str, doc: DocumentId, finding: &str) -> Result<Vec<Raised>, ()> {
    let linked = api::records_linking_to(token, doc).await.map_err(|_| ())?;
    let mut raised = Vec::new();
    for request in linked {
        let SummaryDetail::RepairRequest {
            finding: Some(of), ..
        } = &request.detail
        else {
            continue;
        };
        if of != finding {
            continue;
        }
        let repair = match &request.detail {
            SummaryDetail::RepairRequest {
                repair: Some(repair),
                ..
            } => api::records_linking_to(token, request.doc)
                .await
                .map_err(|_| ())?
                .into_iter()
                .find(|r| r.doc == *repair),
            _ => None,
        };
        raised.push(Raised { request, repair });
    }
    Ok(raised)
}
