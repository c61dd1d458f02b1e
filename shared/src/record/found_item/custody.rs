//! What a found item's entries say: whether it is a valuable, who holds it, where it stands,
//! its chain of custody, the desk's count against the finder's, and its public notice line.

use serde::{Deserialize, Serialize};

use super::*;
use crate::signature::{Purpose, Signature, SignerRole};

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

impl FoundItem {
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

    /// Days it is kept unclaimed before disposal, in an estate with `periods`.
    pub fn retention_days(&self, periods: &FoundItemPeriods) -> u32 {
        if self.is_valuable() {
            periods.valuables_retention_days
        } else {
            periods.retention_days
        }
    }

    /// The earliest time it may be disposed of or handed to the police, in an estate with
    /// `periods`: the retention period counted from the desk's receipt (a time the desk
    /// wrote, not the finder's phone); `None` before the desk has it.
    pub fn disposable_from(&self, periods: &FoundItemPeriods) -> Option<i64> {
        let received = self.receipt()?.confirmed_at;
        Some(received.saturating_add(i64::from(self.retention_days(periods)) * DAY_MS))
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
    /// storage, found at least `notice_days` ago (the estate's [`FoundItemPeriods`]).
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
}
