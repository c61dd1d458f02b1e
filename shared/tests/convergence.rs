//! Replicas of one patrol log make random edits and exchange sync messages in random order,
//! with drops and duplicates; once the network calms down every replica holds the same log
//! and no edit is lost. The failing seed is printed by proptest on failure.

mod network;

use std::collections::BTreeSet;

use automerge::ActorId;
use gatehouse_shared::record::{create_document, edit_document, read_record};
use gatehouse_shared::{
    CheckpointVisit, DocumentId, EntryId, Finding, PatrolLog, Remark, Role, Severity, Writer,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const T0: i64 = 1_780_000_000_000;
const REPLICAS: usize = 3;

/// Replica 0 is the guard's phone; the others are two clerks at their desks.
fn writer(replica: usize) -> Writer<'static> {
    static ESTATES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| vec!["estate-1".to_owned()]);
    let (user_id, role) = match replica {
        0 => ("guard", Role::Guard),
        1 => ("clerk-1", Role::Office),
        _ => ("clerk-2", Role::Office),
    };
    Writer {
        user_id,
        role,
        estates: &ESTATES,
        device_id: "device",
        device_key: &[],
        verify_key: gatehouse_shared::signature::ed25519_verifies,
        estate_settings: &[],
    }
}

/// An edit the replica's writer may make: the guard adds visits and findings, renames the
/// round or ends it while it is open; clerks add remarks.
fn random_edit(
    replicas: &mut [network::Replica],
    who: usize,
    id: DocumentId,
    rng: &mut StdRng,
    step: i64,
    written: &mut BTreeSet<String>,
) {
    let now = T0 + step;
    let writer = writer(who);
    let entry = EntryId::from_random(rng.random());
    let choice = rng.random_range(0..5);
    let replica = &mut replicas[who];
    let ended = read_record(&replica.doc)
        .ok()
        .and_then(|r| r.as_patrol_log().map(PatrolLog::is_ended))
        .unwrap_or(true);
    if writer.role == Role::Guard && ended {
        return;
    }
    let log = edit_document(
        &mut replica.doc,
        id,
        &writer,
        now,
        |log: &mut PatrolLog| match (writer.role, choice) {
            (Role::Office, _) => log.remarks.push(
                Remark::new(entry, &format!("remark {step}"), writer.user_id, "李", now)
                    .expect("valid"),
            ),
            (_, 0 | 1) => log.visits.push(
                CheckpointVisit::new(
                    entry,
                    writer.user_id,
                    &format!("checkpoint {step}"),
                    now,
                    "",
                )
                .expect("valid"),
            ),
            (_, 2) => log.findings.push(
                Finding::new(
                    entry,
                    writer.user_id,
                    "leak",
                    "B2",
                    Severity::Low,
                    step % 2 == 0,
                    now,
                )
                .expect("valid"),
            ),
            (_, 3) => log.route = format!("route {step}"),
            _ => log.ended_at = Some(now),
        },
    )
    .expect("edit applies");
    written.extend(log.visits.iter().map(|v| v.id.clone()));
    written.extend(log.findings.iter().map(|f| f.id.clone()));
    written.extend(log.remarks.iter().map(|r| r.id.clone()));
}

fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let id = DocumentId::from_random(rng.random());
    let log = PatrolLog::start("estate-1", "guard", "王保安", "night", T0).expect("valid");
    let origin = create_document(ActorId::random(), &log, T0).expect("created");
    let mut network = network::Network::new(id, &origin, REPLICAS);
    let mut written = BTreeSet::new();

    // Chaos: edits, random delivery order, drops and duplicates.
    for step in 1..=60 {
        if rng.random_bool(0.4) {
            let who = rng.random_range(0..REPLICAS);
            random_edit(&mut network.replicas, who, id, &mut rng, step, &mut written);
        }
        network.chaos_step(&mut rng);
    }

    // Calm: every link reconnects, messages are delivered in order until nobody speaks.
    assert!(network.calm(), "seed {seed}: replicas never went quiet");
    let replicas = &network.replicas;
    let heads = replicas[0].doc.get_heads();
    let first = read_record(&replicas[0].doc).expect("reads");
    for (i, replica) in replicas.iter().enumerate() {
        assert_eq!(
            replica.doc.get_heads(),
            heads,
            "seed {seed}: replica {i} heads differ"
        );
        assert_eq!(
            read_record(&replica.doc).expect("reads"),
            first,
            "seed {seed}: replica {i} differs"
        );
    }
    let first = first.as_patrol_log().expect("a patrol log");
    let kept: BTreeSet<String> = first
        .visits
        .iter()
        .map(|v| v.id.clone())
        .chain(first.findings.iter().map(|f| f.id.clone()))
        .chain(first.remarks.iter().map(|r| r.id.clone()))
        .collect();
    assert_eq!(kept, written, "seed {seed}: an added entry was lost");
    // The merge of edits each valid on its own replica is itself a valid record.
    assert_eq!(
        read_record(&replicas[0].doc).expect("reads").validate(),
        [],
        "seed {seed}: the merged round breaks a rule"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn replicas_converge_despite_reordering_drops_and_duplicates(seed in any::<u64>()) {
        run(seed);
    }
}
