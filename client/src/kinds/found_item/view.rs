//! A found item as everyone sees it: what and where, the counts (a desk count that differs
//! is shown as such), the chain of custody minute by minute, the owner searches and the
//! claims with the ID masked; then the step it is at, for the finder or the desk.

use gatehouse_shared::money::format_yuan as yuan;
use gatehouse_shared::record::found_item::{
    mask_id, ClaimOutcome, ContentKind, CountStage, CountedItem, FoundItem, FoundStatus,
    SearchChannel,
};
use gatehouse_shared::signature::SignerRole;
use gatehouse_shared::{AnyRecord, DocumentId, Role};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::{category_name, status_name};
use crate::ctx::Ctx;
use crate::i18n::*;
use crate::kinds::repair::pad::StrokeDrawing;
use crate::time::format_time;
use crate::widgets::remark_form;

pub(super) fn content_name(i18n: I18nContext<Locale>, content: ContentKind) -> String {
    match content {
        ContentKind::Cash => t_string!(i18n, found.content_cash),
        ContentKind::Card => t_string!(i18n, found.content_card),
        ContentKind::IdDocument => t_string!(i18n, found.content_id_document),
        ContentKind::Phone => t_string!(i18n, found.content_phone),
        ContentKind::Jewellery => t_string!(i18n, found.content_jewellery),
        ContentKind::Other => t_string!(i18n, found.content_other),
    }
    .to_string()
}

pub(super) fn channel_name(i18n: I18nContext<Locale>, channel: SearchChannel) -> String {
    match channel {
        SearchChannel::FloorCompanies => t_string!(i18n, found.channel_floor_companies),
        SearchChannel::ControlRoom => t_string!(i18n, found.channel_control_room),
        SearchChannel::Announcement => t_string!(i18n, found.channel_announcement),
        SearchChannel::Other => t_string!(i18n, found.channel_other),
    }
    .to_string()
}

pub(super) fn outcome_name(i18n: I18nContext<Locale>, outcome: ClaimOutcome) -> String {
    match outcome {
        ClaimOutcome::Full => t_string!(i18n, found.outcome_full),
        ClaimOutcome::Partial => t_string!(i18n, found.outcome_partial),
        ClaimOutcome::Disputed => t_string!(i18n, found.outcome_disputed),
    }
    .to_string()
}

pub(super) fn signer_name(i18n: I18nContext<Locale>, role: SignerRole) -> String {
    match role {
        SignerRole::Finder => t_string!(i18n, found.signer_finder),
        SignerRole::Witness => t_string!(i18n, found.signer_witness),
        SignerRole::Claimant => t_string!(i18n, found.signer_claimant),
        _ => t_string!(i18n, found.signer_receiver),
    }
    .to_string()
}

/// One counted line as the screens show it: 现金 ¥520.00, 银行卡 ×2.
pub(super) fn line_text(i18n: I18nContext<Locale>, item: &CountedItem) -> String {
    let amount = if item.content == ContentKind::Cash {
        format!(" {}", yuan(item.amount_fen))
    } else {
        String::new()
    };
    let kind = content_name(i18n, item.content);
    if item.what.trim() == kind {
        format!("{}×{}{amount}", item.what, item.quantity)
    } else {
        format!("{}（{kind}）×{}{amount}", item.what, item.quantity)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Steps {
    Finder,
    Desk,
    None,
}

#[component]
pub fn FoundBody(id: DocumentId, record: Memo<Option<AnyRecord>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let item = Memo::new(move |_| record.get().and_then(|r| r.as_found_item().cloned()));
    let role = move || ctx.session.get().map(|s| s.user.role);
    // Who takes the next step here; the forms are built again only when that changes (not on
    // every edit or sync, which would lose what is being typed).
    let steps = Memo::new(move |_| {
        let status = item.get().map(|i| i.status());
        let finder = item.get().is_some_and(|i| i.created_by == ctx.user_id());
        let editable = ctx.editable(id);
        match status {
            Some(FoundStatus::WithFinder) if finder && editable => Steps::Finder,
            Some(_) if role() == Some(Role::Office) && editable => Steps::Desk,
            _ => Steps::None,
        }
    });
    view! {
        {move || item.get().map(|i| view! { <Details item=i/> })}
        {move || match steps.get() {
            Steps::Finder => view! { <super::finder::FinderSteps id=id item=item/> }.into_any(),
            Steps::Desk => view! { <super::desk::DeskSteps id=id item=item/> }.into_any(),
            Steps::None => ().into_any(),
        }}
        <Show when=move || role() == Some(Role::Office)>
            {remark_form::<FoundItem>(id)}
        </Show>
    }
}

#[component]
fn Details(item: FoundItem) -> impl IntoView {
    let i18n = use_i18n();
    let place = [&item.building, &item.floor, &item.area, &item.spot]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let status = item.status();
    let chain = item.custody();
    let mismatches = item.mismatches();
    let counts: Vec<_> = {
        let mut counts = item.counts.clone();
        counts.sort_by(|a, b| a.counted_at.cmp(&b.counted_at).then(a.id.cmp(&b.id)));
        counts
    };
    let witnessed: Vec<bool> = counts.iter().map(|c| item.is_witnessed(c)).collect();
    let mut searches = item.searches.clone();
    searches.sort_by_key(|s| s.searched_at);
    let mut claims = item.claims.clone();
    claims.sort_by_key(|c| c.claimed_at);
    let signatures = item.signatures.clone();
    view! {
        <section class="card" data-testid="found-details" data-status=status.as_str()>
            <p><span class="pill" data-testid="found-status">{status_name(i18n, status.as_str())}</span>
                " "{category_name(i18n, item.category)}
                {item.is_valuable().then(|| view! { " · "<span class="pill">{t!(i18n, found.valuable)}</span> })}
            </p>
            <p><span class="muted">{t!(i18n, found.where_found)}{t!(i18n, app.colon)}</span><span data-testid="found-place">{place}</span></p>
            <p><span class="muted">{t!(i18n, found.found_at)}{t!(i18n, app.colon)}</span>{format_time(item.found_at)}
                " · "<span class="muted">{t!(i18n, found.finder)}{t!(i18n, app.colon)}</span>{item.finder_name.clone()}</p>
        </section>
        <section class="card" data-testid="custody">
            <h3>{t!(i18n, found.custody)}</h3>
            <ol class="custody">
                {chain.into_iter().map(|step| view! {
                    <li data-testid="custody-step" data-status=step.status.as_str() data-confirmed=step.confirmed.to_string()>
                        <strong>{format_time(step.at)}</strong>" "
                        {status_name(i18n, step.status.as_str())}
                        {(!step.holder_name.is_empty()).then(|| view! { " · "<span data-testid="custody-holder">{step.holder_name.clone()}</span> })}
                        {(!step.place.is_empty()).then(|| view! { " · "{step.place.clone()} })}
                        {(!step.confirmed).then(|| view! { " · "<span class="pill warn">{t!(i18n, found.unconfirmed)}</span> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
        {(!counts.is_empty()).then(|| view! {
            <section class="card" data-testid="found-counts">
                <h3>{t!(i18n, found.counts)}</h3>
                {counts.into_iter().zip(witnessed).map(|(count, witnessed)| view! {
                    <div class="count" data-testid="found-count" data-stage=count.stage.as_str()>
                        <p class="muted">
                            {if count.stage == CountStage::Registration { t_string!(i18n, found.count_registration) } else { t_string!(i18n, found.count_desk) }}
                            " · "{format_time(count.counted_at)}
                            {(!count.witness_name.is_empty()).then(|| view! { " · "{t!(i18n, found.witness)}" "{count.witness_name.clone()} })}
                            {(count.stage == CountStage::Registration).then(|| if witnessed {
                                view! { " · "<span class="pill ok" data-testid="count-witnessed">{t!(i18n, found.witnessed)}</span> }.into_any()
                            } else {
                                view! { " · "<span class="pill warn">{t!(i18n, found.not_witnessed)}</span> }.into_any()
                            })}
                        </p>
                        <ul>{count.items.iter().map(|line| view! { <li>{line_text(i18n, line)}</li> }).collect_view()}</ul>
                    </div>
                }).collect_view()}
                {(!mismatches.is_empty()).then(|| view! {
                    <div class="warning" data-testid="count-mismatch">
                        <strong>{t!(i18n, found.mismatch)}</strong>
                        <ul>{mismatches.into_iter().map(|m| view! {
                            <li>{line_text(i18n, &m.registered)}" → "{m.at_desk.as_ref().map_or_else(|| t_string!(i18n, found.missing_at_desk).to_string(), |d| line_text(i18n, d))}</li>
                        }).collect_view()}</ul>
                    </div>
                })}
            </section>
        })}
        {(!searches.is_empty()).then(|| view! {
            <section class="card" data-testid="found-searches">
                <h3>{t!(i18n, found.searches)}</h3>
                <ul>{searches.into_iter().map(|s| view! {
                    <li>{format_time(s.searched_at)}" "{channel_name(i18n, s.channel)}{(!s.note.is_empty()).then(|| format!(" · {}", s.note))}</li>
                }).collect_view()}</ul>
            </section>
        })}
        {(!claims.is_empty() || !item.descriptions.is_empty()).then(|| view! {
            <section class="card" data-testid="found-claims">
                <h3>{t!(i18n, found.claims)}</h3>
                <ul>{item.descriptions.iter().map(|d| view! {
                    <li data-testid="claimant-description">{format_time(d.described_at)}" "{d.claimant_name.clone()}{t!(i18n, app.colon)}{d.description.clone()}</li>
                }).collect_view()}</ul>
                <ul>{claims.into_iter().map(|c| view! {
                    <li data-testid="found-claim">
                        {format_time(c.claimed_at)}" "{c.claimant_name.clone()}" · "
                        <span data-testid="claim-id">{mask_id(&c.id_number)}</span>" · "
                        {outcome_name(i18n, c.outcome)}
                        {(!c.handed.is_empty()).then(|| format!(" · {}", c.handed.iter().map(|l| line_text(i18n, l)).collect::<Vec<_>>().join("、")))}
                        {(!c.note.is_empty()).then(|| format!(" · {}", c.note))}
                    </li>
                }).collect_view()}</ul>
            </section>
        })}
        {(!signatures.is_empty()).then(|| view! {
            <section class="card" data-testid="found-signatures">
                <h3>{t!(i18n, found.signatures)}</h3>
                {signatures.into_iter().map(|s| view! {
                    <div class="signature" data-testid="found-signature" data-role=s.signer_role.as_str()>
                        <p class="muted">{signer_name(i18n, s.signer_role)}" "{s.signer_name.clone()}" · "{format_time(s.signed_at)}</p>
                        <StrokeDrawing stroke=s.stroke.to_vec()/>
                    </div>
                }).collect_view()}
            </section>
        })}
    }
}
