//! The daemon's settings, resolved from its flags (and their variables,
//! which clap reads), the config file and the defaults, one group at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::agents::{check_agents, resolve_hooks};
use super::{AgentConfig, ConfigError, ConfigFile, ExecutorKind, Hook, Paths, dur, env};
use crate::cli::{DaemonArgs, GlobalArgs};
use crate::executor::router::ExecutorSettings;
use crate::model::units::parse_size;

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
    /// A dashboard session unused for this long ends.
    pub dashboard_idle: Duration,
    /// Variables of the daemon's environment the runs do not get (names, or
    /// prefixes ending in `*`), besides its secrets.
    pub env_remove: Vec<String>,
    /// Retention: terminal work orders that ended longer ago are purged.
    pub retention_max_age: Option<Duration>,
    /// Retention: at most this many terminal work orders are kept.
    pub retention_max_count: Option<usize>,
    /// Most RPC connections served at once.
    pub max_connections: usize,
    /// What MCP clients of `/mcp` may do.
    pub mcp: crate::mcp::McpSettings,
    /// Confinement of runs whose work order does not choose (`None`: each
    /// agent type's).
    pub sandbox: Option<crate::model::SandboxMode>,
    /// More paths no confined run may read.
    pub sandbox_hide: Vec<String>,
    /// `false`: confined runs fail as on a host without Landlock.
    pub sandbox_landlock: bool,
    /// What this host can confine with (probed when the daemon starts).
    pub sandbox_support: Option<crate::sandbox::Support>,
}

/// Browser origins allowed by default: a dashboard on a local dev server.
pub const DEFAULT_CORS_ORIGINS: [&str; 2] = ["http://localhost:*", "http://127.0.0.1:*"];

/// flag (or its variable) > config file, parsed with `parse`, else the default.
fn pick<T>(
    name: &str,
    flag: Option<String>,
    file: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
    default: T,
) -> Result<T, ConfigError> {
    match flag.filter(|v| !v.is_empty()).or(file) {
        Some(v) => parse(&v).map_err(|message| ConfigError::Value {
            name: name.to_string(),
            message,
        }),
        None => Ok(default),
    }
}

/// A whole number of at least 1.
fn count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?}: expected a whole number of at least 1")),
    }
}

/// A duration of at least `min`.
fn dur_min(min: Duration, shown: &'static str) -> impl Fn(&str) -> Result<Duration, String> {
    move |s| match dur(s)? {
        d if d < min => Err(format!("{s:?}: must be at least {shown}")),
        d => Ok(d),
    }
}

/// `off`, else `some`.
fn or_off<T>(
    some: impl Fn(&str) -> Result<T, String>,
) -> impl Fn(&str) -> Result<Option<T>, String> {
    move |s| {
        if s.eq_ignore_ascii_case("off") {
            Ok(None)
        } else {
            some(s).map(Some)
        }
    }
}

fn text(n: Option<impl ToString>) -> Option<String> {
    n.map(|n| n.to_string())
}

/// `a, b,c` -> `["a", "b", "c"]` (empty items dropped).
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Admission: how many run, how often they start, with how much memory.
struct Admission {
    max_concurrent: usize,
    stagger_delay: Duration,
    min_memory: u64,
    auto_process: bool,
    max_queue_size: u64,
}

fn admission(args: &DaemonArgs, file: &ConfigFile) -> Result<Admission, ConfigError> {
    Ok(Admission {
        max_concurrent: pick(
            "--max-concurrent",
            text(args.max_concurrent),
            text(file.max_concurrent),
            count,
            2,
        )?,
        stagger_delay: pick(
            "--stagger-delay",
            args.stagger_delay.clone(),
            file.stagger_delay.clone(),
            dur,
            Duration::ZERO,
        )?,
        min_memory: pick(
            "--min-memory",
            args.min_memory.clone(),
            file.min_memory.clone(),
            |s| parse_size(s).map_err(|e| format!("{s:?}: {e}")),
            2 << 30,
        )?,
        auto_process: !args.no_auto_process && file.auto_process.unwrap_or(true),
        max_queue_size: pick(
            "--max-queue-size",
            text(args.max_queue_size),
            text(file.max_queue_size),
            |s| {
                s.parse::<u64>()
                    .map_err(|_| format!("{s:?}: expected a whole number (0 = no limit)"))
            },
            1000,
        )?,
    })
}

/// Supervision: the stale detector, stops, health alerts.
struct Supervision {
    stale_check: bool,
    stale_check_interval: Duration,
    stale_threshold: Duration,
    max_running_time: Duration,
    grace_period: Duration,
    stuck_threshold: Duration,
}

fn supervision(args: &DaemonArgs, file: &ConfigFile) -> Result<Supervision, ConfigError> {
    let duration = |name: &str, flag: &Option<String>, key: &Option<String>, default| {
        pick(name, flag.clone(), key.clone(), dur, default)
    };
    Ok(Supervision {
        stale_check: !args.no_stale_check && file.stale_check.unwrap_or(true),
        stale_check_interval: pick(
            "--stale-check-interval",
            args.stale_check_interval.clone(),
            file.stale_check_interval.clone(),
            dur_min(Duration::from_secs(1), "1s"),
            Duration::from_secs(60),
        )?,
        stale_threshold: duration(
            "--stale-threshold",
            &args.stale_threshold,
            &file.stale_threshold,
            Duration::from_secs(600),
        )?,
        max_running_time: duration(
            "--max-running-time",
            &args.max_running_time,
            &file.max_running_time,
            Duration::from_secs(4 * 3600),
        )?,
        grace_period: duration(
            "--grace-period",
            &args.grace_period,
            &file.grace_period,
            Duration::from_secs(5),
        )?,
        stuck_threshold: duration(
            "--stuck-threshold",
            &args.stuck_threshold,
            &file.stuck_threshold,
            Duration::from_secs(30 * 60),
        )?,
    })
}

/// The doors: HTTP shim, its browsers and connections, RPC connections.
struct Doors {
    http: Option<String>,
    api_key_file: Option<PathBuf>,
    cors_origins: Vec<String>,
    http_max_connections: usize,
    http_timeout: Duration,
    dashboard_idle: Duration,
    max_connections: usize,
}

fn doors(args: &DaemonArgs, file: &ConfigFile) -> Result<Doors, ConfigError> {
    let http = pick(
        "--http",
        args.http.clone(),
        file.http.clone(),
        |s| Ok(s.to_string()),
        "127.0.0.1:3001".to_string(),
    )?;
    Ok(Doors {
        http: (!http.eq_ignore_ascii_case("off")).then_some(http),
        api_key_file: args.api_key_file.clone().or(file.api_key_file.clone()),
        cors_origins: match args.cors_origin.as_deref().filter(|s| !s.is_empty()) {
            Some(list) => split_list(list),
            None => file
                .cors_origins
                .clone()
                .unwrap_or_else(|| DEFAULT_CORS_ORIGINS.iter().map(|s| s.to_string()).collect()),
        },
        http_max_connections: pick(
            "--http-max-connections",
            text(args.http_max_connections),
            text(file.http_max_connections),
            count,
            1024,
        )?,
        http_timeout: pick(
            "--http-timeout",
            args.http_timeout.clone(),
            file.http_timeout.clone(),
            dur_min(Duration::from_millis(100), "100ms"),
            Duration::from_secs(10),
        )?,
        dashboard_idle: pick(
            "--dashboard-idle",
            args.dashboard_idle.clone(),
            file.dashboard_idle.clone(),
            dur_min(Duration::from_secs(1), "1s"),
            Duration::from_secs(12 * 3600),
        )?,
        max_connections: pick(
            "--max-connections",
            text(args.max_connections),
            text(file.max_connections),
            count,
            128,
        )?,
    })
}

/// Where and how runs execute.
struct Runs {
    executor: ExecutorKind,
    executors: ExecutorSettings,
    env_remove: Vec<String>,
}

fn runs(args: &DaemonArgs, file: &ConfigFile) -> Result<Runs, ConfigError> {
    let env_remove: Vec<String> = if args.env_remove.is_empty() {
        file.env_remove.clone().unwrap_or_default()
    } else {
        // From the variable, comma-separated: `A, B` is two names.
        args.env_remove
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    for p in &env_remove {
        crate::executor::env::check_pattern(p).map_err(|message| ConfigError::Value {
            name: "env_remove".into(),
            message,
        })?;
    }
    Ok(Runs {
        executor: pick(
            "--executor",
            args.executor.clone(),
            file.executor.clone(),
            |s| s.parse::<ExecutorKind>(),
            ExecutorKind::default(),
        )?,
        executors: ExecutorSettings::resolve(
            args.cgroups.as_deref(),
            file.cgroups,
            file.slurm.clone(),
        )?,
        env_remove,
    })
}

/// Retention: how long and how many ended work orders are kept.
fn retention(
    args: &DaemonArgs,
    file: &ConfigFile,
) -> Result<(Option<Duration>, Option<usize>), ConfigError> {
    let age = pick(
        "--retention-max-age",
        args.retention_max_age.clone(),
        file.retention_max_age.clone(),
        or_off(|s| match dur(s)? {
            d if d.is_zero() => Err(format!("{s:?}: must be more than 0, or off")),
            d => Ok(d),
        }),
        None,
    )?;
    let count = pick(
        "--retention-max-count",
        args.retention_max_count.clone(),
        file.retention_max_count
            .as_ref()
            .map(super::RetentionCount::text),
        or_off(|s| {
            count(s).map_err(|_| format!("{s:?}: expected a whole number of at least 1, or off"))
        }),
        None,
    )?;
    Ok((age, count))
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
        check_agents(&file.agents)?;
        let a = admission(args, &file)?;
        let s = supervision(args, &file)?;
        let d = doors(args, &file)?;
        let r = runs(args, &file)?;
        let (retention_max_age, retention_max_count) = retention(args, &file)?;
        let hooks: Vec<Hook> = resolve_hooks(&file.hooks)?;
        let mcp = crate::mcp::McpSettings::resolve(file.mcp.as_ref())?;
        Ok(DaemonSettings {
            paths,
            http: d.http,
            api_key_file: d.api_key_file,
            max_concurrent: a.max_concurrent,
            stagger_delay: a.stagger_delay,
            min_memory: a.min_memory,
            auto_process: a.auto_process,
            stale_check: s.stale_check,
            stale_check_interval: s.stale_check_interval,
            stale_threshold: s.stale_threshold,
            max_running_time: s.max_running_time,
            grace_period: s.grace_period,
            stuck_threshold: s.stuck_threshold,
            agents: super::with_builtin_agents(file.agents),
            executor: r.executor,
            executors: r.executors,
            worktree: file.worktree.unwrap_or(false),
            hooks,
            github_owner: env("AGENTGATE_GITHUB_OWNER"),
            github_base_url: env("AGENTGATE_GITHUB_BASE_URL")
                .unwrap_or_else(|| "https://github.com/".to_string()),
            max_queue_size: a.max_queue_size,
            cors_origins: d.cors_origins,
            http_max_connections: d.http_max_connections,
            http_timeout: d.http_timeout,
            dashboard_idle: d.dashboard_idle,
            env_remove: r.env_remove,
            retention_max_age,
            retention_max_count,
            max_connections: d.max_connections,
            mcp,
            sandbox: pick(
                "--sandbox",
                args.sandbox.clone(),
                file.sandbox.clone(),
                |s| match s {
                    "auto" => Ok(None),
                    other => other
                        .parse()
                        .map(Some)
                        .map_err(|e: String| format!("{e} (or auto: each agent type's own)")),
                },
                None,
            )?,
            sandbox_hide: file.sandbox_hide.clone().unwrap_or_default(),
            sandbox_landlock: file.sandbox_landlock.unwrap_or(true),
            sandbox_support: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn settings(argv: &[&str], toml: &str) -> Result<DaemonSettings, ConfigError> {
        let cli = Cli::try_parse_from(
            [
                "agentgate",
                "--data-dir",
                "/tmp/agentgate-config-test",
                "daemon",
            ]
            .iter()
            .chain(argv),
        )
        .map_err(|e| ConfigError::Value {
            name: "argv".into(),
            message: e.to_string(),
        })?;
        let Command::Daemon(args) = cli.command else {
            unreachable!("parsed as the daemon")
        };
        let file: ConfigFile = toml::from_str(toml).expect("test TOML");
        DaemonSettings::resolve(&cli.global, &args, file)
    }

    #[test]
    fn flag_over_file_over_default() {
        let d = settings(&[], "").unwrap();
        assert_eq!(d.stuck_threshold, Duration::from_secs(1800));
        assert!(d.executors.cgroups);
        let f = settings(&[], "stuck_threshold = \"5m\"\ncgroups = false").unwrap();
        assert_eq!(f.stuck_threshold, Duration::from_secs(300));
        assert!(!f.executors.cgroups);
        let flag = settings(
            &["--stuck-threshold", "1m", "--cgroups", "auto"],
            "stuck_threshold = \"5m\"\ncgroups = false",
        )
        .unwrap();
        assert_eq!(flag.stuck_threshold, Duration::from_secs(60));
        assert!(flag.executors.cgroups);
    }

    #[test]
    fn bad_values_name_their_flag_or_key() {
        let e = settings(&["--cgroups", "maybe"], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--cgroups") && e.contains("auto or off"), "{e}");
        let e = settings(&["--http-timeout", "10ms"], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--http-timeout") && e.contains("100ms"), "{e}");
        let e = settings(&[], "[slurm]\nmax_concurrent = 0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("slurm.max_concurrent"), "{e}");
        let e = settings(&["--retention-max-count", "0"], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("or off"), "{e}");
    }
}
