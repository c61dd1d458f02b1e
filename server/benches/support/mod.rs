//! What the benchmarks share: the server binary run as its own process on a temporary
//! database, and its CPU time and memory read from `/proc`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

/// Linux's USER_HZ, the unit of utime and stime in /proc.
const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// The server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub addr: std::net::SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the release server on `data_dir` with `args` beside the listen address and the
    /// data directory; returns once it listens.
    pub fn start(data_dir: &Path, args: &[&str]) -> Result<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                bail!("server exited before listening")
            };
            if let Some(url) = line?.strip_prefix("Gatehouse is listening on ") {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let addr = url
            .trim_start_matches("http://")
            .parse()
            .context("listen address")?;
        Ok(Self { child, url, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A process's CPU time (user + system), in microseconds.
pub fn cpu_us(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) * 1_000_000 / CLOCK_TICKS_PER_SECOND)
}

/// CPU microseconds (user + system) the threads of process `pid` whose name starts with
/// `name` have used (Linux truncates a thread's name to 15 bytes).
pub fn thread_cpu_us(pid: u32, name: &str) -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Ok(stat) = std::fs::read_to_string(task?.path().join("stat")) else {
            continue; // the thread ended meanwhile
        };
        let (before, after_name) = stat.rsplit_once(')').context("malformed stat")?;
        let comm = before.split_once('(').context("malformed stat")?.1;
        if !name.starts_with(comm) && !comm.starts_with(name) {
            continue;
        }
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let utime: u64 = fields.get(11).context("no utime")?.parse()?;
        let stime: u64 = fields.get(12).context("no stime")?.parse()?;
        total += (utime + stime) * 1_000_000 / CLOCK_TICKS_PER_SECOND;
    }
    Ok(total)
}

/// A process's resident memory and thread count, from `/proc/<pid>/status`: (KiB, threads).
pub fn rss_kib_and_threads(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name}"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .with_context(|| format!("empty {name}"))?
            .parse()?)
    };
    Ok((field("VmRSS:")?, field("Threads:")?))
}

/// The `p`-th percentile (0-100) of sorted `values`, nearest rank.
pub fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// The server's resident memory in parts, in KiB: anonymous (its heap, SQLite's page caches
/// included) and file-backed or shared (the binary, SQLite's WAL index).
pub fn rss_parts(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("RssAnon:"), field("RssFile:") + field("RssShmem:")))
}

/// The machine's load average over the last minute (other work slows the server too).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// The server's group commit latency histogram, read from its `/metrics`: each bucket's
/// upper bound in seconds (`inf` last) with its cumulative count; `token` is the one the
/// server was started with (`--metrics-token`).
pub async fn commit_histogram(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<Vec<(f64, u64)>> {
    let text = client
        .get(format!("{url}/metrics"))
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut commits = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("gatehouse_commit_seconds_bucket{le=\"") else {
            continue;
        };
        let (bound, count) = rest.split_once("\"} ").context("malformed bucket")?;
        let bound = if bound == "+Inf" {
            f64::INFINITY
        } else {
            bound.parse()?
        };
        commits.push((bound, count.trim().parse()?));
    }
    Ok(commits)
}

/// How many commits between two scrapes of the histogram took longer than `seconds`, one of
/// its bounds (any other value, 0 say, counts them all).
pub fn commits_over(before: &[(f64, u64)], after: &[(f64, u64)], seconds: f64) -> u64 {
    let count = |buckets: &[(f64, u64)]| -> (u64, u64) {
        let all = buckets.last().map_or(0, |(_, n)| *n);
        let within = buckets
            .iter()
            .find(|(bound, _)| *bound == seconds)
            .map_or(0, |(_, n)| *n);
        (all, within)
    };
    let ((all_before, within_before), (all_after, within_after)) = (count(before), count(after));
    (all_after - within_after).saturating_sub(all_before - within_before)
}

/// The size of a file in MB, 0 if there is none.
pub fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}
