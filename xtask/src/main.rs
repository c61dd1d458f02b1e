//! `cargo xtask`: sets the machine up, builds, runs and tests Gatehouse.
//!
//! - `cargo xtask run`: builds the app and the server and serves the demo estate.
//! - `cargo xtask test`: every check: formatting, clippy, unit and integration tests, the
//!   release build of the app with its size budget, and the end-to-end tests in Chromium.
//! - `cargo xtask bench`: the reconnect, join, office list and wave benchmarks, the transfer
//!   figures and the cold start in Chromium.
//! - `cargo xtask fuzz [--seconds N]`: the sync frame fuzz target (also part of `test`).
//! - `cargo xtask crash [--kills N] [--seed S]`: the server killed N times while phones sync
//!   (`test` runs 8 kills).
//! - `cargo xtask simulate [--seeds N] [--seed S]`: the deterministic simulation of phones,
//!   server and network (`test` runs 10 seeds).
//! - `cargo xtask soak [--minutes N]`: 50 phones writing through a real server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod build;
use build::{build_client, transfer_figures};

/// Most the app's WebAssembly may weigh, gzip-compressed. Raised from 700 KB when devices,
/// corrections, the export, the admin and account screens took the app from 643 KB to
/// 721 KB (issue 3). Automerge and its column store are about half of the code. Lowered to
/// 710 KB once screens were loaded lazily (703 KB), then 712 KB when the revoked device, the
/// correction of a record refused at its start and the first screen's hand-over took it to
/// 710.2 KB (issue 9), then 722 KB when a sixth kind, the patrol route, and the rounds on
/// routes took it to 721 KB (issue 9: every kind's rules and document reading are in the main
/// module, as sync judges every document), then 726 KB for offline sign-in's form and what
/// forgets it (725.1 KB; its KDF and verifier load lazily), then 743 KB when a seventh kind,
/// the found item, came (741.1 KB: reading its documents, nine entry types, is in the main
/// module with every kind's; its screens load lazily), then 744 KB for the estates' settings
/// the rules read on the phone and the `resync` message (743.2 KB; fetching, keeping and
/// reading the settings load lazily), then 745 KB when sync kept aside the changes that
/// arrive before what they depend on (744.8 KB: `SyncSession::receive` is the phone's too,
/// and it loads them incrementally), then down to 732 KB when fetching the office list's
/// first page (its JSON reading of the summaries) loaded lazily (731.0 KB, with protocol
/// version 3's `stored` and one-round-trip new records, which took 0.5 KB). Where the rest
/// goes (twiggy on the split main module before wasm-opt): the serde code reading office
/// summaries from `records` messages (`SummaryDetail`), the notice-key table `text::tr`
/// (9.6 KB), Automerge's loading. Then down to 232 KB when the records engine (Automerge,
/// every kind's document reading and rules, the sync driver, the export) and a record's
/// screen moved into chunks loaded once the first screen shows (225.1 KB; `client/src/
/// engine.rs`): the main module holds the shell, the sign-in form and the home screen's frame.
/// What is big in it now (twiggy, before wasm-opt): Leptos's view and reactive code (tachys
/// and reactive_graph, 160 KB), `core`'s formatting, the notice-key table `text::tr`, the
/// device identity's key handling.
const WASM_GZIP_BUDGET: usize = 232 * 1024;
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Where in `client/dist` each build's code goes, in a folder named by its hash (the
/// server's `APP_DIR`: it lets browsers keep what is there for good).
const APP_DIR: &str = "app";
const CHROMIUM: &str = "/usr/bin/chromium";
/// cargo-fuzz, installed from crates.io when missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// How long `cargo xtask test` fuzzes the sync frame target.
const FUZZ_SECONDS: u32 = 60;

#[derive(Parser)]
#[command(about = "Gatehouse build and test tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build everything and start the server with demo data at http://127.0.0.1:8080.
    Run {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Run every check, end-to-end tests included.
    Test {
        /// Skip the end-to-end tests (they need Chromium).
        #[arg(long)]
        no_e2e: bool,
    },
    /// Build the web app into client/dist.
    BuildClient,
    /// Run the benchmarks: reconnect, wave, transfer.
    Bench,
    /// Kill the server N times while phones sync; check that nothing acknowledged is lost.
    Crash {
        #[arg(long, default_value_t = 200)]
        kills: u32,
        /// Kill at the moments this seed gives (printed by every run).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run the deterministic simulation of phones, server and network over many seeds.
    Simulate {
        #[arg(long, default_value_t = 500)]
        seeds: u64,
        /// The first of the seeds (random when not given; printed by every run).
        #[arg(long)]
        from: Option<u64>,
        /// Run this one seed only (a failing one again, exactly).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// 50 phones writing and syncing through a real server for N minutes.
    Soak {
        #[arg(long, default_value_t = 10)]
        minutes: u32,
    },
    /// Fuzz the server's sync frame handling (cargo-fuzz).
    Fuzz {
        /// How long to run.
        #[arg(long, default_value_t = FUZZ_SECONDS)]
        seconds: u32,
    },
}

fn main() -> Result<()> {
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match Cli::parse().task {
        Task::Run { listen } => {
            setup_wasm_tools()?;
            setup_npm()?;
            build_client()?;
            step("starting the server with demo data");
            run(cargo().args([
                "run",
                "-p",
                "gatehouse-server",
                "--",
                "--demo",
                "--listen",
                &listen,
                "--static-dir",
                "client/dist",
            ]))
        }
        Task::Test { no_e2e } => test(no_e2e),
        Task::BuildClient => {
            setup_wasm_tools()?;
            setup_npm()?;
            build_client()
        }
        Task::Fuzz { seconds } => fuzz(seconds),
        Task::Crash { kills, seed } => {
            let mut args = vec!["--kills".to_owned(), kills.to_string()];
            if let Some(seed) = seed {
                args.extend(["--seed".to_owned(), seed.to_string()]);
            }
            run(cargo()
                .args([
                    "test",
                    "--release",
                    "-p",
                    "gatehouse-server",
                    "--test",
                    "crash",
                    "--",
                ])
                .args(args))
        }
        Task::Simulate { seeds, from, seed } => {
            let mut args = vec!["--seeds".to_owned(), seeds.to_string()];
            if let Some(from) = from {
                args.extend(["--from".to_owned(), from.to_string()]);
            }
            if let Some(seed) = seed {
                args.extend(["--seed".to_owned(), seed.to_string()]);
            }
            run(cargo()
                .args([
                    "test",
                    "--release",
                    "-p",
                    "gatehouse-server",
                    "--test",
                    "simulate",
                    "--",
                ])
                .args(args))
        }
        Task::Soak { minutes } => run(cargo()
            .args([
                "bench",
                "-p",
                "gatehouse-server",
                "--bench",
                "soak",
                "--",
                "--minutes",
            ])
            .arg(minutes.to_string())),
        Task::Bench => {
            step("reconnect and join benchmarks (release build)");
            run(cargo().args(["bench", "-p", "gatehouse-server", "--bench", "reconnect"]))?;
            step("the office list with 100,000 records (release build)");
            run(cargo().args(["bench", "-p", "gatehouse-server", "--bench", "office"]))?;
            step("a whole estate reconnecting at once (release build)");
            run(cargo().args(["bench", "-p", "gatehouse-server", "--bench", "wave"]))?;
            step("transfer: the app as built, compressed as served");
            setup_wasm_tools()?;
            setup_npm()?;
            build_client()?;
            let (shell_br, wasm_gzip, wasm_raw) = transfer_figures(Path::new("client/dist"))?;
            println!(
                "transfer-bench shell_bytes_br={shell_br} wasm_bytes_gzip={wasm_gzip} wasm_bytes_raw={wasm_raw}"
            );
            step("cold start in Chromium: CPU 4x slower, Slow 4G");
            setup_chromium()?;
            run(cargo().args([
                "build",
                "-p",
                "gatehouse-server",
                "--bin",
                "gatehouse-server",
            ]))?;
            let server = start_server()?;
            run(Command::new("node")
                .args(["bench/coldstart.js"])
                .current_dir("e2e")
                .env("BASE_URL", &server.url))
        }
    }
}

/// The checkout `cargo xtask` was called from: the nearest directory up from the working
/// directory holding the workspace and `xtask/`. Not the compile-time manifest path: with a
/// shared target directory the xtask binary may have been built from another checkout.
fn project_root() -> PathBuf {
    let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    start
        .ancestors()
        .find(|dir| {
            dir.join("Cargo.toml").is_file() && dir.join("xtask").join("Cargo.toml").is_file()
        })
        .map(Path::to_path_buf)
        .unwrap_or(start)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

fn step(what: &str) {
    println!("\n==> {what}");
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The version of a package as the lock file pins it.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("reading Cargo.lock")?;
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + marker.len();
    let end = lock[start..].find('"').context("malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_owned())
}

/// The wasm32 target and wasm-bindgen-cli at exactly the lock file's wasm-bindgen version.
fn setup_wasm_tools() -> Result<()> {
    step("checking the wasm32 target");
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("adding {WASM_TARGET}");
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
            .context("could not add the wasm32 target with rustup")?;
    }
    let wanted = locked_version("wasm-bindgen")?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(wanted.as_str()) {
        step(&format!(
            "installing wasm-bindgen-cli {wanted} (found: {})",
            if have.is_empty() { "none" } else { &have }
        ));
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted]))
            .context("could not install wasm-bindgen-cli from crates.io")?;
    }
    Ok(())
}

/// The npm packages of the e2e tests, which also bring wasm-opt (binaryen).
fn setup_npm() -> Result<()> {
    if Path::new("e2e/node_modules/.bin/wasm-opt").exists()
        && Path::new("e2e/node_modules/@playwright/test").exists()
        && Path::new("e2e/node_modules/@axe-core/playwright").exists()
    {
        return Ok(());
    }
    step("installing the e2e npm packages (Playwright without browsers, axe, binaryen)");
    let mut npm = Command::new("npm");
    npm.current_dir("e2e")
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    if Path::new("e2e/package-lock.json").exists() {
        npm.args(["ci", "--no-audit", "--no-fund"]);
    } else {
        npm.args(["install", "--no-audit", "--no-fund"]);
    }
    run(&mut npm).context("npm could not install the e2e packages; is Node.js installed?")
}

/// Debian's Chromium, installed when missing and we are root.
fn setup_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    let root = output(Command::new("id").arg("-u")).as_deref() == Some("0");
    if !root {
        bail!("{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) and rerun");
    }
    step("installing Debian's chromium");
    run(Command::new("apt-get").arg("update")).context("apt-get update failed")?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .context("apt-get could not install chromium")
}

fn test(no_e2e: bool) -> Result<()> {
    step("formatting");
    run(cargo().args(["fmt", "--all", "--", "--check"]))
        .context("run `cargo fmt --all` to fix formatting")?;
    setup_wasm_tools()?;
    step("clippy (native crates)");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--exclude",
        "gatehouse-client",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("clippy (web app, wasm32)");
    run(cargo().args([
        "clippy",
        "-p",
        "gatehouse-client",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    step("unit, property and integration tests");
    run(cargo().args([
        "test",
        "-p",
        "gatehouse-shared",
        "-p",
        "gatehouse-server",
        "-p",
        "xtask",
    ]))?;
    fuzz(FUZZ_SECONDS)?;
    setup_npm()?;
    build_client()?;
    if no_e2e {
        println!("end-to-end tests skipped (--no-e2e)");
        return Ok(());
    }
    setup_chromium()?;
    step("building the server for the end-to-end tests");
    run(cargo().args([
        "build",
        "-p",
        "gatehouse-server",
        "--bin",
        "gatehouse-server",
    ]))?;
    e2e()
}

/// Builds the sync-frame fuzz target with cargo-fuzz on stable (no sanitizer) and runs it for
/// `seconds`, from an empty corpus each time; any crash fails the run.
fn fuzz(seconds: u32) -> Result<()> {
    let have = output(cargo().args(["fuzz", "--version"])).unwrap_or_default();
    if !have.contains(CARGO_FUZZ_VERSION) {
        step(&format!("installing cargo-fuzz {CARGO_FUZZ_VERSION}"));
        run(cargo().args([
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            CARGO_FUZZ_VERSION,
        ]))
        .context("could not install cargo-fuzz from crates.io")?;
    }
    step(&format!(
        "fuzzing sync frames for {seconds} s (cargo-fuzz, --sanitizer none)"
    ));
    let fuzz_target_dir = target_dir().join("fuzz");
    // Built first with its output shown; the run's own output is kept for the summary.
    run(cargo()
        .args(["fuzz", "build", "sync_frame", "--sanitizer", "none", "-O"])
        .current_dir("fuzz")
        // Its own target directory: the instrumented build must not evict the normal one.
        .env("CARGO_TARGET_DIR", &fuzz_target_dir))?;
    let corpus = std::env::temp_dir().join(format!("gatehouse-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&corpus);
    std::fs::create_dir_all(&corpus)?;
    let corpus = TempDir(corpus);
    let result = cargo()
        .args(["fuzz", "run", "sync_frame", "--sanitizer", "none", "-O"])
        .arg(&corpus.0)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ])
        .current_dir("fuzz")
        .env("CARGO_TARGET_DIR", &fuzz_target_dir)
        .output()
        .context("could not start cargo fuzz")?;
    let log = String::from_utf8_lossy(&result.stderr);
    let runs = log
        .lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .map(str::trim)
        .unwrap_or("?");
    if !result.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
        bail!(
            "the fuzz target failed after {runs} inputs (crash input saved under fuzz/artifacts)"
        );
    }
    println!("fuzz: {runs} inputs in {seconds} s, no crash");
    Ok(())
}

/// A server process on a fresh database, stopped when dropped.
struct ServerProcess {
    child: Child,
    url: String,
    _data: TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The debug server `cargo xtask test` builds and runs the e2e scenarios against.
fn server_binary() -> PathBuf {
    target_dir().join("debug").join("gatehouse-server")
}

fn start_server() -> Result<ServerProcess> {
    let data = std::env::temp_dir().join(format!("gatehouse-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let data = TempDir(data);
    let mut child = Command::new(server_binary())
        .args([
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--static-dir",
            "client/dist",
            "--data-dir",
        ])
        .arg(&data.0)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the server")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let Some(line) = lines.next() else {
            bail!("the server exited before listening")
        };
        let line = line?;
        if let Some(url) = line.strip_prefix("Gatehouse is listening on ") {
            break url.trim().to_owned();
        }
        if Instant::now() > deadline {
            bail!("the server did not start listening within 30 s");
        }
    };
    // Keep draining the server's output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Ok(ServerProcess {
        child,
        url,
        _data: data,
    })
}

fn e2e() -> Result<()> {
    let server = start_server()?;
    step(&format!(
        "end-to-end tests in Chromium against {}",
        server.url
    ));
    run(Command::new("npx")
        .args(["playwright", "test"])
        .current_dir("e2e")
        .env("BASE_URL", &server.url)
        // For the scenario that deploys builds into a server of its own.
        .env("GATEHOUSE_SERVER", server_binary())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_pins_wasm_bindgen() {
        std::env::set_current_dir(project_root()).expect("root exists");
        let version = locked_version("wasm-bindgen").expect("wasm-bindgen is locked");
        assert!(version.starts_with("0.2."), "{version}");
    }
}
