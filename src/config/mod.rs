//! Configuration and paths. Precedence: flag > `AGENTGATE_*` env > config file >
//! default. Flags and their variables are one clap argument each (`env =` in
//! `cli`), so this module sees them as one value; the config file is TOML
//! (`file`), agent types and hooks are in `agents`, the daemon's resolved
//! settings in `daemon_settings`, and each executor reads its own section.

mod agents;
mod daemon_settings;
mod file;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::GlobalArgs;
pub use crate::executor::ExecutorKind;
use crate::model::units::parse_duration;
pub use agents::{AgentConfig, Hook, HookConfig, OutputFormat, PromptVia, with_builtin_agents};
pub use daemon_settings::{DEFAULT_CORS_ORIGINS, DaemonSettings};
pub use file::{ConfigFile, RetentionCount};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid {name}: {message}")]
    Value { name: String, message: String },
    #[error("cannot find a home directory; pass --data-dir or set AGENTGATE_ROOT")]
    NoHome,
}

/// A variable of the environment, unless unset or empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn dur(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| format!("{s:?}: {e}"))
}

/// Where the daemon's state and socket live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub socket: PathBuf,
}

impl Paths {
    /// `--data-dir`/`--socket` (or their variables: clap reads them), else
    /// the config file, else the defaults.
    pub fn resolve(global: &GlobalArgs, file: &ConfigFile) -> Result<Paths, ConfigError> {
        let root = match global.data_dir.clone().or_else(|| file.data_dir.clone()) {
            Some(r) => r,
            None => directories::ProjectDirs::from("", "", "agentgate")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(ConfigError::NoHome)?,
        };
        let root = absolute(&root);
        let socket = global
            .socket
            .clone()
            .or_else(|| file.socket.clone())
            .or_else(|| {
                env("XDG_RUNTIME_DIR")
                    .map(|d| PathBuf::from(d).join("agentgate").join("agentgate.sock"))
            })
            .unwrap_or_else(|| root.join("agentgate.sock"));
        Ok(Paths {
            socket: absolute(&socket),
            root,
        })
    }

    pub fn daemon_json(&self) -> PathBuf {
        self.root.join("daemon.json")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}
