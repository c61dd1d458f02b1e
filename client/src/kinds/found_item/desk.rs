//! The service desk's steps: confirm receipt with its own count, look for the owner, move the
//! item to storage, hand it to a claimant (their description first, then the ID check, then
//! their signature over what they take), or dispose of it after the retention period.

use gatehouse_shared::problem::keys;
use gatehouse_shared::record::found_item::{
    mask_id, Claim, ClaimOutcome, ClaimantDescription, Confirmation, Count, CountStage,
    CustodyMove, FoundItem, FoundStatus, Holder, IdType, OwnerSearch, SearchChannel,
};
use gatehouse_shared::signature::{Purpose, SignerRole};
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::category_name;
use super::finder::{counted, LineDraft, LinesEditor};
use super::sign::{sign_and_save, SignBox, Signing};
use super::view::{channel_name, line_text, outcome_name};
use crate::ctx::{random_id, Ctx};
use crate::i18n::*;
use crate::time::{format_time, now_ms};
use crate::widgets::Problems;

fn new_id() -> String {
    EntryId::from_random(random_id()).to_string()
}

fn id_type_name(i18n: I18nContext<Locale>, id_type: IdType) -> String {
    match id_type {
        IdType::ResidentCard => t_string!(i18n, found.id_resident_card),
        IdType::Passport => t_string!(i18n, found.id_passport),
        IdType::TravelPermit => t_string!(i18n, found.id_travel_permit),
        IdType::DrivingLicence => t_string!(i18n, found.id_driving_licence),
        IdType::Other => t_string!(i18n, found.id_other),
    }
    .to_string()
}

#[component]
pub fn DeskSteps(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let status = Memo::new(move |_| item.get().map(|i| i.status()));
    move || match status.get() {
        Some(FoundStatus::HandingOver) => view! { <ConfirmReceipt id=id item=item/> }.into_any(),
        Some(FoundStatus::AtDesk | FoundStatus::InStorage) => view! {
            <ClaimFlow id=id item=item/>
            <SearchForm id=id/>
            <StorageForm id=id item=item/>
            <DisposalForm id=id item=item/>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

/// The desk takes the item from the finder: its own count (the finder's lines to check,
/// changed where the desk counts otherwise) and the clerk's name, in one step.
#[component]
fn ConfirmReceipt(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let lines = RwSignal::new(
        item.get_untracked()
            .and_then(|i| {
                i.latest_count(CountStage::Registration)
                    .map(|c| c.items.iter().map(LineDraft::of).collect::<Vec<_>>())
            })
            .unwrap_or_default(),
    );
    let holder = RwSignal::new(
        ctx.session
            .get_untracked()
            .map(|s| s.user.display_name)
            .unwrap_or_default(),
    );
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let confirm = move |_| {
        let Some(record) = item.get_untracked() else {
            return;
        };
        let items = match counted(&lines.get_untracked(), "items") {
            Ok(items) => items,
            Err(found) => return problems.set(found),
        };
        let Some(handover) = record.handover().map(|m| m.id.clone()) else {
            return;
        };
        let now = now_ms();
        let count = Count {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            stage: CountStage::Desk,
            items,
            witness_name: String::new(),
            counted_at: now,
        };
        let confirmation = Confirmation {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            move_id: handover,
            count: count.id.clone(),
            holder_name: holder.get_untracked().trim().to_owned(),
            confirmed_at: now,
        };
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.received",
            move |r| {
                r.counts.push(count);
                r.confirmations.push(confirmation);
            },
            || {},
        );
    };
    view! {
        <section class="card" data-testid="confirm-receipt">
            <h3>{t!(i18n, found.confirm_receipt)}</h3>
            <p class="muted">{t!(i18n, found.recount_explain)}</p>
            <LinesEditor lines=lines/>
            <label>{t!(i18n, found.received_by)}
                <input data-testid="receiver-name" prop:value=move || holder.get() on:input=move |ev| holder.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="confirm-receipt-button" prop:disabled=move || busy.get() on:click=confirm>
                {t!(i18n, found.confirm_receipt)}
            </button>
        </section>
    }
}

#[component]
fn SearchForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let channel = RwSignal::new(SearchChannel::FloorCompanies);
    let note = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let save = move |_| {
        let search = OwnerSearch {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            channel: channel.get_untracked(),
            note: note.get_untracked().trim().to_owned(),
            searched_at: now_ms(),
        };
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.saved",
            move |r| r.searches.push(search),
            move || note.set(String::new()),
        );
    };
    view! {
        <section class="card" data-testid="search-form">
            <h3>{t!(i18n, found.search_title)}</h3>
            <label>{t!(i18n, found.channel)}
                <select data-testid="search-channel" prop:value=move || channel.get().as_str()
                    on:change=move |ev| channel.set(SearchChannel::ALL.into_iter().find(|c| c.as_str() == event_target_value(&ev)).unwrap_or(SearchChannel::Other))>
                    {SearchChannel::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{move || channel_name(i18n, c)}</option> }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, found.search_note)}
                <input data-testid="search-note" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button class="secondary" data-testid="save-search" prop:disabled=move || busy.get() on:click=save>{t!(i18n, found.save_search)}</button>
        </section>
    }
}

#[component]
fn StorageForm(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let place = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let in_storage = move || {
        item.get()
            .is_some_and(|i| i.status() == FoundStatus::InStorage)
    };
    let save = move |_| {
        let to = if in_storage() {
            Holder::Desk
        } else {
            Holder::Storage
        };
        let moved = CustodyMove {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            to,
            holder_name: ctx
                .session
                .get_untracked()
                .map(|s| s.user.display_name)
                .unwrap_or_default(),
            place: place.get_untracked().trim().to_owned(),
            note: String::new(),
            moved_at: now_ms(),
        };
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.saved",
            move |r| r.moves.push(moved),
            move || place.set(String::new()),
        );
    };
    view! {
        <section class="card" data-testid="storage-form">
            <label>{t!(i18n, found.place)}
                <input data-testid="storage-place" prop:value=move || place.get()
                    placeholder=move || t_string!(i18n, found.place_hint).to_string()
                    on:input=move |ev| place.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button class="secondary" data-testid="move-storage" prop:disabled=move || busy.get() on:click=save>
                {move || if in_storage() { t_string!(i18n, found.back_to_desk) } else { t_string!(i18n, found.to_storage) }}
            </button>
        </section>
    }
}

/// A claim: the claimant's description first (before they see it), then the ID check and
/// what is handed over, then their signature; a disputed claim is recorded without one.
#[component]
fn ClaimFlow(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let claimant = RwSignal::new(String::new());
    let said = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    // The description this claim rests on: the latest one no claim names yet (recorded here,
    // or before the screen was opened again).
    let description = RwSignal::new(item.get_untracked().and_then(|i| {
        i.descriptions
            .iter()
            .filter(|d| !i.claims.iter().any(|c| c.description == d.id))
            .max_by_key(|d| d.described_at)
            .cloned()
    }));
    let record_description = move |_| {
        let entry = ClaimantDescription {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            claimant_name: claimant.get_untracked().trim().to_owned(),
            description: said.get_untracked().trim().to_owned(),
            described_at: now_ms(),
        };
        let kept = entry.clone();
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.described",
            move |r| r.descriptions.push(entry),
            move || {
                description.set(Some(kept));
                said.set(String::new());
            },
        );
    };
    view! {
        <section class="card" data-testid="claim-flow">
            <h3>{t!(i18n, found.claim_title)}</h3>
            {move || match description.get() {
                None => view! {
                    <p class="muted">{t!(i18n, found.describe_first)}</p>
                    <label>{t!(i18n, found.claimant_name)}
                        <input data-testid="claimant-name" prop:value=move || claimant.get() on:input=move |ev| claimant.set(event_target_value(&ev))/>
                    </label>
                    <label>{t!(i18n, found.claimant_says)}
                        <textarea data-testid="claimant-description-input" prop:value=move || said.get()
                            on:input=move |ev| said.set(event_target_value(&ev))></textarea>
                    </label>
                    <Problems problems=problems/>
                    <button class="primary" data-testid="record-description" prop:disabled=move || busy.get() on:click=record_description>
                        {t!(i18n, found.record_description)}
                    </button>
                }.into_any(),
                Some(said) => view! { <ClaimForm id=id item=item description=said/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ClaimForm(
    id: DocumentId,
    item: Memo<Option<FoundItem>>,
    description: ClaimantDescription,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let id_type = RwSignal::new(IdType::ResidentCard);
    let id_number = RwSignal::new(String::new());
    let checked = RwSignal::new(false);
    let phone = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let outcome = RwSignal::new(ClaimOutcome::Full);
    // What the estate still holds (less what partial claims handed over).
    let listed = item
        .get_untracked()
        .map(|i| i.remaining_contents())
        .unwrap_or_default();
    // Which listed lines are handed over (all, unless the hand-over is partial).
    let handed = RwSignal::new(vec![true; listed.len()]);
    let listed = StoredValue::new(listed);
    let shown_description = format!(
        "{}{}{}",
        description.claimant_name,
        t_string!(i18n, app.colon),
        description.description
    );
    let description = StoredValue::new(description);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    // The claim waiting for the claimant's signature.
    let pending = RwSignal::new(None::<Claim>);
    let signer = RwSignal::new(description.with_value(|d| d.claimant_name.clone()));
    let build = move || -> Option<Claim> {
        let handed_lines: Vec<_> = match outcome.get_untracked() {
            ClaimOutcome::Disputed => Vec::new(),
            _ => listed.with_value(|listed| {
                listed
                    .iter()
                    .zip(handed.get_untracked())
                    .filter(|(_, h)| *h)
                    .map(|(l, _)| l.clone())
                    .collect()
            }),
        };
        let description = description.get_value();
        let claim = Claim {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            description: description.id.clone(),
            claimant_name: description.claimant_name.clone(),
            claimant_phone: phone.get_untracked().trim().to_owned(),
            id_type: id_type.get_untracked(),
            id_number: id_number.get_untracked().trim().to_owned(),
            id_checked: checked.get_untracked(),
            handed: handed_lines,
            outcome: outcome.get_untracked(),
            note: note.get_untracked().trim().to_owned(),
            claimed_at: now_ms(),
        };
        if !claim.id_checked || claim.id_number.chars().count() < 4 {
            problems.set(vec![Problem::new("id_number", keys::ID_NOT_CHECKED)]);
            return None;
        }
        Some(claim)
    };
    let next = move |_| {
        let Some(claim) = build() else {
            return;
        };
        if claim.outcome == ClaimOutcome::Disputed {
            ctx.save_edit_once::<FoundItem>(
                busy,
                id,
                problems,
                "found.saved",
                move |r| r.claims.push(claim),
                || {},
            );
        } else {
            problems.set(Vec::new());
            pending.set(Some(claim));
        }
    };
    let on_sign = Callback::new(move |(name, stroke): (String, Vec<u8>)| {
        let (Some(claim), Some(mut record)) = (pending.get_untracked(), item.get_untracked())
        else {
            return;
        };
        record.claims.push(claim.clone());
        let content = record.receipt_content(&claim);
        let signing = Signing {
            purpose: Purpose::FoundItemReceipt,
            subject: claim.id.clone(),
            role: SignerRole::Claimant,
            name,
            stroke,
            content_hash: content.hash(),
        };
        sign_and_save(
            ctx,
            id,
            signing,
            busy,
            problems,
            "found.claimed",
            move |r, entry| {
                r.claims.push(claim);
                r.signatures.push(entry);
            },
        );
    });
    let receipt_lines = move |claim: &Claim| -> Vec<String> {
        let mut lines = item
            .get_untracked()
            .map(|i| {
                vec![format!(
                    "{}（{}）",
                    i.description,
                    category_name(i18n, i.category)
                )]
            })
            .unwrap_or_default();
        lines.push(format!(
            "{}{}{}",
            t_string!(i18n, found.claimant_name),
            t_string!(i18n, app.colon),
            claim.claimant_name
        ));
        lines.push(format!(
            "{} {}",
            id_type_name(i18n, claim.id_type),
            mask_id(&claim.id_number)
        ));
        lines.extend(claim.handed.iter().map(|l| line_text(i18n, l)));
        lines.push(outcome_name(i18n, claim.outcome));
        if !claim.note.is_empty() {
            lines.push(claim.note.clone());
        }
        lines
    };
    view! {
        <p data-testid="described">{shown_description}</p>
        {move || match pending.get() {
            None => view! {
                <label>{t!(i18n, found.id_type)}
                    <select data-testid="id-type" prop:value=move || id_type.get().as_str()
                        on:change=move |ev| id_type.set(IdType::ALL.into_iter().find(|t| t.as_str() == event_target_value(&ev)).unwrap_or(IdType::Other))>
                        {IdType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{move || id_type_name(i18n, t)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, found.id_number)}
                    <input data-testid="id-number" autocomplete="off" prop:value=move || id_number.get() on:input=move |ev| id_number.set(event_target_value(&ev))/>
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="id-checked" prop:checked=move || checked.get() on:change=move |ev| checked.set(event_target_checked(&ev))/>
                    {t!(i18n, found.id_checked)}
                </label>
                <label>{t!(i18n, found.claimant_phone)}
                    <input type="tel" data-testid="claimant-phone" prop:value=move || phone.get() on:input=move |ev| phone.set(event_target_value(&ev))/>
                </label>
                <fieldset class="choices">
                    <legend>{t!(i18n, found.outcome)}</legend>
                    {ClaimOutcome::ALL.into_iter().map(|o| view! {
                        <button class=move || if outcome.get() == o { "choice selected" } else { "choice" }
                            data-testid=format!("outcome-{}", o.as_str()) aria-pressed=move || (outcome.get() == o).to_string()
                            on:click=move |_| outcome.set(o)>{move || outcome_name(i18n, o)}</button>
                    }).collect_view()}
                </fieldset>
                <Show when=move || outcome.get() == ClaimOutcome::Partial>
                    <div data-testid="handed-lines">
                        {listed.get_value().into_iter().enumerate().map(|(i, line)| {
                            let text = line_text(i18n, &line);
                            view! {
                                <label class="check">
                                    <input type="checkbox" prop:checked=move || handed.with(|h| h.get(i).copied().unwrap_or(false))
                                        on:change=move |ev| { let on = event_target_checked(&ev); handed.update(|h| if let Some(x) = h.get_mut(i) { *x = on }) }/>
                                    {text}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </Show>
                <label>{t!(i18n, found.claim_note)}
                    <input data-testid="claim-note" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
                </label>
                <Problems problems=problems/>
                <button class="primary" data-testid="claim-next" prop:disabled=move || busy.get() on:click=next>
                    {move || if outcome.get() == ClaimOutcome::Disputed { t_string!(i18n, found.record_dispute) } else { t_string!(i18n, found.to_receipt) }}
                </button>
            }.into_any(),
            Some(claim) => view! {
                <SignBox heading=t_string!(i18n, found.sign_receipt).to_string() lines=receipt_lines(&claim)
                    name=signer busy=busy problems=problems testid="sign-receipt" on_sign=on_sign/>
                <button class="link" data-testid="claim-back" on:click=move |_| pending.set(None)>{t!(i18n, record.back)}</button>
            }.into_any(),
        }}
    }
}

/// After the retention period: disposed of, or handed to the police; the receiver signs.
#[component]
fn DisposalForm(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let from = move || {
        item.get()
            .and_then(|i| i.disposable_from(&ctx.found_item_periods(&i.estate_id)))
            .unwrap_or(i64::MAX)
    };
    let due = move || now_ms() >= from();
    let to = RwSignal::new(Holder::Police);
    let receiver = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(None::<CustodyMove>);
    let next = move |_| {
        if receiver.get_untracked().trim().is_empty() {
            return problems.set(vec![Problem::new("holder_name", keys::REQUIRED)]);
        }
        pending.set(Some(CustodyMove {
            id: new_id(),
            author: ctx.user_id(),
            corrects: None,
            to: to.get_untracked(),
            holder_name: receiver.get_untracked().trim().to_owned(),
            place: place.get_untracked().trim().to_owned(),
            note: String::new(),
            moved_at: now_ms(),
        }));
    };
    let on_sign = Callback::new(move |(name, stroke): (String, Vec<u8>)| {
        let (Some(moved), Some(mut record)) = (pending.get_untracked(), item.get_untracked())
        else {
            return;
        };
        record.moves.push(moved.clone());
        let content = record.disposal_content(&moved);
        let signing = Signing {
            purpose: Purpose::FoundItemDisposal,
            subject: moved.id.clone(),
            role: SignerRole::Receiver,
            name,
            stroke,
            content_hash: content.hash(),
        };
        sign_and_save(
            ctx,
            id,
            signing,
            busy,
            problems,
            "found.saved",
            move |r, entry| {
                r.moves.push(moved);
                r.signatures.push(entry);
            },
        );
    });
    view! {
        <section class="card" data-testid="disposal-form">
            <h3>{t!(i18n, found.dispose_title)}</h3>
            <p class="muted" data-testid="disposable-from">{t!(i18n, found.disposable_from)}" "{move || format_time(from())}</p>
            <Show when=due>
                {move || match pending.get() {
                    None => view! {
                        <fieldset class="choices">
                            {[Holder::Police, Holder::Disposed].into_iter().map(|h| view! {
                                <button class=move || if to.get() == h { "choice selected" } else { "choice" }
                                    aria-pressed=move || (to.get() == h).to_string() on:click=move |_| to.set(h)>
                                    {move || if h == Holder::Police { t_string!(i18n, found.to_police) } else { t_string!(i18n, found.to_disposal) }}
                                </button>
                            }).collect_view()}
                        </fieldset>
                        <label>{t!(i18n, found.receiver)}
                            <input data-testid="disposal-receiver" prop:value=move || receiver.get() on:input=move |ev| receiver.set(event_target_value(&ev))/>
                        </label>
                        <label>{t!(i18n, found.place)}
                            <input prop:value=move || place.get() on:input=move |ev| place.set(event_target_value(&ev))/>
                        </label>
                        <Problems problems=problems/>
                        <button class="secondary" data-testid="disposal-next" on:click=next>{t!(i18n, found.to_receipt)}</button>
                    }.into_any(),
                    Some(moved) => {
                        let lines = vec![
                            if moved.to == Holder::Police { t_string!(i18n, found.to_police).to_string() } else { t_string!(i18n, found.to_disposal).to_string() },
                            moved.holder_name.clone(),
                        ];
                        let name = RwSignal::new(moved.holder_name.clone());
                        view! {
                            <SignBox heading=t_string!(i18n, found.sign_disposal).to_string() lines=lines
                                name=name busy=busy problems=problems testid="sign-disposal" on_sign=on_sign/>
                        }.into_any()
                    }
                }}
            </Show>
        </section>
    }
}
