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
//! 6. unclaimed after [`NOTICE_DAYS`] it is on the public notice (without anything that
//!    identifies its owner), and after the retention period the desk disposes of it or hands
//!    it to the police, the receiver signing.
//!
//! Every step is an entry; where the item is, and who holds it, is derived from the entries
//! ([`FoundItem::custody`]), never stored.

use autosurgeon::{Hydrate, Reconcile};
use ciborium::Value;
use serde::{Deserialize, Serialize};

use super::entry::impl_entry;
use super::remark::Remark;
use super::{RecordKind, SummaryDetail};
use crate::problem::Problem;
use crate::signature::{Purpose, Signature, SignedContent, SignerRole};

/// Longest short text (names, places, an item line), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Longest free text (a description, a note), in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most lines in one count.
pub const MAX_COUNT_LINES: usize = 50;
/// Largest cash amount on one line, in fen (¥1,000,000).
pub const MAX_FEN: i64 = 100_000_000;
/// Days after it was found that an unclaimed item goes on the public notice.
pub const NOTICE_DAYS: u32 = 3;
/// Days an unclaimed item is kept before it may be disposed of or handed to the police.
pub const RETENTION_DAYS: u32 = 90;
/// The same for valuables (cash, cards, ID documents, phones, jewellery): kept longer, since
/// their owners come back later and they are handed to the police rather than disposed of.
pub const VALUABLES_RETENTION_DAYS: u32 = 180;

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

/// What one counted line is; all but `Other` make the item a valuable.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Cash,
    /// A bank or membership card.
    Card,
    /// An ID card, passport, driving licence.
    IdDocument,
    Phone,
    Jewellery,
    Other,
}

impl ContentKind {
    pub const ALL: [ContentKind; 6] = [
        ContentKind::Cash,
        ContentKind::Card,
        ContentKind::IdDocument,
        ContentKind::Phone,
        ContentKind::Jewellery,
        ContentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Cash => "cash",
            ContentKind::Card => "card",
            ContentKind::IdDocument => "id_document",
            ContentKind::Phone => "phone",
            ContentKind::Jewellery => "jewellery",
            ContentKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// One line of a count: what, how many, and for cash the amount.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Reconcile, Hydrate)]
pub struct CountedItem {
    /// As the counter wrote it (身份证, 银行卡, 现金).
    pub what: String,
    pub content: ContentKind,
    pub quantity: u32,
    /// Cash only: the amount, in fen; 0 for anything else.
    pub amount_fen: i64,
}

impl CountedItem {
    /// Whether two lines count the same thing (what and kind), whatever the quantities.
    pub fn same_thing(&self, other: &CountedItem) -> bool {
        self.content == other.content && self.what.trim() == other.what.trim()
    }
}

/// Who counted: the finder at registration (with a witness), or the desk at receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountStage {
    Registration,
    Desk,
}

impl CountStage {
    pub fn as_str(self) -> &'static str {
        match self {
            CountStage::Registration => "registration",
            CountStage::Desk => "desk",
        }
    }
}

/// A count of the contents. Never changed: a recount is a new count.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Count {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub stage: CountStage,
    pub items: Vec<CountedItem>,
    /// The second staff member who watched the count (registration); empty at the desk.
    pub witness_name: String,
    pub counted_at: i64,
}

/// Where a move takes the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// The service desk: the finder's hand-over, confirmed by the clerk who receives it; or
    /// back from storage.
    Desk,
    /// The estate's storage (a locker, the safe), by a clerk.
    Storage,
    /// Handed to the police after the retention period; the receiving officer signs.
    Police,
    /// Disposed of after the retention period (donated, destroyed); whoever receives it signs.
    Disposed,
}

impl Holder {
    pub const ALL: [Holder; 4] = [
        Holder::Desk,
        Holder::Storage,
        Holder::Police,
        Holder::Disposed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Holder::Desk => "desk",
            Holder::Storage => "storage",
            Holder::Police => "police",
            Holder::Disposed => "disposed",
        }
    }

    /// Whether the item leaves the estate's hands for good with this move.
    pub fn is_final(self) -> bool {
        matches!(self, Holder::Police | Holder::Disposed)
    }
}

/// A move of custody. Written by whoever hands the item on (the finder to the desk) or, within
/// the office, by the clerk who then holds it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CustodyMove {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub to: Holder,
    /// Who holds it after the move, as they wrote their name: the clerk (storage), the
    /// receiving officer (police), whoever received it (disposal); empty for the hand-over to
    /// the desk, whose receiving clerk confirms.
    pub holder_name: String,
    /// Where exactly (储物柜 3, 派出所名称).
    pub place: String,
    pub note: String,
    pub moved_at: i64,
}

/// The desk's confirmation that it received the item from the finder, with its own count.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Confirmation {
    #[key]
    pub id: String,
    /// The clerk who received it, who holds it from now on.
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// The hand-over (a move to the desk) confirmed.
    pub move_id: String,
    /// The desk's count (a count of stage `desk` by the same clerk).
    pub count: String,
    pub holder_name: String,
    pub confirmed_at: i64,
}

/// How the desk looked for the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchChannel {
    /// The companies (or households) on the floor where it was found.
    FloorCompanies,
    ControlRoom,
    Announcement,
    Other,
}

impl SearchChannel {
    pub const ALL: [SearchChannel; 4] = [
        SearchChannel::FloorCompanies,
        SearchChannel::ControlRoom,
        SearchChannel::Announcement,
        SearchChannel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchChannel::FloorCompanies => "floor_companies",
            SearchChannel::ControlRoom => "control_room",
            SearchChannel::Announcement => "announcement",
            SearchChannel::Other => "other",
        }
    }
}

/// Whom the desk asked, and when.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OwnerSearch {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub channel: SearchChannel,
    /// Whom exactly, and what they said.
    pub note: String,
    pub searched_at: i64,
}

/// What a claimant said the item was and held, recorded before they see it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ClaimantDescription {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub claimant_name: String,
    pub description: String,
    pub described_at: i64,
}

/// The ID document a claimant showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证.
    ResidentCard,
    Passport,
    /// 港澳台通行证 and similar.
    TravelPermit,
    DrivingLicence,
    Other,
}

impl IdType {
    pub const ALL: [IdType; 5] = [
        IdType::ResidentCard,
        IdType::Passport,
        IdType::TravelPermit,
        IdType::DrivingLicence,
        IdType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentCard => "resident_card",
            IdType::Passport => "passport",
            IdType::TravelPermit => "travel_permit",
            IdType::DrivingLicence => "driving_licence",
            IdType::Other => "other",
        }
    }
}

/// How a claim ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// Everything the record lists was handed over.
    Full,
    /// Part of it was handed over (what, in `handed`); the rest stays.
    Partial,
    /// Nothing was handed over: the claimant disputes the contents, or their description
    /// did not match. The item stays.
    Disputed,
}

impl ClaimOutcome {
    pub const ALL: [ClaimOutcome; 3] = [
        ClaimOutcome::Full,
        ClaimOutcome::Partial,
        ClaimOutcome::Disputed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimOutcome::Full => "full",
            ClaimOutcome::Partial => "partial",
            ClaimOutcome::Disputed => "disputed",
        }
    }

    /// Whether the item (or part of it) left with the claimant.
    pub fn hands_over(self) -> bool {
        self != ClaimOutcome::Disputed
    }

    /// Whether the claim ends the estate's custody: everything left was handed over.
    pub fn is_final(self) -> bool {
        self == ClaimOutcome::Full
    }
}

/// A claim at the desk: who, the ID checked, what was handed over. A claim that hands
/// something over is signed by the claimant (a receipt) in the same change.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Claim {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// The claimant's description (an entry of `descriptions`), given before they saw it.
    pub description: String,
    pub claimant_name: String,
    pub claimant_phone: String,
    pub id_type: IdType,
    /// The ID number as the clerk typed it: personal data, shown masked ([`mask_id`]).
    pub id_number: String,
    /// The clerk checked the document against the person.
    pub id_checked: bool,
    /// What was handed over.
    pub handed: Vec<CountedItem>,
    pub outcome: ClaimOutcome,
    pub note: String,
    pub claimed_at: i64,
}

impl_entry!(authored: Count, CustodyMove, Confirmation, OwnerSearch, ClaimantDescription, Claim);

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

/// One step of the chain of custody, for the office's screen and a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyStep {
    /// Device time of the step.
    pub at: i64,
    pub status: FoundStatus,
    /// Who holds the item after it, as written.
    pub holder_name: String,
    /// The user who wrote the step.
    pub written_by: String,
    /// Where, if said.
    pub place: String,
    /// For a hand-over still waiting for its confirmation: false.
    pub confirmed: bool,
}

/// A line the finder counted that the desk counted differently (or not at all: quantity 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub registered: CountedItem,
    /// The desk's line for the same thing; `None`: the desk listed something the finder did
    /// not count.
    pub at_desk: Option<CountedItem>,
}

/// What the public notice (失物招领启事) shows of an item: nothing that identifies its owner
/// (never the contents, ID or card numbers, cash amounts, or anyone's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub category: Category,
    pub description: String,
    /// Building and floor only.
    pub place: String,
    /// The day it was found (ms since the Unix epoch; shown as a date).
    pub found_at: i64,
    /// A short reference the owner quotes at the desk.
    pub reference: String,
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

    /// Whether the item is a valuable (its category, or anything counted in it), which needs
    /// a witnessed, signed count before it is handed over.
    pub fn is_valuable(&self) -> bool {
        self.category.is_valuable()
            || self
                .counts
                .iter()
                .flat_map(|c| &c.items)
                .any(|i| i.content != ContentKind::Other)
    }

    /// Days it is kept unclaimed before disposal.
    pub fn retention_days(&self) -> u32 {
        if self.is_valuable() {
            VALUABLES_RETENTION_DAYS
        } else {
            RETENTION_DAYS
        }
    }

    /// The earliest time it may be disposed of or handed to the police: the retention
    /// period counted from the desk's receipt (a time the desk wrote, not the finder's phone);
    /// `None` before the desk has it.
    pub fn disposable_from(&self) -> Option<i64> {
        let received = self.receipt()?.confirmed_at;
        Some(received.saturating_add(i64::from(self.retention_days()) * DAY_MS))
    }

    /// The latest count of `stage` (by time, then ID).
    pub fn latest_count(&self, stage: CountStage) -> Option<&Count> {
        self.counts
            .iter()
            .filter(|c| c.stage == stage)
            .max_by(|a, b| a.counted_at.cmp(&b.counted_at).then(a.id.cmp(&b.id)))
    }

    /// The finder's hand-over to the desk, if made (the first, by time then ID).
    pub fn handover(&self) -> Option<&CustodyMove> {
        self.moves
            .iter()
            .filter(|m| m.to == Holder::Desk && m.author == self.created_by)
            .min_by(|a, b| a.moved_at.cmp(&b.moved_at).then(a.id.cmp(&b.id)))
    }

    /// The desk's confirmation of the hand-over, if given.
    pub fn receipt(&self) -> Option<&Confirmation> {
        let handover = self.handover()?;
        self.confirmations
            .iter()
            .filter(|c| c.move_id == handover.id)
            .min_by(|a, b| a.confirmed_at.cmp(&b.confirmed_at).then(a.id.cmp(&b.id)))
    }

    /// The count the desk made when it confirmed receipt.
    pub fn desk_count(&self) -> Option<&Count> {
        let receipt = self.receipt()?;
        self.counts
            .iter()
            .find(|c| c.id == receipt.count && c.stage == CountStage::Desk)
    }

    /// The contents as the record lists them now: the desk's count once it has one, else the
    /// finder's.
    pub fn listed_contents(&self) -> &[CountedItem] {
        self.desk_count()
            .or_else(|| self.latest_count(CountStage::Registration))
            .map_or(&[][..], |c| &c.items)
    }

    /// What the estate still holds: the listed contents less what partial claims handed over
    /// (by line, quantity and amount).
    pub fn remaining_contents(&self) -> Vec<CountedItem> {
        let mut left: Vec<CountedItem> = self.listed_contents().to_vec();
        for claim in self
            .claims
            .iter()
            .filter(|c| c.outcome == ClaimOutcome::Partial)
        {
            for handed in &claim.handed {
                if let Some(line) = left.iter_mut().find(|l| l.same_thing(handed)) {
                    line.quantity = line.quantity.saturating_sub(handed.quantity);
                    line.amount_fen = line.amount_fen.saturating_sub(handed.amount_fen).max(0);
                }
            }
        }
        left.retain(|l| l.quantity > 0 || l.amount_fen > 0);
        left
    }

    /// The signature of `purpose` by `role` over `subject` as it stands, if any.
    pub fn signed(&self, purpose: Purpose, subject: &str, role: SignerRole) -> Option<&Signature> {
        let hash = self.content_for(purpose, subject)?.hash();
        self.signatures.iter().find(|s| {
            s.purpose == purpose
                && s.subject == subject
                && s.signer_role == role
                && s.content_hash.as_slice() == hash
        })
    }

    /// Whether `count` carries the signatures of both the finder and the witness, each over
    /// it as it stands, and names a witness.
    pub fn is_witnessed(&self, count: &Count) -> bool {
        !count.witness_name.trim().is_empty()
            && self
                .signed(Purpose::FoundItemCount, &count.id, SignerRole::Finder)
                .is_some()
            && self
                .signed(Purpose::FoundItemCount, &count.id, SignerRole::Witness)
                .is_some()
    }

    /// The step that ended the estate's custody (a claim that handed it over, a disposal, a
    /// hand-over to the police), if any: the first such, by time then ID.
    pub fn final_step(&self) -> Option<(i64, FoundStatus)> {
        let claims = self
            .claims
            .iter()
            .filter(|c| c.outcome.is_final())
            .map(|c| (c.claimed_at, c.id.as_str(), FoundStatus::Claimed));
        let moves = self.moves.iter().filter(|m| m.to.is_final()).map(|m| {
            let status = if m.to == Holder::Police {
                FoundStatus::WithPolice
            } else {
                FoundStatus::Disposed
            };
            (m.moved_at, m.id.as_str(), status)
        });
        claims
            .chain(moves)
            .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
            .map(|(at, _, status)| (at, status))
    }

    pub fn status(&self) -> FoundStatus {
        if let Some((_, status)) = self.final_step() {
            return status;
        }
        let Some(handover) = self.handover() else {
            return FoundStatus::WithFinder;
        };
        if self.receipt().is_none() {
            return FoundStatus::HandingOver;
        }
        let latest_inside = self
            .moves
            .iter()
            .filter(|m| m.id != handover.id && !m.to.is_final())
            .max_by(|a, b| a.moved_at.cmp(&b.moved_at).then(a.id.cmp(&b.id)));
        match latest_inside.map(|m| m.to) {
            Some(Holder::Storage) => FoundStatus::InStorage,
            _ => FoundStatus::AtDesk,
        }
    }

    /// Every move of the item, in order: found (the finder has it), handed to the desk
    /// (confirmed or not), the desk's receipt, moves inside the office, and how it left.
    pub fn custody(&self) -> Vec<CustodyStep> {
        let mut steps = vec![CustodyStep {
            at: self.found_at,
            status: FoundStatus::WithFinder,
            holder_name: self.finder_name.clone(),
            written_by: self.created_by.clone(),
            place: [&self.building, &self.floor, &self.area, &self.spot]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            confirmed: true,
        }];
        let handover = self.handover().map(|m| m.id.clone());
        let receipt = self.receipt();
        for m in &self.moves {
            let is_handover = handover.as_deref() == Some(m.id.as_str());
            let status = match m.to {
                Holder::Desk if is_handover => FoundStatus::HandingOver,
                Holder::Desk => FoundStatus::AtDesk,
                Holder::Storage => FoundStatus::InStorage,
                Holder::Police => FoundStatus::WithPolice,
                Holder::Disposed => FoundStatus::Disposed,
            };
            let confirmed = if is_handover {
                receipt.is_some()
            } else if m.to.is_final() {
                self.signed(Purpose::FoundItemDisposal, &m.id, SignerRole::Receiver)
                    .is_some()
            } else {
                true
            };
            steps.push(CustodyStep {
                at: m.moved_at,
                status,
                holder_name: m.holder_name.clone(),
                written_by: m.author.clone(),
                place: m.place.clone(),
                confirmed,
            });
        }
        if let Some(receipt) = receipt {
            steps.push(CustodyStep {
                at: receipt.confirmed_at,
                status: FoundStatus::AtDesk,
                holder_name: receipt.holder_name.clone(),
                written_by: receipt.author.clone(),
                place: String::new(),
                confirmed: true,
            });
        }
        // The claim that ended custody (a partial hand-over is listed with the claims; the item
        // stays with the desk).
        for claim in self.claims.iter().filter(|c| c.outcome.is_final()) {
            steps.push(CustodyStep {
                at: claim.claimed_at,
                status: FoundStatus::Claimed,
                holder_name: claim.claimant_name.clone(),
                written_by: claim.author.clone(),
                place: String::new(),
                confirmed: self
                    .signed(Purpose::FoundItemReceipt, &claim.id, SignerRole::Claimant)
                    .is_some(),
            });
        }
        steps.sort_by_key(|s| s.at);
        steps
    }

    /// The lines the desk counted differently from the finder's latest count.
    pub fn mismatches(&self) -> Vec<Mismatch> {
        let (Some(registered), Some(desk)) = (
            self.latest_count(CountStage::Registration),
            self.desk_count(),
        ) else {
            return Vec::new();
        };
        let mut out: Vec<Mismatch> = registered
            .items
            .iter()
            .filter_map(|line| {
                let at_desk = desk.items.iter().find(|d| d.same_thing(line));
                (at_desk != Some(line)).then(|| Mismatch {
                    registered: line.clone(),
                    at_desk: at_desk.cloned(),
                })
            })
            .collect();
        out.extend(
            desk.items
                .iter()
                .filter(|d| !registered.items.iter().any(|r| r.same_thing(d)))
                .map(|d| Mismatch {
                    registered: CountedItem {
                        quantity: 0,
                        amount_fen: 0,
                        ..d.clone()
                    },
                    at_desk: Some(d.clone()),
                }),
        );
        out
    }

    /// Whether it belongs on the public notice at `now`: still unclaimed at the desk or in
    /// storage, found at least [`NOTICE_DAYS`] ago.
    pub fn on_notice(&self, now: i64, notice_days: u32) -> bool {
        self.status().is_unclaimed()
            && now.saturating_sub(self.found_at) >= i64::from(notice_days) * DAY_MS
    }

    /// Its line on the public notice; `reference` is how the desk finds the record (a short
    /// form of its document ID).
    pub fn notice_line(&self, reference: &str) -> NoticeLine {
        NoticeLine {
            category: self.category,
            description: if looks_personal(&self.description) {
                String::new()
            } else {
                self.description.clone()
            },
            place: [&self.building, &self.floor]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            found_at: self.found_at,
            reference: reference.to_owned(),
        }
    }

    fn item_fields(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("description", text(&self.description)),
            ("category", text(self.category.as_str())),
            ("building", text(&self.building)),
            ("floor", text(&self.floor)),
            ("area", text(&self.area)),
            ("spot", text(&self.spot)),
            ("found_at", int(self.found_at)),
        ]
    }

    /// What the finder and the witness sign: the item, where and when it was found, and the
    /// count line by line with the witness's name.
    pub fn count_content(&self, count: &Count) -> SignedContent {
        let mut fields = self.item_fields();
        fields.extend([
            ("count", text(&count.id)),
            ("stage", text(count.stage.as_str())),
            ("items", items_value(&count.items)),
            ("witness_name", text(&count.witness_name)),
            ("counted_at", int(count.counted_at)),
        ]);
        SignedContent::new(Purpose::FoundItemCount, fields)
    }

    /// What the claimant signs: the item, their name, their ID (type and last four only, as
    /// the screen shows it), what was handed over and how the claim ended.
    pub fn receipt_content(&self, claim: &Claim) -> SignedContent {
        let mut fields = self.item_fields();
        fields.extend([
            ("claim", text(&claim.id)),
            ("claimant_name", text(&claim.claimant_name)),
            ("id_type", text(claim.id_type.as_str())),
            ("id_number", text(&mask_id(&claim.id_number))),
            ("handed", items_value(&claim.handed)),
            ("outcome", text(claim.outcome.as_str())),
            ("note", text(&claim.note)),
            ("claimed_at", int(claim.claimed_at)),
        ]);
        SignedContent::new(Purpose::FoundItemReceipt, fields)
    }

    /// What the receiver of a disposal or the police signs: the item, the move, and the
    /// contents as the record lists them.
    pub fn disposal_content(&self, movement: &CustodyMove) -> SignedContent {
        let mut fields = self.item_fields();
        fields.extend([
            ("move", text(&movement.id)),
            ("to", text(movement.to.as_str())),
            ("holder_name", text(&movement.holder_name)),
            ("place", text(&movement.place)),
            ("items", items_value(&self.remaining_contents())),
            ("moved_at", int(movement.moved_at)),
        ]);
        SignedContent::new(Purpose::FoundItemDisposal, fields)
    }

    /// The content a signature of `purpose` over `subject` must have signed, if the subject
    /// is an entry of this record that takes that purpose.
    pub fn content_for(&self, purpose: Purpose, subject: &str) -> Option<SignedContent> {
        match purpose {
            Purpose::FoundItemCount => self
                .counts
                .iter()
                .find(|c| c.id == subject)
                .map(|c| self.count_content(c)),
            Purpose::FoundItemReceipt => self
                .claims
                .iter()
                .find(|c| c.id == subject)
                .map(|c| self.receipt_content(c)),
            Purpose::FoundItemDisposal => self
                .moves
                .iter()
                .find(|m| m.id == subject && m.to.is_final())
                .map(|m| self.disposal_content(m)),
            _ => None,
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

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn int(value: i64) -> Value {
    Value::Integer(value.into())
}

fn items_value(items: &[CountedItem]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| {
                Value::Map(vec![
                    (text("what"), text(&i.what)),
                    (text("content"), text(i.content.as_str())),
                    (text("quantity"), Value::Integer(i.quantity.into())),
                    (text("amount_fen"), int(i.amount_fen)),
                ])
            })
            .collect(),
    )
}

mod kind;

#[cfg(test)]
mod tests;
