//! Thousands of mutated frames against a running server: each gets an answer, the connection
//! keeps serving, and other connections are unaffected. Seeded; the seed is printed on failure
//! and can be replayed with GATEHOUSE_SEED.

use std::time::Duration;

use futures_util::SinkExt;
use gatehouse_shared::protocol::{self, ClientMessage, DocSync, ServerMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_tungstenite::tungstenite::Message;

use crate::device::{next_message, Device, Socket};
use crate::helpers::{spawn_app, GUARD, T0};

const FRAMES: usize = 3000;

fn mutate(bytes: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        if out.is_empty() {
            out.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..out.len());
        match rng.random_range(0..5) {
            0 => out[at] ^= 1 << rng.random_range(0..8),
            1 => out[at] = rng.random(),
            2 => out.truncate(at),
            3 => out.insert(at, rng.random()),
            _ => {
                out.remove(at);
            }
        }
    }
    out
}

/// Reads until the server has finished answering one frame; false if it closed.
async fn answered(socket: &mut Socket) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), next_message(socket)).await {
            Ok(Ok(Some(ServerMessage::Sync { .. } | ServerMessage::Pong { .. }))) => return true,
            Ok(Ok(Some(ServerMessage::Error {
                doc: None,
                fatal: false,
                ..
            }))) => return true,
            Ok(Ok(Some(_))) => continue,
            _ => return false,
        }
    }
}

#[tokio::test]
async fn server_answers_every_mutated_frame_and_keeps_serving() {
    let seed = std::env::var("GATEHOUSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let app = spawn_app().await;
    // Valid material to mutate: a phone's first and second sync messages for a few records.
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    for i in 0..3 {
        phone.start_round(
            &guard.user.estate_id,
            &guard.user.id,
            &format!("round {i}"),
            T0 + i,
        );
    }
    let ids: Vec<_> = phone.docs.keys().copied().collect();
    let first: Vec<DocSync> = ids
        .iter()
        .filter_map(|id| phone.session.generate(*id, &phone.docs[id]))
        .collect();
    let valid_frame = protocol::encode(&ClientMessage::Sync {
        docs: first.clone(),
    });

    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    for n in 0..FRAMES {
        let frame = if n % 2 == 0 {
            mutate(&valid_frame, &mut rng)
        } else {
            // A well-formed frame whose Automerge messages are mutated.
            let docs = first
                .iter()
                .map(|d| DocSync {
                    doc: d.doc,
                    message: mutate(&d.message, &mut rng),
                })
                .collect();
            protocol::encode(&ClientMessage::Sync { docs })
        };
        socket
            .send(Message::Binary(frame.into()))
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: send failed at {n}: {e}"));
        assert!(
            answered(&mut socket).await,
            "seed {seed}: frame {n} got no answer or closed the connection"
        );
    }

    // The same connection still pings, and a fresh device still syncs.
    socket
        .send(Message::Binary(
            protocol::encode(&ClientMessage::Ping { nonce: 1 }).into(),
        ))
        .await
        .expect("sent");
    assert!(
        answered(&mut socket).await,
        "seed {seed}: no pong after the mutated frames"
    );
    let mut other = Device::new();
    let other_session = app.session_on(&other, GUARD).await;
    let id = other.start_round(&guard.user.estate_id, &guard.user.id, "after the storm", T0);
    let mut fresh = Device::connect_ok(app.addr, &other_session.token)
        .await
        .expect("connects");
    other.sync(&mut fresh).await.expect("syncs");
    assert!(
        other.is_stored(id),
        "seed {seed}: server stopped storing records"
    );
}
