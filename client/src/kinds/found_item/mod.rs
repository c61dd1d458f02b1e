//! The found item in the app. Here, in the main module: its row in the office list, its
//! status names and its lines in a set-aside refused version. The finder's screens, the
//! desk's steps, the office's list and the public notice are in the submodules, loaded on
//! first use (`#[lazy]`).

mod desk;
mod finder;
mod office;
mod sign;
mod view;

use gatehouse_shared::record::found_item::{Category, FoundItem};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::{AnyRecord, DocumentId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;
use crate::time::format_time;

/// The found-items screen: the finder's (register one, and theirs) or the office's list.
#[lazy]
pub fn found_items_screen() -> AnyView {
    view! { <office::FoundItemsScreen/> }.into_any()
}

/// The printable public notice (失物招领启事) of items unclaimed for the notice period.
#[lazy]
pub fn notice_screen() -> AnyView {
    view! { <office::NoticeBoard/> }.into_any()
}

/// A found item's body under the common frame: where and when it was found, the counts, the
/// chain of custody, the claims; and the step the item is at, for whoever takes it.
#[lazy]
pub fn found_body(id: DocumentId, record: Memo<Option<AnyRecord>>) -> AnyView {
    view! { <view::FoundBody id=id record=record/> }.into_any()
}

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "with_finder" => t_string!(i18n, found.status_with_finder),
        "handing_over" => t_string!(i18n, found.status_handing_over),
        "at_desk" => t_string!(i18n, found.status_at_desk),
        "in_storage" => t_string!(i18n, found.status_in_storage),
        "claimed" => t_string!(i18n, found.status_claimed),
        "with_police" => t_string!(i18n, found.status_with_police),
        _ => t_string!(i18n, found.status_disposed),
    }
    .to_string()
}

pub fn category_name(i18n: I18nContext<Locale>, category: Category) -> String {
    match category {
        Category::Bag => t_string!(i18n, found.category_bag),
        Category::Wallet => t_string!(i18n, found.category_wallet),
        Category::Phone => t_string!(i18n, found.category_phone),
        Category::Keys => t_string!(i18n, found.category_keys),
        Category::Documents => t_string!(i18n, found.category_documents),
        Category::Cash => t_string!(i18n, found.category_cash),
        Category::Other => t_string!(i18n, found.category_other),
    }
    .to_string()
}

pub fn summary_detail(i18n: I18nContext<Locale>, detail: &SummaryDetail) -> AnyView {
    let SummaryDetail::FoundItem {
        category,
        valuable,
        place,
        count_mismatch,
        ..
    } = detail
    else {
        return ().into_any();
    };
    view! {
        <span>{category_name(i18n, *category)}</span>
        {(!place.is_empty()).then(|| view! { <span>{place.clone()}</span> })}
        {valuable.then(|| view! { <span class="pill">{t!(i18n, found.valuable)}</span> })}
        {count_mismatch.then(|| view! { <span class="pill warn" data-testid="office-mismatch">{t!(i18n, found.mismatch)}</span> })}
    }
    .into_any()
}

/// What a refused version held that the record does not hold now.
pub fn set_aside_lines(refused: &FoundItem, current: Option<&FoundItem>) -> Vec<String> {
    let mut lines = Vec::new();
    if current.is_none() {
        lines.push(format!("{} {}", refused.description, refused.area));
    }
    let has = |id: &str| {
        current.is_some_and(|c| {
            c.counts.iter().any(|e| e.id == id)
                || c.moves.iter().any(|e| e.id == id)
                || c.confirmations.iter().any(|e| e.id == id)
                || c.claims.iter().any(|e| e.id == id)
                || c.signatures.iter().any(|e| e.id == id)
        })
    };
    for count in refused.counts.iter().filter(|c| !has(&c.id)) {
        let items: Vec<_> = count
            .items
            .iter()
            .map(|i| format!("{}×{}", i.what, i.quantity))
            .collect();
        lines.push(format!(
            "{} {}",
            items.join("、"),
            format_time(count.counted_at)
        ));
    }
    for movement in refused.moves.iter().filter(|m| !has(&m.id)) {
        lines.push(format!(
            "{} {}",
            movement.to.as_str(),
            format_time(movement.moved_at)
        ));
    }
    for claim in refused.claims.iter().filter(|c| !has(&c.id)) {
        lines.push(format!(
            "{} {}",
            claim.claimant_name,
            format_time(claim.claimed_at)
        ));
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
