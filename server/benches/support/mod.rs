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
