//! Signatures bound to exactly what was signed.
//!
//! An owner signs with a finger on the technician's phone. The signature entry proves that
//! this person (as they wrote their name and role), on this device, at this time, agreed to
//! exactly this content: the content is encoded canonically ([`SignedContent`], deterministic
//! CBOR, RFC 8949 §4.2.1) and only its SHA-256 is signed, with the stroke's hash, the document
//! ID and the entry's own fields, by the device's enrolled Ed25519 key. Change one byte of any
//! of them and the signature no longer verifies; copy it into another record or purpose and
//! the document ID or content no longer matches.

use autosurgeon::bytes::ByteVec;
use autosurgeon::{Hydrate, Reconcile};
use ciborium::Value;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DocumentId;

/// Prefix of every signed message, so a signature made for Gatehouse means nothing elsewhere.
pub const SIGNATURE_DOMAIN: &[u8] = b"gatehouse-signature-v1\n";
/// Largest stroke, in bytes (about 8,000 points).
pub const MAX_STROKE_BYTES: usize = 32 * 1024;
/// Longest signer name, in characters.
pub const MAX_SIGNER_NAME_CHARS: usize = 100;

/// What a signature agrees to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The owner agrees to a repair estimate (cause, method, parts, fee) before the work.
    RepairConsent,
    /// The owner accepts the work done, parts used, time and final fee.
    RepairAcceptance,
    /// The guard signs the check at the gate: who carried what out (or was held), and why.
    GateCheck,
    /// The owner, at the desk, approves a release slip as it stands.
    SlipApproval,
    /// The finder and a witness sign a found item's count.
    FoundItemCount,
    /// The claimant signs for what was handed over.
    FoundItemReceipt,
    /// Whoever receives an unclaimed item at its disposal (the police) signs for it.
    FoundItemDisposal,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::RepairConsent => "repair_consent",
            Purpose::RepairAcceptance => "repair_acceptance",
            Purpose::GateCheck => "gate_check",
            Purpose::SlipApproval => "slip_approval",
            Purpose::FoundItemCount => "found_item_count",
            Purpose::FoundItemReceipt => "found_item_receipt",
            Purpose::FoundItemDisposal => "found_item_disposal",
        }
    }
}

/// In what capacity the signer signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    Owner,
    Tenant,
    /// Someone else the owner sent (a family member, an agent), named as they wrote it.
    OwnersAgent,
    Technician,
    /// The guard who made a check at the gate.
    Guard,
    /// The staff member who found an item.
    Finder,
    /// The second staff member who watched a found item's count.
    Witness,
    /// Whoever claims a found item.
    Claimant,
    /// Whoever receives an unclaimed item at its disposal (a police officer).
    Receiver,
}

impl SignerRole {
    pub const ALL: [SignerRole; 9] = [
        SignerRole::Owner,
        SignerRole::Tenant,
        SignerRole::OwnersAgent,
        SignerRole::Technician,
        SignerRole::Guard,
        SignerRole::Finder,
        SignerRole::Witness,
        SignerRole::Claimant,
        SignerRole::Receiver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignerRole::Owner => "owner",
            SignerRole::Tenant => "tenant",
            SignerRole::OwnersAgent => "owners_agent",
            SignerRole::Technician => "technician",
            SignerRole::Guard => "guard",
            SignerRole::Finder => "finder",
            SignerRole::Witness => "witness",
            SignerRole::Claimant => "claimant",
            SignerRole::Receiver => "receiver",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// The canonical bytes of what is signed, for one purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContent {
    bytes: Vec<u8>,
}

impl SignedContent {
    /// The content of `purpose` with `fields` (text keys), as deterministic CBOR: a map of
    /// the fields and `purpose`, keys sorted by their encoded bytes, shortest integers,
    /// definite lengths.
    pub fn new(purpose: Purpose, fields: Vec<(&str, Value)>) -> Self {
        let mut entries: Vec<(Value, Value)> = fields
            .into_iter()
            .map(|(key, value)| (Value::Text(key.to_owned()), value))
            .collect();
        entries.push((
            Value::Text("purpose".into()),
            Value::Text(purpose.as_str().into()),
        ));
        Self {
            bytes: canonical_cbor(&Value::Map(entries)),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the canonical bytes: what a signature entry holds and signs.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.bytes)
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Deterministic CBOR (RFC 8949 §4.2.1): map entries sorted by the bytes of their encoded
/// keys, at every depth; ciborium already writes shortest-form integers and definite lengths.
pub fn canonical_cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::into_writer(&sorted(value), &mut out);
    out
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut keyed: Vec<(Vec<u8>, Value, Value)> = entries
                .iter()
                .map(|(k, v)| {
                    let key = sorted(k);
                    let mut encoded = Vec::new();
                    let _ = ciborium::into_writer(&key, &mut encoded);
                    (encoded, key, sorted(v))
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        Value::Tag(tag, inner) => Value::Tag(*tag, Box::new(sorted(inner))),
        other => other.clone(),
    }
}

/// One signature, an entry of the record it signs for.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Signature {
    #[key]
    pub id: String,
    /// The user whose device took the signature (the technician holding the phone).
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub purpose: Purpose,
    /// The entry whose content is signed (the estimate revision, the acceptance).
    pub subject: String,
    pub signer_role: SignerRole,
    /// The signer's name as they wrote it.
    pub signer_name: String,
    /// The drawn signature ([`Stroke`] bytes).
    pub stroke: ByteVec,
    /// SHA-256 of `stroke`.
    pub stroke_hash: ByteVec,
    /// SHA-256 of the [`SignedContent`] agreed to.
    pub content_hash: ByteVec,
    /// Device time of signing, ms since the Unix epoch.
    pub signed_at: i64,
    /// The record's document ID (16 bytes): a signature copied elsewhere does not match.
    pub document: ByteVec,
    /// The device that took it; its enrolled key verifies `signature`.
    pub device_id: String,
    /// Ed25519 over [`Signature::message`].
    pub signature: ByteVec,
}

crate::record::entry::impl_entry!(authored: Signature);

/// Everything a signature covers but the signature itself.
#[derive(Debug, Clone)]
pub struct Unsigned<'a> {
    pub id: &'a str,
    pub author: &'a str,
    pub purpose: Purpose,
    pub subject: &'a str,
    pub signer_role: SignerRole,
    pub signer_name: &'a str,
    pub stroke: &'a [u8],
    pub content_hash: [u8; 32],
    pub signed_at: i64,
    pub document: DocumentId,
    pub device_id: &'a str,
}

impl Signature {
    /// The exact bytes the device signs: the domain, then the canonical CBOR map of every
    /// field of the entry but `signature`, `stroke` (whose hash stands for it) and
    /// `corrects`. To take a signature, build the entry with an empty `signature`
    /// ([`Signature::from_parts`]), sign this, and put the result in.
    pub fn message(&self) -> Vec<u8> {
        let text = |s: &str| Value::Text(s.to_owned());
        let map = Value::Map(vec![
            (text("id"), text(&self.id)),
            (text("author"), text(&self.author)),
            (text("purpose"), text(self.purpose.as_str())),
            (text("subject"), text(&self.subject)),
            (text("signer_role"), text(self.signer_role.as_str())),
            (text("signer_name"), text(&self.signer_name)),
            (text("stroke_hash"), Value::Bytes(self.stroke_hash.to_vec())),
            (
                text("content_hash"),
                Value::Bytes(self.content_hash.to_vec()),
            ),
            (text("signed_at"), Value::Integer(self.signed_at.into())),
            (text("document"), Value::Bytes(self.document.to_vec())),
            (text("device_id"), text(&self.device_id)),
        ]);
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend(canonical_cbor(&map));
        message
    }

    /// Completes an entry with a signature made elsewhere (WebCrypto on the phone).
    pub fn from_parts(unsigned: &Unsigned<'_>, signature: Vec<u8>) -> Self {
        Self {
            id: unsigned.id.to_owned(),
            author: unsigned.author.to_owned(),
            corrects: None,
            purpose: unsigned.purpose,
            subject: unsigned.subject.to_owned(),
            signer_role: unsigned.signer_role,
            signer_name: unsigned.signer_name.trim().to_owned(),
            stroke: unsigned.stroke.to_vec().into(),
            stroke_hash: sha256(unsigned.stroke).to_vec().into(),
            content_hash: unsigned.content_hash.to_vec().into(),
            signed_at: unsigned.signed_at,
            document: unsigned.document.as_bytes().to_vec().into(),
            device_id: unsigned.device_id.to_owned(),
            signature: signature.into(),
        }
    }

    /// Signs with a key seed held in memory (tests and native tools; the phone's key never
    /// leaves WebCrypto).
    pub fn sign_with_seed(unsigned: &Unsigned<'_>, seed: &[u8; 32]) -> Self {
        let mut entry = Self::from_parts(unsigned, Vec::new());
        let signature = SigningKey::from_bytes(seed).sign(&entry.message());
        entry.signature = signature.to_bytes().to_vec().into();
        entry
    }
}

/// Why a signature does not stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("the signature does not verify with the device's key")]
    BadSignature,
    #[error("the signature belongs to another record")]
    OtherRecord,
    #[error("the signed content does not match the record")]
    ContentMismatch,
    #[error("the stroke does not match its hash")]
    StrokeMismatch,
    #[error("the stroke is empty or malformed")]
    EmptyStroke,
}

impl SignatureProblem {
    /// The message key the interface translates.
    pub fn key(self) -> crate::problem::ProblemKey {
        use crate::problem::keys;
        match self {
            SignatureProblem::BadSignature => keys::BAD_SIGNATURE,
            SignatureProblem::OtherRecord => keys::SIGNATURE_OTHER_RECORD,
            SignatureProblem::ContentMismatch => keys::CONTENT_MISMATCH,
            SignatureProblem::StrokeMismatch => keys::STROKE_MISMATCH,
            SignatureProblem::EmptyStroke => keys::EMPTY_STROKE,
        }
    }
}

/// How a judge checks an Ed25519 signature over a message with a 32-byte public key.
pub type KeyVerifier = fn(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool;

/// The Ed25519 check (ed25519-dalek, strict: no weak keys, canonical signatures): what the
/// server, the authority on what is stored, runs.
pub fn ed25519_verifies(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    <[u8; 32]>::try_from(public_key)
        .ok()
        .and_then(|key| VerifyingKey::from_bytes(&key).ok())
        .zip(ed25519_dalek::Signature::from_slice(signature).ok())
        .is_some_and(|(key, sig)| key.verify_strict(message, &sig).is_ok())
}

/// For a phone judging a signature it has just taken with its own key (WebCrypto, which never
/// hands the private key out): it does not check its own key's work again. The server checks
/// every signature it stores with `ed25519_verifies`, and the office checks them for display.
/// Keeping the curve arithmetic out of the phone keeps the app small.
pub fn left_to_the_server(_public_key: &[u8], _message: &[u8], _signature: &[u8]) -> bool {
    true
}

/// Checks a signature entry: its stroke, that it was made for `document` and over
/// `expected` content, and that `public_key` (the enrolled key of the device it names)
/// verifies it with `verifier`. Every problem, in that order.
pub fn verify(
    signature: &Signature,
    document: DocumentId,
    expected: &SignedContent,
    public_key: &[u8],
    verifier: KeyVerifier,
) -> Vec<SignatureProblem> {
    let mut problems = Vec::new();
    if Stroke::decode(&signature.stroke).is_none_or(|s| s.is_empty()) {
        problems.push(SignatureProblem::EmptyStroke);
    }
    if signature.stroke_hash.as_slice() != sha256(&signature.stroke) {
        problems.push(SignatureProblem::StrokeMismatch);
    }
    if signature.document.as_slice() != document.as_bytes() {
        problems.push(SignatureProblem::OtherRecord);
    }
    if signature.content_hash.as_slice() != expected.hash() {
        problems.push(SignatureProblem::ContentMismatch);
    }
    if !verifier(public_key, &signature.message(), &signature.signature) {
        problems.push(SignatureProblem::BadSignature);
    }
    problems
}

/// A drawn signature as compact vector data: the pad's size, then strokes of points.
///
/// Bytes: `0x01` (format), width and height of the pad in CSS pixels (u16 big-endian each),
/// then each stroke as its point count (u16 BE, at least 1) and that many points, each x and
/// y (u16 BE, within the pad). At most [`MAX_STROKE_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stroke {
    pub width: u16,
    pub height: u16,
    pub lines: Vec<Vec<(u16, u16)>>,
}

impl Stroke {
    /// Whether nothing was drawn: no line of two points or more.
    pub fn is_empty(&self) -> bool {
        !self.lines.iter().any(|line| line.len() >= 2)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![1];
        out.extend(self.width.to_be_bytes());
        out.extend(self.height.to_be_bytes());
        for line in &self.lines {
            out.extend((line.len() as u16).to_be_bytes());
            for (x, y) in line {
                out.extend(x.to_be_bytes());
                out.extend(y.to_be_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > MAX_STROKE_BYTES || bytes.first() != Some(&1) {
            return None;
        }
        let mut words = bytes[1..]
            .chunks(2)
            .map(|pair| <[u8; 2]>::try_from(pair).ok().map(u16::from_be_bytes));
        let mut next = || words.next().flatten();
        let (width, height) = (next()?, next()?);
        let mut lines = Vec::new();
        while let Some(count) = next() {
            if count == 0 {
                return None;
            }
            let mut line = Vec::with_capacity(usize::from(count));
            for _ in 0..count {
                let (x, y) = (next()?, next()?);
                if x > width || y > height {
                    return None;
                }
                line.push((x, y));
            }
            lines.push(line);
        }
        // An odd trailing byte is malformed.
        (bytes.len() - 1).is_multiple_of(2).then_some(Self {
            width,
            height,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];
    const T0: i64 = 1_780_000_000_000;

    fn public_key(seed: &[u8; 32]) -> Vec<u8> {
        SigningKey::from_bytes(seed)
            .verifying_key()
            .to_bytes()
            .to_vec()
    }

    fn content() -> SignedContent {
        SignedContent::new(
            Purpose::RepairConsent,
            vec![
                ("fee_fen", Value::Integer(12_000.into())),
                ("unit", Value::Text("3-1-1202".into())),
            ],
        )
    }

    fn stroke() -> Vec<u8> {
        Stroke {
            width: 300,
            height: 150,
            lines: vec![vec![(10, 10), (40, 60), (90, 30)]],
        }
        .encode()
    }

    fn signed(document: DocumentId) -> Signature {
        let stroke = stroke();
        Signature::sign_with_seed(
            &Unsigned {
                id: "sig-1",
                author: "user-tech",
                purpose: Purpose::RepairConsent,
                subject: "estimate-1",
                signer_role: SignerRole::Owner,
                signer_name: "张业主",
                stroke: &stroke,
                content_hash: content().hash(),
                signed_at: T0,
                document,
                device_id: "device-tech",
            },
            &SEED,
        )
    }

    fn doc() -> DocumentId {
        DocumentId::from_random([1; 16])
    }

    #[test]
    fn a_signature_verifies_over_its_content_document_and_key() {
        assert_eq!(
            verify(
                &signed(doc()),
                doc(),
                &content(),
                &public_key(&SEED),
                ed25519_verifies
            ),
            []
        );
    }

    #[test]
    fn every_signed_field_tampered_in_turn_breaks_the_signature() {
        let good = signed(doc());
        type Tamper = Box<dyn Fn(&mut Signature)>;
        let tampering: Vec<(&str, Tamper)> = vec![
            ("id", Box::new(|s| s.id = "sig-2".into())),
            ("author", Box::new(|s| s.author = "user-other".into())),
            (
                "purpose",
                Box::new(|s| s.purpose = Purpose::RepairAcceptance),
            ),
            ("subject", Box::new(|s| s.subject = "estimate-2".into())),
            (
                "signer_role",
                Box::new(|s| s.signer_role = SignerRole::Tenant),
            ),
            ("signer_name", Box::new(|s| s.signer_name = "李租户".into())),
            ("signed_at", Box::new(|s| s.signed_at += 1)),
            (
                "device_id",
                Box::new(|s| s.device_id = "device-other".into()),
            ),
            (
                "signature",
                Box::new(|s| {
                    let mut bytes: Vec<u8> = s.signature.clone().into();
                    bytes[0] ^= 1;
                    s.signature = bytes.into();
                }),
            ),
        ];
        for (field, tamper) in tampering {
            let mut forged = good.clone();
            tamper(&mut forged);
            assert_eq!(
                verify(
                    &forged,
                    doc(),
                    &content(),
                    &public_key(&SEED),
                    ed25519_verifies
                ),
                [SignatureProblem::BadSignature],
                "{field}"
            );
        }
    }

    #[test]
    fn tampered_hashes_are_named() {
        let good = signed(doc());
        let mut content_hash = good.clone();
        content_hash.content_hash = [0; 32].to_vec().into();
        assert_eq!(
            verify(
                &content_hash,
                doc(),
                &content(),
                &public_key(&SEED),
                ed25519_verifies
            ),
            [
                SignatureProblem::ContentMismatch,
                SignatureProblem::BadSignature
            ]
        );
        let mut stroke = good.clone();
        let mut bytes = self::stroke();
        bytes[8] ^= 1;
        stroke.stroke = bytes.into();
        assert_eq!(
            verify(
                &stroke,
                doc(),
                &content(),
                &public_key(&SEED),
                ed25519_verifies
            ),
            [SignatureProblem::StrokeMismatch]
        );
        let mut document = good;
        document.document = [2; 16].to_vec().into();
        assert_eq!(
            verify(
                &document,
                doc(),
                &content(),
                &public_key(&SEED),
                ed25519_verifies
            ),
            [
                SignatureProblem::OtherRecord,
                SignatureProblem::BadSignature
            ]
        );
    }

    #[test]
    fn a_foreign_key_does_not_verify() {
        assert_eq!(
            verify(
                &signed(doc()),
                doc(),
                &content(),
                &public_key(&[8; 32]),
                ed25519_verifies
            ),
            [SignatureProblem::BadSignature]
        );
        assert_eq!(
            verify(
                &signed(doc()),
                doc(),
                &content(),
                &[1, 2, 3],
                ed25519_verifies
            ),
            [SignatureProblem::BadSignature]
        );
    }

    #[test]
    fn a_signature_copied_to_another_record_or_content_does_not_stand() {
        let other = DocumentId::from_random([2; 16]);
        assert_eq!(
            verify(
                &signed(doc()),
                other,
                &content(),
                &public_key(&SEED),
                ed25519_verifies
            ),
            [SignatureProblem::OtherRecord]
        );
        let other_content = SignedContent::new(
            Purpose::RepairConsent,
            vec![
                ("fee_fen", Value::Integer(99_000.into())),
                ("unit", Value::Text("3-1-1202".into())),
            ],
        );
        assert_eq!(
            verify(
                &signed(doc()),
                doc(),
                &other_content,
                &public_key(&SEED),
                ed25519_verifies
            ),
            [SignatureProblem::ContentMismatch]
        );
    }

    #[test]
    fn canonical_content_does_not_depend_on_field_order() {
        let a = SignedContent::new(
            Purpose::RepairConsent,
            vec![
                ("b", Value::Integer(1.into())),
                ("aa", Value::Text("x".into())),
            ],
        );
        let b = SignedContent::new(
            Purpose::RepairConsent,
            vec![
                ("aa", Value::Text("x".into())),
                ("b", Value::Integer(1.into())),
            ],
        );
        assert_eq!(a, b);
        // Shorter encoded keys sort first: "b" (0x61 0x62) before "aa" (0x62 0x61 0x61).
        assert_eq!(&a.bytes()[..3], &[0xa3, 0x61, b'b']);
    }

    #[test]
    fn empty_or_malformed_strokes_are_refused() {
        let dot = Stroke {
            width: 10,
            height: 10,
            lines: vec![vec![(1, 1)]],
        };
        assert!(dot.is_empty());
        assert_eq!(Stroke::decode(&dot.encode()), Some(dot));
        assert_eq!(Stroke::decode(&[]), None);
        assert_eq!(Stroke::decode(&[2, 0, 10, 0, 10]), None);
        // A point outside the pad, a zero-point line, a truncated point.
        assert_eq!(Stroke::decode(&[1, 0, 10, 0, 10, 0, 1, 0, 11, 0, 1]), None);
        assert_eq!(Stroke::decode(&[1, 0, 10, 0, 10, 0, 0]), None);
        assert_eq!(Stroke::decode(&[1, 0, 10, 0, 10, 0, 1, 0, 1]), None);
        assert!(!Stroke::decode(&stroke()).expect("decodes").is_empty());
    }
}
