//! The sync wire protocol (see `docs/protocol.md`): every WebSocket binary frame carries one
//! CBOR-encoded message, a map whose `type` field names the variant, behind a one-byte
//! header that says whether the CBOR is raw-deflate compressed.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::{DocumentId, Problem, RecordSummary};

/// The protocol versions this build speaks, newest last. Version 2 adds the follow set
/// (`follows`): documents the server sends a device without being asked. Version 3 leaves
/// out of a reply the sync message of a document that `stored` already answers.
pub const SUPPORTED_VERSIONS: &[u32] = &[1, 2, 3];
/// The first version with the follow set.
pub const FOLLOW_SET_VERSION: u32 = 2;
/// The first version in which a `stored` entry at the heads the device sent stands for the
/// server's sync message for that document (see [`crate::sync_session::SyncSession::stored`]).
pub const STORED_ANSWERS_VERSION: u32 = 3;
/// Largest frame either side accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;
/// Most documents in one `sync` message.
pub const MAX_DOCS_PER_MESSAGE: usize = 2000;

/// What a device sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First message on every connection: the versions the device speaks and its session.
    Hello { versions: Vec<u32>, token: String },
    /// Automerge sync messages for any number of documents.
    Sync { docs: Vec<DocSync> },
    /// Heartbeat; the server answers `pong` with the same nonce.
    Ping { nonce: u64 },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The hello was accepted; `version` is the one both sides will speak.
    Welcome {
        version: u32,
        server_time: i64,
    },
    /// Automerge sync messages for any number of documents: the one reply to a device's
    /// `sync` frame, or (`pushed`) sent on the server's own because another device changed a
    /// document this connection syncs. Absent `pushed` reads as false (a reply).
    Sync {
        docs: Vec<DocSync>,
        #[serde(default, skip_serializing_if = "is_false")]
        pushed: bool,
        /// (Version 2.) More `sync` frames of the same reply follow: a reply that would not
        /// fit one frame is split, and only its last frame has `more` absent or false.
        #[serde(default, skip_serializing_if = "is_false")]
        more: bool,
    },
    /// These documents are durably stored at these heads (sent only after the commit).
    Stored {
        docs: Vec<StoredDoc>,
    },
    /// New or changed records the connected user may see (sent to office staff).
    Records {
        records: Vec<RecordSummary>,
    },
    Pong {
        nonce: u64,
    },
    /// (Version 2 and later.) Documents this device follows: written elsewhere, its to
    /// receive (an estate's registry on a guard's phone). The device syncs them like its
    /// own, in the same frames. `complete`: this is the whole set (sent after `welcome`;
    /// followed documents not in it are no longer followed); otherwise, additions.
    Follows {
        docs: Vec<DocumentId>,
        complete: bool,
    },
    /// (Version 2 and later.) The server fell behind on this connection's changes: some
    /// `records` and pushed `sync` frames were never sent. The device syncs every document
    /// again as after a reconnect (its sync states as when disconnected), and an office
    /// list reloads what it shows.
    Resync,
    /// Something went wrong. `fatal` errors are followed by the server closing the socket.
    Error {
        code: ErrorCode,
        /// The document concerned, if any.
        doc: Option<DocumentId>,
        fatal: bool,
        /// For versions the server supports, when `code` is `unsupported_version`.
        supported: Vec<u32>,
        problems: Vec<Problem>,
        /// The refused changes (32-byte change hashes), when `code` is `rejected` or
        /// `forbidden` for a document's changes.
        #[serde(default)]
        changes: Vec<serde_bytes::ByteBuf>,
    },
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One document's Automerge sync message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocSync {
    pub doc: DocumentId,
    /// An encoded `automerge::sync::Message`.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
}

/// Acknowledgement that a document's state up to `heads` is committed on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDoc {
    pub doc: DocumentId,
    /// The document's heads on the server after the commit, each a 32-byte change hash.
    pub heads: Vec<serde_bytes::ByteBuf>,
    /// Server time of the commit, ms since the Unix epoch.
    pub received_at: i64,
}

/// Machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No version in common: the device must update.
    UnsupportedVersion,
    /// The session token is missing, unknown or expired: sign in again.
    Unauthorized,
    /// This device was revoked by an admin: it may not sync any more.
    DeviceRevoked,
    /// The frame could not be decoded, or came in the wrong order.
    Malformed,
    /// A document's sync message could not be applied.
    BadSyncMessage,
    /// The user may not read or write this document.
    Forbidden,
    /// The document's changes break the rules (see `problems`); none of them was stored.
    Rejected,
    /// The server could not store the change; the device should retry later.
    Internal,
}

/// A frame that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame: {0}")]
pub struct DecodeError(String);

/// Frame header: the CBOR message follows as is.
pub const FRAME_PLAIN: u8 = 0x00;
/// Frame header: the CBOR message follows compressed with raw DEFLATE (RFC 1951).
pub const FRAME_DEFLATE: u8 = 0x01;
/// Messages longer than this are compressed when that makes them smaller.
const COMPRESS_ABOVE_BYTES: usize = 256;

/// Encodes a message as one frame.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut cbor = Vec::new();
    // Writing CBOR to a Vec cannot fail for these types.
    if let Err(error) = ciborium::into_writer(message, &mut cbor) {
        unreachable!("encoding to memory failed: {error}");
    }
    if cbor.len() > COMPRESS_ABOVE_BYTES {
        if let Some(compressed) = deflate(&cbor) {
            return compressed;
        }
    }
    let mut frame = Vec::with_capacity(cbor.len() + 1);
    frame.push(FRAME_PLAIN);
    frame.extend_from_slice(&cbor);
    frame
}

thread_local! {
    /// Each thread's compressor, reset for each frame: making one sets up some 200 KiB of
    /// tables, which was most of the cost of compressing a short frame (about 3 % of the
    /// server's CPU in the wave benchmark).
    static DEFLATE: std::cell::RefCell<Option<flate2::Compress>> =
        const { std::cell::RefCell::new(None) };
}

/// `cbor` as a compressed frame (header byte, raw DEFLATE), if that is shorter than `cbor`.
fn deflate(cbor: &[u8]) -> Option<Vec<u8>> {
    DEFLATE.with_borrow_mut(|compressor| {
        let compressor = compressor
            .get_or_insert_with(|| flate2::Compress::new(flate2::Compression::default(), false));
        compressor.reset();
        // Room for a frame shorter than `cbor` and no more: a stream that does not end
        // within it is not worth sending.
        let mut frame = Vec::with_capacity(cbor.len());
        frame.push(FRAME_DEFLATE);
        let status = compressor.compress_vec(cbor, &mut frame, flate2::FlushCompress::Finish);
        (matches!(status, Ok(flate2::Status::StreamEnd)) && frame.len() < cbor.len())
            .then_some(frame)
    })
}

/// Decodes one frame. A compressed frame may not inflate past `MAX_FRAME_BYTES`.
pub fn decode<T: for<'de> Deserialize<'de>>(frame: &[u8]) -> Result<T, DecodeError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(DecodeError("frame too large".into()));
    }
    match frame.split_first() {
        Some((&FRAME_PLAIN, cbor)) => {
            ciborium::from_reader(cbor).map_err(|e| DecodeError(e.to_string()))
        }
        Some((&FRAME_DEFLATE, compressed)) => {
            let mut cbor = Vec::new();
            flate2::read::DeflateDecoder::new(compressed)
                .take(MAX_FRAME_BYTES as u64 + 1)
                .read_to_end(&mut cbor)
                .map_err(|e| DecodeError(format!("bad deflate stream: {e}")))?;
            if cbor.len() > MAX_FRAME_BYTES {
                return Err(DecodeError("frame inflates too large".into()));
            }
            ciborium::from_reader(cbor.as_slice()).map_err(|e| DecodeError(e.to_string()))
        }
        Some((header, _)) => Err(DecodeError(format!("unknown frame header {header:#04x}"))),
        None => Err(DecodeError("empty frame".into())),
    }
}

/// The version to speak with a peer offering `offered`, if any.
pub fn negotiate(offered: &[u32]) -> Option<u32> {
    SUPPORTED_VERSIONS
        .iter()
        .rev()
        .copied()
        .find(|v| offered.contains(v))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn sync_message_round_trips_through_cbor() {
        let message = ClientMessage::Sync {
            docs: vec![DocSync {
                doc: DocumentId::from_random([6; 16]),
                message: vec![0x42, 1, 2],
            }],
        };
        let decoded: ClientMessage = decode(&encode(&message)).expect("decodes");
        assert_eq!(decoded, message);
    }

    #[test]
    fn document_id_travels_as_sixteen_bytes() {
        let id = DocumentId::from_random([6; 16]);
        let frame = encode(&DocSync {
            doc: id,
            message: vec![],
        });
        assert!(frame.windows(16).any(|w| w == id.as_bytes()));
    }

    #[test]
    fn large_message_is_compressed_and_round_trips() {
        let docs = (0..50)
            .map(|_| DocSync {
                doc: DocumentId::from_random([6; 16]),
                message: vec![0x42; 100],
            })
            .collect();
        let message = ClientMessage::Sync { docs };
        let frame = encode(&message);
        assert_eq!(frame[0], FRAME_DEFLATE);
        assert_eq!(decode::<ClientMessage>(&frame).expect("decodes"), message);
    }

    /// One compressor per thread serves frame after frame: each comes out whole, whatever
    /// came before it (a large frame, one not worth compressing, one a byte too long to
    /// gain anything), and a frame compression would not shorten goes plain.
    #[test]
    fn frames_after_frames_compress_alone_and_the_incompressible_go_plain() {
        let message = |count: usize, byte: u8| ClientMessage::Sync {
            docs: (0..count)
                .map(|i| DocSync {
                    doc: DocumentId::from_random([i as u8; 16]),
                    message: vec![byte; 100],
                })
                .collect(),
        };
        // Bytes no compressor shortens (xorshift), over the threshold.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..2_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let incompressible = ClientMessage::Sync {
            docs: vec![DocSync {
                doc: DocumentId::from_random([9; 16]),
                message: noise,
            }],
        };
        for round in 0..3 {
            for sent in [
                message(200, 0x42),
                incompressible.clone(),
                message(3, round),
            ] {
                let frame = encode(&sent);
                let mut cbor = Vec::new();
                ciborium::into_writer(&sent, &mut cbor).expect("encodes");
                let expected = if cbor.len() > COMPRESS_ABOVE_BYTES && sent != incompressible {
                    FRAME_DEFLATE
                } else {
                    FRAME_PLAIN
                };
                assert_eq!(frame[0], expected, "round {round}");
                assert!(frame.len() <= cbor.len() + 1);
                assert_eq!(decode::<ClientMessage>(&frame).expect("decodes"), sent);
            }
        }
    }

    #[test]
    fn deflate_bomb_is_refused() {
        let mut encoder =
            flate2::write::DeflateEncoder::new(vec![FRAME_DEFLATE], flate2::Compression::best());
        encoder
            .write_all(&vec![0u8; MAX_FRAME_BYTES + 10])
            .expect("compresses");
        let frame = encoder.finish().expect("finishes");
        assert!(decode::<ClientMessage>(&frame).is_err());
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(decode::<ClientMessage>(&[0x07, 0x00]).is_err());
        assert!(decode::<ClientMessage>(&[FRAME_DEFLATE, 0xff, 0xff]).is_err());
        assert!(decode::<ClientMessage>(&[0xff, 0x00, 0x13]).is_err());
        assert!(decode::<ClientMessage>(&[]).is_err());
    }

    #[test]
    fn negotiation_picks_newest_common_version() {
        assert_eq!(negotiate(&[1, 7]), Some(1));
        assert_eq!(negotiate(&[1, 2]), Some(2));
        assert_eq!(negotiate(&[2, 1]), Some(2));
        assert_eq!(negotiate(&[9]), None);
    }
}
