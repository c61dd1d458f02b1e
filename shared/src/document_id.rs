//! The identity of one record's Automerge document, minted on the device that creates it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A document ID: 16 random bytes, shown as a hyphenated UUID and sent on the wire as a
/// 16-byte CBOR byte string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(Uuid);

/// A document ID that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid document id")]
pub struct InvalidDocumentId;

impl DocumentId {
    /// An ID from 16 random bytes the caller supplies (a version-4 UUID), minted on the
    /// device, offline. `shared` takes randomness as an argument.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// The ID from its 16 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidDocumentId> {
        Uuid::from_slice(bytes)
            .map(Self)
            .map_err(|_| InvalidDocumentId)
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = InvalidDocumentId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self).map_err(|_| InvalidDocumentId)
    }
}

impl Serialize for DocumentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_bytes(self.as_bytes())
        }
    }
}

impl<'de> Deserialize<'de> for DocumentId {
    /// Accepts the text form or the 16 raw bytes, whatever the format: serde's buffering of
    /// internally tagged enums does not pass on whether the format is human-readable.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> serde::de::Visitor<'de> for IdVisitor {
            type Value = DocumentId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a document id as a UUID string or 16 bytes")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<DocumentId, E> {
                text.parse().map_err(E::custom)
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<DocumentId, E> {
                DocumentId::from_bytes(bytes).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let id = DocumentId::from_random([7; 16]);
        let parsed: DocumentId = id.to_string().parse().expect("own text parses");
        assert_eq!(parsed, id);
    }

    #[test]
    fn wrong_length_bytes_are_refused() {
        assert!(DocumentId::from_bytes(&[1, 2, 3]).is_err());
    }
}
