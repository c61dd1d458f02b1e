//! What each signature over a found item covers, as canonical CBOR (see `docs/protocol.md`).

use ciborium::Value;

use super::*;
use crate::signature::{Purpose, SignedContent};

impl FoundItem {
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
