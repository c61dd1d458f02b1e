//! The entries of a found item: counts and their lines, moves of custody, the desk's
//! receipt, owner searches, claimants' descriptions and claims.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::record::entry::impl_entry;

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
