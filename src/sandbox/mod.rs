//! Confinement of a run (`sandbox = "workspace"`), whatever agent it is,
//! without containers or a daemon of their own: the supervisor applies it
//! between fork and exec, so local and Slurm runs are confined alike, and
//! everything the agent starts inherits it.
//!
//! - **Files** (Landlock): the run may write only in its `writable` paths
//!   (workspace, the main repository's `.git` for a worktree, its run
//!   directory and private `TMPDIR`, the agent's own state directories, the
//!   work order's allowed paths) and may read everything but its `hidden`
//!   paths (others' credentials, the daemon's root with every other work
//!   order's clone and worktree). Landlock allows by path hierarchy, so
//!   "everything but" is the siblings of each hidden path's ancestors
//!   (`plan::readable`). Directories above a hidden path can be listed, which
//!   Landlock extends to everything beneath them: a hidden directory's file
//!   names show, never their contents. Symlinks and `/proc/PID/root` resolve to the real path
//!   before the check; hard links across hierarchies are refused (`Refer`).
//! - **Network** off: a network namespace of its own with only loopback (in
//!   a user namespace when not root).
//! - **Forbidden files**: AgentGate's `forbiddenPatterns`, globs of files
//!   that must not be in the workspace when the run ends (`forbidden`).
//!
//! Never silently unconfined: a run whose confinement cannot be applied
//! fails at start, saying what is missing and how to opt out.

pub mod apply;
pub mod forbidden;
pub mod plan;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the supervisor applies to one run (in its `spec.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub writable: Vec<PathBuf>,
    pub hidden: Vec<PathBuf>,
    pub network: bool,
    /// The host's switch: `false` treats the kernel as without Landlock
    /// (the config's `sandbox_landlock = false`).
    pub landlock: bool,
    /// The run's private temporary directory (made by the supervisor).
    pub tmpdir: PathBuf,
    /// Writable directories made (0700) if missing: the agent's own state
    /// (`~/.claude/`), which a rule can only name once it exists.
    #[serde(default)]
    pub make_dirs: Vec<PathBuf>,
}

/// What this host can confine with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    /// The kernel's Landlock ABI (`None`: none, or switched off).
    pub landlock_abi: Option<u32>,
    /// Network namespaces can be made (directly, or in a user namespace).
    pub network_namespaces: bool,
}

/// The oldest Landlock ABI a workspace sandbox takes: 2 refuses hard links
/// out of the allowed hierarchies (`Refer`).
pub const MIN_ABI: u32 = 2;

impl Support {
    /// Probed once: Landlock's ABI by its own system call, namespaces by a
    /// throwaway child that makes one.
    pub fn probe(landlock_on: bool) -> Support {
        Support {
            landlock_abi: if landlock_on {
                apply::landlock_abi()
            } else {
                None
            },
            network_namespaces: apply::probe_netns(),
        }
    }

    /// The Landlock ABI a confined run gets here (`None`: it cannot be confined).
    pub fn applied_abi(&self) -> Option<u32> {
        self.landlock_abi
            .filter(|v| *v >= MIN_ABI)
            .map(|v| v.min(apply::TARGET_ABI))
    }

    pub fn summary(&self) -> String {
        let fs = match self.landlock_abi {
            Some(v) if v >= MIN_ABI => format!("landlock v{v}"),
            Some(v) => format!("landlock v{v} (too old: v{MIN_ABI} needed)"),
            None => "no landlock".into(),
        };
        let net = if self.network_namespaces {
            "network namespaces"
        } else {
            "no network namespaces"
        };
        format!("{fs}, {net}")
    }
}
