//! The shape of the code, checked: the server's sync path and store know no record kind, so
//! adding a kind never touches them (only `shared` and the client do); and every message the
//! app shows by key has its translation.

use std::path::{Path, PathBuf};

use gatehouse_shared::RecordKind;

/// The Rust files of a module: `name.rs` and everything under `name/` but its unit tests.
fn module_files(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = src.join(format!("{name}.rs"));
    if file.is_file() {
        files.push(file);
    }
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                // A module's unit tests (`#[cfg(test)] mod tests;`) build real records.
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                files.push(path);
            }
        }
    }
    files
}

/// The ways code can name a kind: `patrol_log`, `PatrolLog`, `patrol log`.
fn names_of(kind: RecordKind) -> Vec<String> {
    let snake = kind.as_str().to_owned();
    let camel: String = snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    vec![snake.clone(), camel, snake.replace('_', " ")]
}

/// Lines of `text` outside its unit tests that name a record kind.
fn kinds_named(text: &str) -> Vec<(usize, String)> {
    // Unit tests build real records to store; the rule is about the code that runs.
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let names: Vec<String> = RecordKind::ALL
        .into_iter()
        .flat_map(names_of)
        .map(|name| name.to_lowercase())
        .collect();
    code.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.to_lowercase();
            names.iter().any(|name| line.contains(name.as_str()))
        })
        .map(|(number, line)| (number + 1, line.trim().to_owned()))
        .collect()
}

#[test]
fn sync_and_store_name_no_record_kind() {
    let src = crate_root().join("src");
    let mut files = module_files(&src, "sync");
    files.extend(module_files(&src, "store"));
    assert!(files.len() >= 2, "found the modules: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (number, line) in kinds_named(&text) {
            offences.push(format!("{}:{number}: {line}", file.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "the sync path and the store must not name a record kind:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_finds_a_kind_named_in_code_but_not_in_unit_tests() {
    let code = "use shared::record::read_record;\nlet log: PatrolLog = read(doc);\n";
    assert_eq!(
        kinds_named(code),
        [(2, "let log: PatrolLog = read(doc);".to_owned())]
    );
    assert_eq!(kinds_named("// one patrol log\n").len(), 1);
    let tests_only = "fn store() {}\n#[cfg(test)]\nmod tests { use super::PatrolLog; }\n";
    assert!(kinds_named(tests_only).is_empty());
}

/// The keys of notices and form messages the app shows (`notify("key", …)`, `("key", true)`):
/// quoted dotted keys right after `notify(` or `(` and followed by `, true)` / `, false)`.
fn message_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for (start, _) in text.match_indices('"') {
        let rest = &text[start + 1..];
        let Some(end) = rest.find('"') else { break };
        let key = &rest[..end];
        let is_key = key.contains('.')
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
        let before = &text[..start];
        let after = &rest[end + 1..];
        let shown = before.ends_with("notify(")
            || (before.ends_with('(')
                && (after.starts_with(", true)") || after.starts_with(", false)")));
        if is_key && shown {
            keys.push(key.to_owned());
        }
    }
    keys
}

#[test]
fn every_message_the_app_shows_has_a_translation() {
    let src = crate_root().join("../client/src");
    let table = std::fs::read_to_string(src.join("text.rs")).expect("text.rs");
    let mut missing = Vec::new();
    let mut seen = 0;
    for file in module_files(&src, "") {
        let text = std::fs::read_to_string(&file).expect("reads");
        for key in message_keys(&text) {
            seen += 1;
            if !table.contains(&format!("\"{key}\" =>")) {
                missing.push(format!("{}: {key}", file.display()));
            }
        }
    }
    assert!(seen > 20, "the scan finds the app's messages ({seen})");
    assert!(
        missing.is_empty(),
        "shown with no translation in client/src/text.rs (the user would read 内容不符合要求): {missing:?}"
    );
    assert_eq!(
        message_keys(r#"ctx.notify("a.b", true); message.set(Some(("c.d", false))); f("e.f")"#),
        vec!["a.b", "c.d"]
    );
}

/// This crate's folder, read when the test runs (cargo sets it), not where it was compiled: a
/// build cache shared by two clones must not send one clone's test to the other's files.
fn crate_root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("run by cargo")
        .into()
}
