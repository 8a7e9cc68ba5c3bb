//! Every input the fuzz targets (`fuzz/`) were seeded with or ever found a
//! crash with, replayed through the same checks in the ordinary suite.
//! Found crashes live in `fuzz/regressions/<target>/`, one file each, named
//! for what they broke:
//!
//! - `workspace_source/github_repo_ending_in_git_git.json`: a GitHub repo
//!   named `r.git.git` was stored as `r.git`, which read back as `r` — a
//!   work order's repository changed across a restart. A repo name still
//!   ending in `.git` once the one suffix is stripped is now refused.
//! - `work_order_file/unknown_float_rewritten_differently.json`: an unknown
//!   field holding a 48-digit number was written back as `4.5525555555555554e47`,
//!   which serde_json's fast float parser read as a different double, so every
//!   rewrite changed it. serde_json's `float_roundtrip` (correctly rounded
//!   parsing) keeps a number the same across rewrites.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file under `fuzz/{seeds,regressions}/<target>/`.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let data = std::fs::read(e.path()).expect("read input");
            let name = e.path().display().to_string();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{name} fails the {target} checks");
            }
            n += 1;
        }
    }
    n
}

#[test]
fn rpc_frames() {
    assert!(replay("rpc_frames", checks::rpc_frames) >= 2);
}

#[test]
fn work_order_file() {
    assert!(replay("work_order_file", checks::work_order_file) >= 8);
}

#[test]
fn units() {
    assert!(replay("units", checks::units) >= 5);
}

#[test]
fn workspace_source() {
    assert!(replay("workspace_source", checks::workspace_source) >= 7);
}

#[test]
fn a_github_repo_still_ending_in_git_is_refused() {
    use agentgate::model::WorkspaceInput;
    let input: WorkspaceInput =
        serde_json::from_str(r#"{"type":"github","owner":"o","repo":"r.git.git"}"#).unwrap();
    let e = input.normalise(None).unwrap_err().to_string();
    assert!(e.contains("invalid GitHub owner/repo"), "{e}");
    let ok: WorkspaceInput =
        serde_json::from_str(r#"{"type":"github","owner":"o","repo":"r.git"}"#).unwrap();
    assert_eq!(ok.normalise(None).unwrap().describe(), "github:o/r");
}

#[test]
fn journal() {
    assert!(replay("journal", checks::journal) >= 3);
}

#[test]
fn the_journal_seeds_hold_what_their_names_say() {
    use agentgate::store::journal::records;
    let seed = |name: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/seeds/journal")
                .join(name),
        )
        .expect("seed")
    };
    assert_eq!(records(&seed("two_records")).len(), 2);
    assert_eq!(records(&seed("torn_second")).len(), 1);
    assert_eq!(records(&seed("other_generation")).len(), 1);
    assert!(records(&seed("zeros")).is_empty());
}
