//! Configuration and paths. Precedence: flag > `AGENTGATE_*` env > config file >
//! default. The config file is TOML; every key is listed in the README.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{DaemonArgs, GlobalArgs};
pub use crate::executor::ExecutorKind;
use crate::executor::router::ExecutorSettings;
use crate::model::units::{parse_duration, parse_size};

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

/// One agent type: the command line (placeholders `{prompt}`, `{workspace}`,
/// `{work_order_id}`, `{run_id}` substituted per argument), extra env, and an
/// optional memory limit for each of its runs (enforced through the run's
/// cgroup where the host has a memory cgroup).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "size_opt")]
    pub memory_max: Option<u64>,
    /// Where this agent type's runs execute, instead of the daemon's default.
    #[serde(default)]
    pub executor: Option<ExecutorKind>,
    /// How its stdout is read [default: text].
    #[serde(default)]
    pub output: OutputFormat,
    /// The command line that resumes an earlier session (`queue continue`);
    /// `{session_id}` names it. Without one the type cannot continue.
    #[serde(default)]
    pub resume_command: Option<Vec<String>>,
    /// How the prompt reaches the agent besides placeholders: `stdin` makes
    /// it the agent's standard input [default: arg].
    #[serde(default)]
    pub prompt_via: PromptVia,
}

/// How an agent's stdout is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Plain text, shown as written.
    #[default]
    Text,
    /// Claude Code's `--output-format stream-json`: one JSON event per line,
    /// shown as a transcript, its `result` recorded on the work order.
    ClaudeStreamJson,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::ClaudeStreamJson => "claude-stream-json",
        }
    }
}

/// How the prompt reaches an agent besides `{prompt}`/`{prompt_file}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    #[default]
    Arg,
    Stdin,
}

/// `[[hooks]]`: something to run when a work order ends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// Statuses it runs for [default: succeeded, failed, canceled].
    #[serde(default)]
    pub on: Vec<crate::model::Status>,
    /// A command, with the work order's facts in `AGENTGATE_*` variables.
    #[serde(default)]
    pub command: Vec<String>,
    /// A URL the work order JSON is POSTed to.
    pub webhook: Option<String>,
    /// Killed after this long [default: 30s].
    pub timeout: Option<String>,
}

/// A hook, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub on: Vec<crate::model::Status>,
    pub command: Vec<String>,
    pub webhook: Option<String>,
    pub timeout: Duration,
}

fn size_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| match parse_size(&s) {
        Ok(0) => Err(format!("memory_max {s:?} must be more than 0")),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("memory_max {s:?}: {e}")),
    })
    .transpose()
    .map_err(serde::de::Error::custom)
}

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
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// Variables of the daemon's environment the runs do not get.
    pub env_remove: Option<Vec<String>>,
    pub retention_max_age: Option<String>,
    pub retention_max_count: Option<RetentionCount>,
    pub max_connections: Option<usize>,
}

/// `retention_max_count` in the config file: a number, or "off".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RetentionCount {
    Count(u64),
    Text(String),
}

impl RetentionCount {
    fn text(&self) -> String {
        match self {
            RetentionCount::Count(n) => n.to_string(),
            RetentionCount::Text(s) => s.clone(),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ConfigFile {
    /// Loads `--config`, else `AGENTGATE_CONFIG`, else the default path (which may
    /// be absent; an explicitly named file must exist).
    pub fn load(global: &GlobalArgs) -> Result<ConfigFile, ConfigError> {
        let explicit = global
            .config
            .clone()
            .or_else(|| env("AGENTGATE_CONFIG").map(PathBuf::from));
        let path = match explicit {
            Some(p) => p,
            None => match directories::BaseDirs::new() {
                Some(b) => {
                    let p = b.config_dir().join("agentgate").join("config.toml");
                    if !p.exists() {
                        return Ok(ConfigFile::default());
                    }
                    p
                }
                None => return Ok(ConfigFile::default()),
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

/// Where the daemon's state and socket live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub socket: PathBuf,
}

impl Paths {
    pub fn resolve(global: &GlobalArgs, file: &ConfigFile) -> Result<Paths, ConfigError> {
        let root = match global
            .data_dir
            .clone()
            .or_else(|| env("AGENTGATE_ROOT").map(PathBuf::from))
            .or_else(|| file.data_dir.clone())
        {
            Some(r) => r,
            None => directories::ProjectDirs::from("", "", "agentgate")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(ConfigError::NoHome)?,
        };
        let root = absolute(&root);
        let socket = global
            .socket
            .clone()
            .or_else(|| env("AGENTGATE_SOCKET").map(PathBuf::from))
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

/// Everything the daemon needs, resolved.
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    pub paths: Paths,
    /// `None` = HTTP shim disabled.
    pub http: Option<String>,
    pub api_key_file: Option<PathBuf>,
    pub max_concurrent: usize,
    pub stagger_delay: Duration,
    pub min_memory: u64,
    pub auto_process: bool,
    pub stale_check: bool,
    pub stale_check_interval: Duration,
    pub stale_threshold: Duration,
    pub max_running_time: Duration,
    pub grace_period: Duration,
    pub stuck_threshold: Duration,
    pub agents: BTreeMap<String, AgentConfig>,
    /// Whether runs get cgroups of their own where the host allows.
    pub cgroups: bool,
    /// Where runs execute unless their agent type says otherwise.
    pub executor: ExecutorKind,
    /// Each executor's own section.
    pub executors: ExecutorSettings,
    /// Whether local git sources get a worktree of their own by default.
    pub worktree: bool,
    pub hooks: Vec<Hook>,
    pub github_owner: Option<String>,
    pub github_base_url: String,
    /// Most work orders waiting at once; a submit beyond is refused (0 = no limit).
    pub max_queue_size: u64,
    /// Origins a browser may call the HTTP API from: exact origins, `*`, or
    /// `scheme://host:*` for any port.
    pub cors_origins: Vec<String>,
    /// Most HTTP connections open at once (further ones are refused at once).
    pub http_max_connections: usize,
    /// How long a client may take to send a request's headers, and its body.
    pub http_timeout: Duration,
    /// Variables of the daemon's environment the runs do not get (names, or
    /// prefixes ending in `*`), besides its secrets.
    pub env_remove: Vec<String>,
    /// Retention: terminal work orders that ended longer ago are purged.
    pub retention_max_age: Option<Duration>,
    /// Retention: at most this many terminal work orders are kept.
    pub retention_max_count: Option<usize>,
    /// Most RPC connections served at once.
    pub max_connections: usize,
}

/// Browser origins allowed by default: a dashboard on a local dev server.
pub const DEFAULT_CORS_ORIGINS: [&str; 2] = ["http://localhost:*", "http://127.0.0.1:*"];

/// flag > env > file, parsed with `parse`, else the default.
fn pick<T>(
    name: &str,
    flag: Option<String>,
    env_name: &str,
    file: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
    default: T,
) -> Result<T, ConfigError> {
    match flag.or_else(|| env(env_name)).or(file) {
        Some(v) => parse(&v).map_err(|message| ConfigError::Value {
            name: name.to_string(),
            message,
        }),
        None => Ok(default),
    }
}

fn dur(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| format!("{s:?}: {e}"))
}

fn flag_bool(flag: bool, env_name: &str) -> Option<bool> {
    if flag {
        Some(true)
    } else {
        env(env_name).map(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"))
    }
}

impl DaemonSettings {
    /// Where runs of `agent` execute.
    pub fn executor_for(&self, agent: &AgentConfig) -> ExecutorKind {
        agent.executor.unwrap_or(self.executor)
    }

    /// Whether some run may execute on `kind`.
    pub fn uses(&self, kind: ExecutorKind) -> bool {
        self.executor == kind || self.agents.values().any(|a| a.executor == Some(kind))
    }

    pub fn resolve(
        global: &GlobalArgs,
        args: &DaemonArgs,
        file: ConfigFile,
    ) -> Result<DaemonSettings, ConfigError> {
        let paths = Paths::resolve(global, &file)?;
        let http = pick(
            "--http",
            args.http.clone(),
            "AGENTGATE_HTTP",
            file.http.clone(),
            |s| Ok(s.to_string()),
            "127.0.0.1:3001".to_string(),
        )?;
        let http = if http.eq_ignore_ascii_case("off") {
            None
        } else {
            Some(http)
        };
        let max_concurrent = pick(
            "--max-concurrent",
            args.max_concurrent.map(|n| n.to_string()),
            "AGENTGATE_MAX_CONCURRENT",
            file.max_concurrent.map(|n| n.to_string()),
            |s| match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("{s:?}: expected a whole number of at least 1")),
            },
            2,
        )?;
        let stagger_delay = pick(
            "--stagger-delay",
            args.stagger_delay.clone(),
            "AGENTGATE_STAGGER_DELAY",
            file.stagger_delay.clone(),
            dur,
            Duration::from_secs(30),
        )?;
        let min_memory = pick(
            "--min-memory",
            args.min_memory.clone(),
            "AGENTGATE_MIN_MEMORY",
            file.min_memory.clone(),
            |s| parse_size(s).map_err(|e| format!("{s:?}: {e}")),
            2 << 30,
        )?;
        let no_auto = flag_bool(args.no_auto_process, "AGENTGATE_NO_AUTO_PROCESS");
        let auto_process = match no_auto {
            Some(no) => !no,
            None => file.auto_process.unwrap_or(true),
        };
        let no_stale = flag_bool(args.no_stale_check, "AGENTGATE_NO_STALE_CHECK");
        let stale_check = match no_stale {
            Some(no) => !no,
            None => file.stale_check.unwrap_or(true),
        };
        let stale_check_interval = pick(
            "--stale-check-interval",
            args.stale_check_interval.clone(),
            "AGENTGATE_STALE_CHECK_INTERVAL",
            file.stale_check_interval.clone(),
            |s| {
                let d = dur(s)?;
                if d < Duration::from_secs(1) {
                    Err(format!("{s:?}: must be at least 1s"))
                } else {
                    Ok(d)
                }
            },
            Duration::from_secs(60),
        )?;
        let stale_threshold = pick(
            "--stale-threshold",
            args.stale_threshold.clone(),
            "AGENTGATE_STALE_THRESHOLD",
            file.stale_threshold.clone(),
            dur,
            Duration::from_secs(600),
        )?;
        let max_running_time = pick(
            "--max-running-time",
            args.max_running_time.clone(),
            "AGENTGATE_MAX_RUNNING_TIME",
            file.max_running_time.clone(),
            dur,
            Duration::from_secs(4 * 3600),
        )?;
        let grace_period = pick(
            "--grace-period",
            args.grace_period.clone(),
            "AGENTGATE_GRACE_PERIOD",
            file.grace_period.clone(),
            dur,
            Duration::from_secs(5),
        )?;
        let stuck_threshold = pick(
            "stuck_threshold",
            None,
            "AGENTGATE_STUCK_THRESHOLD",
            file.stuck_threshold.clone(),
            dur,
            Duration::from_secs(30 * 60),
        )?;
        let api_key_file = args
            .api_key_file
            .clone()
            .or_else(|| env("AGENTGATE_API_KEY_FILE").map(PathBuf::from))
            .or(file.api_key_file.clone());
        for (name, agent) in &file.agents {
            if agent.command.is_empty() {
                return Err(ConfigError::Value {
                    name: format!("agents.{name}.command"),
                    message: "must name a program".into(),
                });
            }
        }
        let cgroups = match env("AGENTGATE_CGROUPS") {
            Some(v) => match v.as_str() {
                "auto" | "on" | "1" | "true" | "yes" => true,
                "off" | "0" | "false" | "no" => false,
                other => {
                    return Err(ConfigError::Value {
                        name: "AGENTGATE_CGROUPS".into(),
                        message: format!("{other:?}: expected auto or off"),
                    });
                }
            },
            None => file.cgroups.unwrap_or(true),
        };
        let executor = pick(
            "--executor",
            args.executor.clone(),
            "AGENTGATE_EXECUTOR",
            file.executor.clone(),
            |s| s.parse::<ExecutorKind>(),
            ExecutorKind::default(),
        )?;
        let env_remove: Vec<String> = if !args.env_remove.is_empty() {
            args.env_remove.clone()
        } else if let Some(v) = env("AGENTGATE_ENV_REMOVE") {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        } else {
            file.env_remove.clone().unwrap_or_default()
        };
        for p in &env_remove {
            crate::executor::env::check_pattern(p).map_err(|message| ConfigError::Value {
                name: "env_remove".into(),
                message,
            })?;
        }
        let retention_max_age = pick(
            "--retention-max-age",
            args.retention_max_age.clone(),
            "AGENTGATE_RETENTION_MAX_AGE",
            file.retention_max_age.clone(),
            |s| {
                if s.eq_ignore_ascii_case("off") {
                    return Ok(None);
                }
                match dur(s)? {
                    d if d.is_zero() => Err(format!("{s:?}: must be more than 0, or off")),
                    d => Ok(Some(d)),
                }
            },
            None,
        )?;
        let retention_max_count = pick(
            "--retention-max-count",
            args.retention_max_count.clone(),
            "AGENTGATE_RETENTION_MAX_COUNT",
            file.retention_max_count.as_ref().map(RetentionCount::text),
            |s| {
                if s.eq_ignore_ascii_case("off") {
                    return Ok(None);
                }
                match s.parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(Some(n)),
                    _ => Err(format!(
                        "{s:?}: expected a whole number of at least 1, or off"
                    )),
                }
            },
            None,
        )?;
        let max_connections = pick(
            "--max-connections",
            args.max_connections.map(|n| n.to_string()),
            "AGENTGATE_MAX_CONNECTIONS",
            file.max_connections.map(|n| n.to_string()),
            |s| match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("{s:?}: expected a whole number of at least 1")),
            },
            128,
        )?;
        let executors = ExecutorSettings::resolve(file.slurm.clone())?;
        let mut hooks = Vec::new();
        for (i, h) in file.hooks.iter().enumerate() {
            let name = format!("hooks[{i}]");
            if h.command.is_empty() && h.webhook.is_none() {
                return Err(ConfigError::Value {
                    name,
                    message: "needs a command or a webhook".into(),
                });
            }
            if let Some(url) = &h.webhook
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError::Value {
                    name: format!("{name}.webhook"),
                    message: format!("{url:?}: expected an http:// or https:// URL"),
                });
            }
            let timeout = match &h.timeout {
                Some(t) => dur(t).map_err(|message| ConfigError::Value {
                    name: format!("{name}.timeout"),
                    message,
                })?,
                None => Duration::from_secs(30),
            };
            hooks.push(Hook {
                on: if h.on.is_empty() {
                    vec![
                        crate::model::Status::Succeeded,
                        crate::model::Status::Failed,
                        crate::model::Status::Canceled,
                    ]
                } else {
                    h.on.clone()
                },
                command: h.command.clone(),
                webhook: h.webhook.clone(),
                timeout,
            });
        }
        let max_queue_size = pick(
            "--max-queue-size",
            args.max_queue_size.map(|n| n.to_string()),
            "AGENTGATE_MAX_QUEUE_SIZE",
            file.max_queue_size.map(|n| n.to_string()),
            |s| {
                s.parse::<u64>()
                    .map_err(|_| format!("{s:?}: expected a whole number (0 = no limit)"))
            },
            1000,
        )?;
        let cors_origins = match args
            .cors_origin
            .clone()
            .or_else(|| env("AGENTGATE_CORS_ORIGINS"))
        {
            Some(list) => split_list(&list),
            None => file
                .cors_origins
                .clone()
                .unwrap_or_else(|| DEFAULT_CORS_ORIGINS.iter().map(|s| s.to_string()).collect()),
        };
        let http_max_connections = pick(
            "http_max_connections",
            None,
            "AGENTGATE_HTTP_MAX_CONNECTIONS",
            file.http_max_connections.map(|n| n.to_string()),
            |s| match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("{s:?}: expected a whole number of at least 1")),
            },
            1024,
        )?;
        let http_timeout = pick(
            "http_timeout",
            None,
            "AGENTGATE_HTTP_TIMEOUT",
            file.http_timeout.clone(),
            |s| {
                let d = dur(s)?;
                if d < Duration::from_millis(100) {
                    Err(format!("{s:?}: must be at least 100ms"))
                } else {
                    Ok(d)
                }
            },
            Duration::from_secs(10),
        )?;
        Ok(DaemonSettings {
            max_queue_size,
            cors_origins,
            http_max_connections,
            http_timeout,
            cgroups,
            executor,
            executors,
            worktree: file.worktree.unwrap_or(false),
            hooks,
            paths,
            http,
            api_key_file,
            max_concurrent,
            stagger_delay,
            min_memory,
            auto_process,
            stale_check,
            stale_check_interval,
            stale_threshold,
            max_running_time,
            grace_period,
            stuck_threshold,
            agents: with_builtin_agents(file.agents),
            github_owner: env("AGENTGATE_GITHUB_OWNER"),
            github_base_url: env("AGENTGATE_GITHUB_BASE_URL")
                .unwrap_or_else(|| "https://github.com/".to_string()),
            env_remove,
            retention_max_age,
            retention_max_count,
            max_connections,
        })
    }
}

/// `a, b,c` → `["a", "b", "c"]` (empty items dropped).
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The built-in agents, overridden by any of the same name in the config.
pub fn with_builtin_agents(
    mut configured: BTreeMap<String, AgentConfig>,
) -> BTreeMap<String, AgentConfig> {
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let stream = [
        "--output-format",
        "stream-json",
        "--verbose",
        "--max-turns",
        "{max_iterations}",
        "--dangerously-skip-permissions",
    ];
    let claude = AgentConfig {
        command: words(&[&["claude", "-p", "{prompt}"][..], &stream[..]].concat()),
        env: BTreeMap::new(),
        memory_max: None,
        executor: None,
        output: OutputFormat::ClaudeStreamJson,
        resume_command: Some(words(
            &[
                &["claude", "-p", "{prompt}", "--resume", "{session_id}"][..],
                &stream[..],
            ]
            .concat(),
        )),
        prompt_via: PromptVia::Arg,
    };
    let shell = AgentConfig {
        command: words(&["sh", "-c", "{prompt}"]),
        output: OutputFormat::Text,
        resume_command: None,
        ..claude.clone()
    };
    for (name, agent) in [
        ("claude-code-subscription", claude.clone()),
        ("claude-code-api", claude.clone()),
        ("claude-agent-sdk", claude),
        ("shell", shell),
    ] {
        configured.entry(name.to_string()).or_insert(agent);
    }
    configured
}
