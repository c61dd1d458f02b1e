//! A network of replicas of one document for the convergence tests: Automerge sync messages
//! delivered in random order, dropped, duplicated and cut off (chaos), then a calm phase in
//! which every link reconnects and messages flow in order until nobody has anything to say.

// Each test binary uses a part of the harness.
#![allow(dead_code)]
use std::collections::VecDeque;

use automerge::{ActorId, Automerge};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::DocumentId;
use rand::rngs::StdRng;
use rand::Rng;

pub struct Replica {
    pub doc: Automerge,
    /// One sync session per other replica.
    peers: Vec<SyncSession>,
}

struct InFlight {
    from: usize,
    to: usize,
    message: Vec<u8>,
}

pub struct Network {
    pub id: DocumentId,
    pub replicas: Vec<Replica>,
    in_flight: VecDeque<InFlight>,
}

impl Network {
    /// `count` replicas of `origin`, each writing with its own random actor.
    pub fn new(id: DocumentId, origin: &Automerge, count: usize) -> Self {
        Self {
            id,
            replicas: (0..count)
                .map(|_| Replica {
                    doc: origin.fork().with_actor(ActorId::random()),
                    peers: (0..count).map(|_| SyncSession::new()).collect(),
                })
                .collect(),
            in_flight: VecDeque::new(),
        }
    }

    fn send_all(&mut self) {
        let count = self.replicas.len();
        for (from, replica) in self.replicas.iter_mut().enumerate() {
            for to in (0..count).filter(|to| *to != from) {
                if let Some(m) = replica.peers[to].generate(self.id, &replica.doc) {
                    self.in_flight.push_back(InFlight {
                        from,
                        to,
                        message: m.message,
                    });
                }
            }
        }
    }

    fn deliver(&mut self, m: &InFlight) {
        let replica = &mut self.replicas[m.to];
        replica.peers[m.from]
            .receive(self.id, &mut replica.doc, &m.message)
            .expect("valid message applies");
    }

    /// Drops the link between two replicas the way a lost connection does.
    fn reset_link(&mut self, a: usize, b: usize) {
        self.replicas[a].peers[b].disconnected();
        self.replicas[b].peers[a].disconnected();
    }

    /// One step of chaos: everyone speaks, then a random number of messages is delivered in
    /// random order; one in ten cuts its link instead, one in ten arrives twice.
    pub fn chaos_step(&mut self, rng: &mut StdRng) {
        self.send_all();
        let deliveries = rng.random_range(0..=self.in_flight.len());
        for _ in 0..deliveries {
            let pick = rng.random_range(0..self.in_flight.len());
            let Some(m) = self.in_flight.remove(pick) else {
                break;
            };
            match rng.random_range(0..10) {
                0 => self.reset_link(m.from, m.to),
                1 => {
                    self.deliver(&m);
                    self.deliver(&m);
                }
                _ => self.deliver(&m),
            }
        }
    }

    /// Every link reconnects and messages are delivered in order until nobody speaks;
    /// whether the network went quiet.
    pub fn calm(&mut self) -> bool {
        self.in_flight.clear();
        for replica in self.replicas.iter_mut() {
            for peer in replica.peers.iter_mut() {
                peer.disconnected();
            }
        }
        for _ in 0..100 {
            self.send_all();
            if self.in_flight.is_empty() {
                return true;
            }
            while let Some(m) = self.in_flight.pop_front() {
                self.deliver(&m);
            }
        }
        false
    }

    /// Whether every replica holds the same heads.
    pub fn converged(&self) -> bool {
        let heads = self.replicas[0].doc.get_heads();
        self.replicas.iter().all(|r| r.doc.get_heads() == heads)
    }
}
