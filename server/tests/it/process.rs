//! The server process as an operator starts it (Linux with glibc).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The environment of a server started with `operator` set, read from `/proc` once it
/// listens.
fn environment_of_a_server_started_with(operator: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut running = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("MALLOC_ARENA_MAX")
        .envs(operator.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(running.stdout.take().expect("stdout")).lines();
    assert!(
        lines.any(|line| line.is_ok_and(|l| l.contains("is listening on"))),
        "the server did not start"
    );
    let environ = std::fs::read(format!("/proc/{}/environ", running.id())).expect("environ");
    running.kill().expect("stops");
    running.wait().expect("stopped");
    environ
        .split(|byte| *byte == 0)
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}

/// glibc's malloc arenas are bounded (the soak's RSS kept growing without), and an
/// operator's own setting is kept.
#[test]
fn the_server_bounds_glibcs_malloc_arenas_unless_the_operator_did() {
    let environment = environment_of_a_server_started_with(&[]);
    assert!(
        environment.iter().any(|e| e == "MALLOC_ARENA_MAX=1"),
        "{environment:?}"
    );
    let environment = environment_of_a_server_started_with(&[("MALLOC_ARENA_MAX", "4")]);
    assert!(
        environment.iter().any(|e| e == "MALLOC_ARENA_MAX=4"),
        "{environment:?}"
    );
    assert!(!environment.iter().any(|e| e == "MALLOC_ARENA_MAX=1"));
}
