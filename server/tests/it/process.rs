//! The server process as an operator starts it (Linux).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The names of the threads of a server started with `environment`, read from `/proc` once
/// it listens.
fn threads_of_a_server_started_with(environment: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut running = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("_RJEM_MALLOC_CONF")
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(running.stdout.take().expect("stdout")).lines();
    assert!(
        lines.any(|line| line.is_ok_and(|l| l.contains("is listening on"))),
        "the server did not start"
    );
    let threads = std::fs::read_dir(format!("/proc/{}/task", running.id()))
        .expect("tasks")
        .map(|task| {
            let comm = task.expect("task").path().join("comm");
            std::fs::read_to_string(comm)
                .expect("comm")
                .trim()
                .to_owned()
        })
        .collect();
    running.kill().expect("stops");
    running.wait().expect("stopped");
    threads
}

/// The server allocates through jemalloc, which returns the pages freed after a wave of
/// phones to the system from a background thread (with the C library's malloc the soak's
/// RSS kept growing, or every thread waited on one lock); an operator's own setting wins.
#[test]
fn the_servers_allocator_returns_freed_memory_from_a_thread_of_its_own() {
    let threads = threads_of_a_server_started_with(&[]);
    assert!(
        threads.iter().any(|name| name == "jemalloc_bg_thd"),
        "{threads:?}"
    );
    let threads =
        threads_of_a_server_started_with(&[("_RJEM_MALLOC_CONF", "background_thread:false")]);
    assert!(
        !threads.iter().any(|name| name == "jemalloc_bg_thd"),
        "{threads:?}"
    );
}
