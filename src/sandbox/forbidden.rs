//! AgentGate's `policies.forbiddenPatterns`: globs (`**/.env`, `**/*.pem`,
//! `**/secrets/**`) of files that must not be in the workspace when a run
//! ends, checked as AgentGate's L0 contract checks them: files only, dot
//! files included, symlinks not followed, `node_modules`, `dist` and `.git`
//! skipped, and files git ignores exempt (a local `.env` that is never
//! committed is fine).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Most entries walked (a runaway tree is not walked forever).
const MAX_ENTRIES: usize = 200_000;

const SKIPPED: &[&str] = &["node_modules", "dist", ".git"];

pub fn compile(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| format!("forbidden pattern {p:?}: {e}"))?;
        b.add(g);
    }
    b.build().map_err(|e| e.to_string())
}

/// The files of `dir` (relative paths) that match a forbidden pattern.
pub fn found(dir: &Path, patterns: &[String]) -> Result<Vec<String>, String> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let set = compile(patterns)?;
    let mut hits = Vec::new();
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    let mut seen = 0usize;
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                break;
            }
            let name = e.file_name();
            let path = rel.join(&name);
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if !SKIPPED.iter().any(|s| name == *s) {
                    stack.push(path);
                }
            } else if kind.is_file() && set.is_match(&path) {
                hits.push(path.to_string_lossy().into_owned());
            }
        }
    }
    hits.sort();
    Ok(not_ignored(dir, hits))
}

/// Leaves out what git ignores there (when `dir` is in a repository).
fn not_ignored(dir: &Path, hits: Vec<String>) -> Vec<String> {
    if hits.is_empty() {
        return hits;
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-z", "--"])
        .args(&hits)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let Ok(out) = out else { return hits };
    // 1: none ignored; 128: not a repository. Either way keep them all.
    if out.status.code() != Some(0) {
        return hits;
    }
    let ignored: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    hits.into_iter()
        .filter(|h| !ignored.contains(&h.as_bytes()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agentgates_default_patterns() {
        let t = tempfile::tempdir().unwrap();
        for f in [
            "a/.env",
            "b/secrets/token",
            "key.pem",
            "ok.txt",
            "node_modules/x/.env",
        ] {
            let p = t.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let patterns: Vec<String> = ["**/.env", "**/secrets/**", "**/*.pem"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            found(t.path(), &patterns).unwrap(),
            vec!["a/.env", "b/secrets/token", "key.pem"]
        );
        assert!(compile(&["a[".to_string()]).is_err());
    }
}
