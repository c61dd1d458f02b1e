//! The found item (拾遗物品): from the moment a staff member finds it to the claimant's
//! signed receipt, or the notice board and disposal, with every move of custody on record.
//!
//! The story behind it: a cleaner kept a handbag in her utility room meaning to hand it in
//! later, and the owner accused her of theft. The record shows, minute by minute, where the
//! item was and who had it:
//! 1. the finder (any staff member on a phone) registers it where it was found: what it is,
//!    where, when; valuables are counted item by item with a witness, and the finder and the
//!    witness both sign over the count (on the finder's phone);
//! 2. the finder hands it to the service desk (a move naming the desk);
//! 3. a desk clerk confirms receipt on their own device with their own count; a count that
//!    differs from the finder's is recorded as a mismatch, never hidden;
//! 4. the desk records whom it asked (the floor's companies, the control room, an
//!    announcement) and may move the item to storage;
//! 5. a claimant describes the item before seeing it; the desk checks their ID and hands over
//!    what the record lists; the claimant signs a receipt over exactly that; or
//! 6. unclaimed after the estate's notice period ([`FoundItemPeriods`]) it is on the public notice (without anything that
//!    identifies its owner), and after the retention period the desk disposes of it or hands
//!    it to the police, the receiver signing.
//!
//! Every step is an entry; where the item is, and who holds it, is derived from the entries
//! ([`FoundItem::custody`]), never stored.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::remark::Remark;
use super::{RecordKind, SummaryDetail};
use crate::problem::Problem;
use crate::signature::{Purpose, Signature, SignerRole};

/// Longest short text (names, places, an item line), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Longest free text (a description, a note), in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most lines in one count.
pub const MAX_COUNT_LINES: usize = 50;
/// Largest cash amount on one line, in fen (¥1,000,000).
pub const MAX_FEN: i64 = 100_000_000;
/// How long an estate keeps unclaimed found items, as its admin sets it. The rules read the
/// record's estate's periods from what the judge knows ([`crate::record::Writer`]); the
/// defaults stand for an estate that set none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FoundItemPeriods {
    /// Days after it was found that an unclaimed item goes on the public notice.
    pub notice_days: u32,
    /// Days after the desk received it that an unclaimed item may be disposed of or handed
    /// to the police.
    pub retention_days: u32,
    /// The same for valuables (cash, cards, ID documents, phones, jewellery): usually longer,
    /// since their owners come back later and they go to the police rather than the bin.
    pub valuables_retention_days: u32,
}

/// The default days before the public notice.
pub const DEFAULT_NOTICE_DAYS: u32 = 3;
/// The default retention of an unclaimed item, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// The default retention of an unclaimed valuable, in days.
pub const DEFAULT_VALUABLES_RETENTION_DAYS: u32 = 180;
/// The days an estate may set before the notice.
pub const NOTICE_DAYS: std::ops::RangeInclusive<u32> = 1..=60;
/// The days an estate may set for either retention (two years at most).
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=730;

impl Default for FoundItemPeriods {
    fn default() -> Self {
        Self {
            notice_days: DEFAULT_NOTICE_DAYS,
            retention_days: DEFAULT_RETENTION_DAYS,
            valuables_retention_days: DEFAULT_VALUABLES_RETENTION_DAYS,
        }
    }
}

impl FoundItemPeriods {
    /// Whether an estate may set these: each in its range, and an item on the notice before
    /// it may be disposed of.
    pub fn is_valid(&self) -> bool {
        NOTICE_DAYS.contains(&self.notice_days)
            && RETENTION_DAYS.contains(&self.retention_days)
            && RETENTION_DAYS.contains(&self.valuables_retention_days)
            && self.notice_days <= self.retention_days.min(self.valuables_retention_days)
    }
}

const DAY_MS: i64 = 86_400_000;
/// How long after it was found an item may be registered (a week).
pub const MAX_REGISTER_DELAY_MS: i64 = 7 * DAY_MS;

/// What kind of thing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Bag,
    Wallet,
    Phone,
    Keys,
    Documents,
    Cash,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Bag,
        Category::Wallet,
        Category::Phone,
        Category::Keys,
        Category::Documents,
        Category::Cash,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bag => "bag",
            Category::Wallet => "wallet",
            Category::Phone => "phone",
            Category::Keys => "keys",
            Category::Documents => "documents",
            Category::Cash => "cash",
            Category::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether an item of this category is a valuable by itself.
    pub fn is_valuable(self) -> bool {
        matches!(
            self,
            Category::Wallet | Category::Phone | Category::Documents | Category::Cash
        )
    }
}

/// Where a found item stands, derived from its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundStatus {
    /// Registered; the finder has it.
    WithFinder,
    /// The finder handed it to the desk; no clerk has confirmed receipt yet.
    HandingOver,
    AtDesk,
    InStorage,
    Claimed,
    WithPolice,
    Disposed,
}

impl FoundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundStatus::WithFinder => "with_finder",
            FoundStatus::HandingOver => "handing_over",
            FoundStatus::AtDesk => "at_desk",
            FoundStatus::InStorage => "in_storage",
            FoundStatus::Claimed => "claimed",
            FoundStatus::WithPolice => "with_police",
            FoundStatus::Disposed => "disposed",
        }
    }

    /// Whether the estate still holds it, waiting for its owner.
    pub fn is_unclaimed(self) -> bool {
        matches!(self, FoundStatus::AtDesk | FoundStatus::InStorage)
    }
}

/// One found item.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FoundItem {
    /// Always `FoundItem`.
    pub kind: RecordKind,
    pub estate_id: String,
    /// The finder, who registered it.
    pub created_by: String,
    pub finder_name: String,
    /// What it is, as the public may read it (黑色皮质手提包): nothing that identifies its
    /// owner (no numbers of any length), which goes in the count.
    pub description: String,
    pub category: Category,
    /// Where it was found.
    pub building: String,
    pub floor: String,
    /// The room or area (15楼4号卫生间).
    pub area: String,
    /// The spot (门后挂钩).
    pub spot: String,
    /// Device time it was found.
    pub found_at: i64,
    /// Device time it was registered.
    pub started_at: i64,
    pub counts: Vec<Count>,
    pub signatures: Vec<Signature>,
    pub moves: Vec<CustodyMove>,
    pub confirmations: Vec<Confirmation>,
    pub searches: Vec<OwnerSearch>,
    pub descriptions: Vec<ClaimantDescription>,
    pub claims: Vec<Claim>,
    /// Remarks by the office.
    pub remarks: Vec<Remark>,
}

/// An ID number as shown after the check: only its last four characters.
pub fn mask_id(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    let keep = chars.len().min(4);
    let hidden = chars.len() - keep;
    let tail: String = chars[hidden..].iter().collect();
    format!("{}{tail}", "*".repeat(hidden.min(14)))
}

/// Whether a text the public may read holds something that looks like personal data: a run
/// of four or more digits (ID, card, phone numbers, amounts), or any digit next to a
/// currency sign or unit.
pub fn looks_personal(text: &str) -> bool {
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut run = 0;
    for (i, c) in chars.iter().enumerate() {
        if digit(*c) {
            run += 1;
            if run >= 4 {
                return true;
            }
            let near = |j: Option<usize>| {
                j.and_then(|j| chars.get(j))
                    .is_some_and(|n| matches!(n, '¥' | '￥' | '$' | '元' | '块'))
            };
            if near(i.checked_sub(1)) || near(Some(i + 1)) {
                return true;
            }
        } else if !matches!(c, ' ' | ',' | '.' | '-' | '/' | '，' | '。' | '－') {
            run = 0;
        }
    }
    false
}

impl FoundItem {
    /// Registers a found item. Fails with every problem in the input.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        estate_id: &str,
        created_by: &str,
        finder_name: &str,
        description: &str,
        category: Category,
        building: &str,
        floor: &str,
        area: &str,
        spot: &str,
        found_at: i64,
        started_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let record = Self {
            kind: RecordKind::FoundItem,
            estate_id: estate_id.trim().to_owned(),
            created_by: created_by.trim().to_owned(),
            finder_name: finder_name.trim().to_owned(),
            description: description.trim().to_owned(),
            category,
            building: building.trim().to_owned(),
            floor: floor.trim().to_owned(),
            area: area.trim().to_owned(),
            spot: spot.trim().to_owned(),
            found_at,
            started_at,
            counts: Vec::new(),
            signatures: Vec::new(),
            moves: Vec::new(),
            confirmations: Vec::new(),
            searches: Vec::new(),
            descriptions: Vec::new(),
            claims: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = super::Kind::validate(&record);
        if problems.is_empty() {
            Ok(record)
        } else {
            Err(problems)
        }
    }

    /// What the office lists of it.
    pub fn detail(&self) -> SummaryDetail {
        SummaryDetail::FoundItem {
            category: self.category,
            valuable: self.is_valuable(),
            place: self.notice_line("").place,
            found_at: self.found_at,
            count_mismatch: !self.mismatches().is_empty(),
            holder_name: self
                .custody()
                .last()
                .map(|s| s.holder_name.clone())
                .unwrap_or_default(),
        }
    }
}

mod content;
mod custody;
mod entries;
mod kind;
mod steps;

pub use custody::{CustodyStep, Mismatch, NoticeLine};
pub use entries::*;

#[cfg(test)]
mod tests;
