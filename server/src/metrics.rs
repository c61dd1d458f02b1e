//! What operators watch, in the Prometheus text format (`GET /metrics`, behind the bearer
//! token set with `--metrics-token`): sync connections, frames, documents stored, refusals
//! by code and reason, group commit latency, documents and database size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use gatehouse_shared::protocol::{ErrorCode, ServerMessage};

/// Upper bounds (seconds) of the commit latency histogram's buckets.
const COMMIT_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The server's counters since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    frames: AtomicU64,
    documents_stored: AtomicU64,
    /// (code, problem key or "") → count.
    refusals: Mutex<BTreeMap<(String, String), u64>>,
    commits: Histogram,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket of `COMMIT_BUCKETS`, then the one past the last bound.
    counts: [AtomicU64; COMMIT_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// What is read from the store at each scrape.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub documents: u64,
    pub database_bytes: u64,
}

impl Metrics {
    /// A `sync` frame was read.
    pub fn frame(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    /// Documents whose new changes were stored.
    pub fn stored(&self, documents: usize) {
        self.documents_stored
            .fetch_add(documents as u64, Ordering::Relaxed);
    }

    /// Errors sent to a device: each counted by its code and each problem key it names.
    pub fn refused(&self, errors: &[ServerMessage]) {
        let mut refusals = self
            .refusals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for error in errors {
            if let ServerMessage::Error { code, problems, .. } = error {
                let code = code_name(*code);
                let mut keys: Vec<String> =
                    problems.iter().map(|p| p.key.as_str().to_owned()).collect();
                keys.sort();
                keys.dedup();
                if keys.is_empty() {
                    keys.push(String::new());
                }
                for key in keys {
                    *refusals.entry((code.to_owned(), key)).or_default() += 1;
                }
            }
        }
    }

    /// A group of frames was committed in `took`.
    pub fn committed(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = COMMIT_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(COMMIT_BUCKETS.len());
        self.commits.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.commits
            .sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The text exposition, with `connections` open now and what the store holds.
    pub fn render(&self, connections: usize, stored: Stored) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let plain = |value: u64| vec![(String::new(), value.to_string())];
        metric(
            "gatehouse_sync_connections",
            "gauge",
            "Sync connections open now.",
            &plain(connections as u64),
        );
        metric(
            "gatehouse_sync_frames_total",
            "counter",
            "Sync frames received from devices.",
            &plain(self.frames.load(Ordering::Relaxed)),
        );
        metric(
            "gatehouse_documents_stored_total",
            "counter",
            "Documents whose new changes were stored.",
            &plain(self.documents_stored.load(Ordering::Relaxed)),
        );
        let refusals: Vec<(String, String)> = self
            .refusals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|((code, key), count)| {
                (
                    format!("{{code=\"{code}\",reason=\"{key}\"}}"),
                    count.to_string(),
                )
            })
            .collect();
        metric(
            "gatehouse_refusals_total",
            "counter",
            "Errors sent to devices, by code and by each problem key they named.",
            &refusals,
        );
        let mut buckets = Vec::new();
        let mut cumulative = 0;
        for (i, count) in self.commits.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let bound = COMMIT_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            buckets.push((format!("_bucket{{le=\"{bound}\"}}"), cumulative.to_string()));
        }
        let sum = self.commits.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        buckets.push(("_sum".to_owned(), sum.to_string()));
        buckets.push(("_count".to_owned(), cumulative.to_string()));
        metric(
            "gatehouse_commit_seconds",
            "histogram",
            "Time to apply and commit one group of sync frames.",
            &buckets,
        );
        metric(
            "gatehouse_documents",
            "gauge",
            "Record documents stored.",
            &plain(stored.documents),
        );
        metric(
            "gatehouse_database_bytes",
            "gauge",
            "Size of the database file and its write-ahead log.",
            &plain(stored.database_bytes),
        );
        out
    }
}

fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::Unauthorized => "unauthorized",
        ErrorCode::DeviceRevoked => "device_revoked",
        ErrorCode::Malformed => "malformed",
        ErrorCode::BadSyncMessage => "bad_sync_message",
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::Rejected => "rejected",
        ErrorCode::Internal => "internal",
    }
}
