//! The config file as written (TOML); every key is listed in the README.
//! Each executor's section is read by its executor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{AgentConfig, ConfigError, HookConfig};
use crate::cli::GlobalArgs;

/// The config file (`~/.config/agentgate/config.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub data_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub http: Option<String>,
    pub api_key_file: Option<PathBuf>,
    pub max_concurrent: Option<usize>,
    pub stagger_delay: Option<String>,
    pub min_memory: Option<String>,
    pub auto_process: Option<bool>,
    pub stale_check: Option<bool>,
    pub stale_check_interval: Option<String>,
    pub stale_threshold: Option<String>,
    pub max_running_time: Option<String>,
    pub grace_period: Option<String>,
    pub stuck_threshold: Option<String>,
    /// Put each run in its own cgroup where the host allows (default true).
    pub cgroups: Option<bool>,
    /// Where runs execute by default: "local" or "slurm".
    pub executor: Option<String>,
    /// The Slurm executor's section (read by the executor).
    pub slurm: Option<crate::executor::slurm::SlurmFile>,
    /// Local git sources get a worktree of their own by default.
    pub worktree: Option<bool>,
    #[serde(default)]
    pub hooks: Vec<HookConfig>,
    pub max_queue_size: Option<u64>,
    /// Browser origins allowed to call the HTTP API (CORS).
    pub cors_origins: Option<Vec<String>>,
    pub http_max_connections: Option<usize>,
    pub http_timeout: Option<String>,
    /// A dashboard session unused this long ends (e.g. "12h").
    pub dashboard_idle: Option<String>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// Variables of the daemon's environment the runs do not get.
    pub env_remove: Option<Vec<String>>,
    pub retention_max_age: Option<String>,
    pub retention_max_count: Option<RetentionCount>,
    pub max_connections: Option<usize>,
    /// Confinement of runs whose work order does not choose: auto, workspace, off.
    pub sandbox: Option<String>,
    /// More paths no confined run may read (`~` for the home directory).
    pub sandbox_hide: Option<Vec<String>>,
    /// `false`: behave as a host without Landlock (confined runs fail).
    pub sandbox_landlock: Option<bool>,
    /// What MCP clients may do (`agentgate mcp`, `/mcp`).
    pub mcp: Option<crate::mcp::McpFile>,
}

/// `retention_max_count` in the config file: a number, or "off".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RetentionCount {
    Count(u64),
    Text(String),
}

impl RetentionCount {
    pub(super) fn text(&self) -> String {
        match self {
            RetentionCount::Count(n) => n.to_string(),
            RetentionCount::Text(s) => s.clone(),
        }
    }
}

/// The default config file, if this user has a home.
fn default_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.config_dir().join("agentgate").join("config.toml"))
}

impl ConfigFile {
    /// Loads `--config` (or `AGENTGATE_CONFIG`: clap reads it), else the
    /// default path (which may be absent; an explicitly named file must exist).
    pub fn load(global: &GlobalArgs) -> Result<ConfigFile, ConfigError> {
        ConfigFile::load_path(global.config.as_deref())
    }

    /// Loads `path`, else the default path (which may be absent).
    pub fn load_path(path: Option<&std::path::Path>) -> Result<ConfigFile, ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(ConfigFile::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path,
            message: e.to_string(),
        })
    }
}
