//! The shell completions in `completions/` and the man pages in `man/` are
//! generated from the clap definitions and committed; this test fails when they
//! differ from what the current CLI generates. Regenerate them with
//!
//!     AGENTGATE_REGENERATE=1 cargo test --test cli_generated
//!
//! It also checks that every flag's help text is there and names its default.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use agentgate::cli::{Cli, generated_files};
use clap::CommandFactory;

const REGENERATE: &str = "AGENTGATE_REGENERATE=1 cargo test --test cli_generated";
const DIRS: [&str; 2] = ["completions", "man"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `completions/` and `man/` now, relative to the repository.
fn on_disk() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in DIRS {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                out.insert(format!("{dir}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
fn completions_and_man_pages_are_current() {
    let files = generated_files();
    let wanted: BTreeSet<String> = files.iter().map(|(p, _)| p.clone()).collect();
    if std::env::var_os("AGENTGATE_REGENERATE").is_some() {
        for dir in DIRS {
            std::fs::create_dir_all(repo().join(dir)).unwrap();
        }
        for old in on_disk().difference(&wanted) {
            std::fs::remove_file(repo().join(old)).unwrap();
        }
        for (path, content) in &files {
            std::fs::write(repo().join(path), content).unwrap();
        }
        eprintln!("regenerated {} files", files.len());
        return;
    }
    let mut problems = Vec::new();
    for (path, content) in &files {
        match std::fs::read(repo().join(path)) {
            Ok(c) if c == *content => {}
            Ok(_) => problems.push(format!("{path} differs")),
            Err(_) => problems.push(format!("{path} is missing")),
        }
    }
    for extra in on_disk().difference(&wanted) {
        problems.push(format!("{extra} is no longer generated"));
    }
    assert!(
        problems.is_empty(),
        "completions/man pages are stale ({}); regenerate them with `{REGENERATE}` and commit the result",
        problems.join(", ")
    );
}

#[test]
fn there_are_completions_for_three_shells_and_a_man_page_per_command() {
    let names: BTreeSet<String> = generated_files().into_iter().map(|(p, _)| p).collect();
    for want in [
        "completions/agentgate.bash",
        "completions/_agentgate",
        "completions/agentgate.fish",
        "man/agentgate.1",
        "man/agentgate-daemon.1",
        "man/agentgate-daemon-stop.1",
        "man/agentgate-submit.1",
        "man/agentgate-queue.1",
        "man/agentgate-queue-list.1",
        "man/agentgate-queue-logs.1",
        "man/agentgate-queue-wait.1",
        "man/agentgate-completions.1",
    ] {
        assert!(names.contains(want), "{want} not generated: {names:?}");
    }
}

#[test]
fn the_completions_command_prints_the_committed_scripts() {
    for (shell, file) in [
        ("bash", "agentgate.bash"),
        ("zsh", "_agentgate"),
        ("fish", "agentgate.fish"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_agentgate"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let want = generated_files()
            .into_iter()
            .find(|(p, _)| p == &format!("completions/{file}"))
            .map(|(_, c)| c)
            .unwrap();
        assert_eq!(out.stdout, want, "{shell}");
    }
}

/// `--help` explains every flag, and every option that takes a value names its
/// default (`[default: ...]`) unless it is required.
#[test]
fn every_flag_is_explained_with_its_default() {
    fn check(cmd: &clap::Command, path: &str, problems: &mut Vec<String>) {
        if cmd.get_about().is_none() {
            problems.push(format!("{path}: no description"));
        }
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            if help.is_empty() {
                problems.push(format!("{path} {id}: no help"));
                continue;
            }
            let takes_value = arg.get_action().takes_values();
            if arg.is_positional() || !takes_value || arg.is_required_set() {
                continue;
            }
            if !help.contains("[default:") && arg.get_default_values().is_empty() {
                problems.push(format!("{path} --{id}: help does not name the default"));
            }
        }
        for sub in cmd.get_subcommands() {
            check(sub, &format!("{path} {}", sub.get_name()), problems);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut problems = Vec::new();
    check(&cmd, "agentgate", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}
