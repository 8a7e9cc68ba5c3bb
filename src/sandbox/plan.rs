//! Which paths a confined run may write and may not read: made by the
//! daemon at launch (`for_run`), turned into Landlock rules where the run
//! executes (`readable`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Plan;
use crate::executor::files::Workspace;
use crate::model::SandboxRequest;

/// Others' credentials, under the home directory, hidden from every
/// confined run (besides the daemon's root and the configured ones).
pub const HIDDEN_IN_HOME: &[&str] = &[
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gh",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
];

/// Devices any program expects to write (a terminal, `/dev/null`).
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
    "/dev/random",
    "/dev/urandom",
];

/// `~/x` and `~` against `home`; other paths as they are.
pub fn expand_home(p: &str, home: Option<&Path>) -> Option<PathBuf> {
    match (p.strip_prefix("~"), home) {
        (Some(""), Some(h)) => Some(h.to_path_buf()),
        (Some(rest), Some(h)) if rest.starts_with('/') => Some(h.join(&rest[1..])),
        (Some(_), _) => None,
        (None, _) => Some(PathBuf::from(p)),
    }
}

/// What the daemon knows when it launches a confined run.
pub struct Inputs<'a> {
    pub home: Option<&'a Path>,
    /// The daemon's root (every work order's files, clones and worktrees).
    pub root: &'a Path,
    pub workspace: &'a Workspace,
    pub run_dir: &'a Path,
    /// The agent type's own state (`~/.claude`, ...), `~` allowed.
    pub agent_writes: &'a [String],
    /// The configured extra hidden paths, `~` allowed.
    pub hide: &'a [String],
    pub request: Option<&'a SandboxRequest>,
    /// The host's Landlock switch (`sandbox_landlock`).
    pub landlock: bool,
}

pub fn for_run(i: &Inputs<'_>) -> Plan {
    let tmpdir = i.run_dir.join("tmp");
    let mut writable = vec![i.workspace.dir().to_path_buf(), i.run_dir.to_path_buf()];
    if let Workspace::Worktree { repo, .. } = i.workspace {
        // A worktree's commits go into the main repository's objects and refs.
        writable.push(repo.join(".git"));
    }
    let mut make_dirs = Vec::new();
    for p in i.agent_writes {
        if let Some(path) = expand_home(p, i.home) {
            if p.ends_with('/') {
                make_dirs.push(path.clone());
            }
            writable.push(path);
        }
    }
    if let Some(r) = i.request {
        writable.extend(r.allowed_paths.iter().map(PathBuf::from));
    }
    writable.extend(DEVICES.iter().map(PathBuf::from));
    let mut hidden: Vec<PathBuf> = i
        .home
        .map(|h| HIDDEN_IN_HOME.iter().map(|p| h.join(p)).collect())
        .unwrap_or_default();
    hidden.push(i.root.to_path_buf());
    hidden.extend(i.hide.iter().filter_map(|p| expand_home(p, i.home)));
    Plan {
        writable,
        hidden,
        network: i.request.and_then(|r| r.network).unwrap_or(true),
        landlock: i.landlock,
        tmpdir,
        make_dirs,
    }
}

/// The ancestors of the hidden paths: they may be listed (Landlock's
/// `ReadDir` reaches beneath, so the hidden directories' names show too;
/// their files cannot be read).
pub fn listable(hidden: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: BTreeSet<PathBuf> = BTreeSet::new();
    for h in hidden.iter().filter(|h| h.is_absolute()) {
        let h = std::fs::canonicalize(h).unwrap_or_else(|_| h.clone());
        out.extend(h.ancestors().skip(1).map(Path::to_path_buf));
    }
    out.into_iter().collect()
}

/// The paths to allow reading so that everything but `hidden` is readable:
/// every entry of every ancestor of a hidden path, except the hidden paths
/// and the ancestors themselves (which are walked into instead). Symlinks
/// among the entries are kept as they are (a rule follows them).
pub fn readable(hidden: &[PathBuf]) -> Vec<PathBuf> {
    let hidden: BTreeSet<PathBuf> = hidden
        .iter()
        .filter(|h| h.is_absolute())
        .map(|h| std::fs::canonicalize(h).unwrap_or_else(|_| h.clone()))
        .collect();
    let mut ancestors: BTreeSet<PathBuf> = BTreeSet::new();
    for h in &hidden {
        let mut a = h.parent();
        while let Some(p) = a {
            ancestors.insert(p.to_path_buf());
            a = p.parent();
        }
    }
    if hidden.is_empty() {
        return vec![PathBuf::from("/")];
    }
    let mut out = Vec::new();
    for dir in &ancestors {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if hidden.contains(&p) || ancestors.contains(&p) {
                continue;
            }
            // A hidden path reached through a symlink stays hidden: its
            // target is what a rule would name.
            if e.file_type().is_ok_and(|t| t.is_symlink())
                && let Ok(real) = std::fs::canonicalize(&p)
                && hidden
                    .iter()
                    .any(|h| real.starts_with(h) || h.starts_with(&real))
            {
                continue;
            }
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_the_hidden_is_readable() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        for d in ["a/b/secret", "a/b/open", "a/other", "c"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        std::fs::write(home.join("a/file"), "x").unwrap();
        std::os::unix::fs::symlink(home.join("a/b/secret"), home.join("c/link")).unwrap();
        let home = std::fs::canonicalize(&home).unwrap();
        let r = readable(&[home.join("a/b/secret")]);
        assert!(r.contains(&home.join("a/b/open")), "{r:?}");
        assert!(r.contains(&home.join("a/other")), "{r:?}");
        assert!(r.contains(&home.join("a/file")), "{r:?}");
        assert!(r.contains(&home.join("c")), "{r:?}");
        assert!(
            !r.iter().any(|p| p.starts_with(home.join("a/b/secret"))),
            "{r:?}"
        );
        // Ancestors are walked into, never allowed whole.
        assert!(
            !r.contains(&home.join("a")) && !r.contains(&home.join("a/b")),
            "{r:?}"
        );
    }

    #[test]
    fn home_is_expanded() {
        let h = Path::new("/home/u");
        assert_eq!(expand_home("~/.claude", Some(h)), Some(h.join(".claude")));
        assert_eq!(expand_home("~", Some(h)), Some(h.to_path_buf()));
        assert_eq!(expand_home("~/.x", None), None);
        assert_eq!(expand_home("/opt/x", None), Some(PathBuf::from("/opt/x")));
    }
}
