//! The daemon's flags. Each setting with an environment variable names it
//! with clap's `env`, so flag > variable is settled here and the config
//! (`config::DaemonSettings`) adds only the file and the defaults.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: Option<DaemonAction>,
    /// Start in the background (new session, output to <root>/logs/daemon.log) and return once the socket answers [default: run in the foreground]
    #[arg(long)]
    pub detach: bool,
    /// HTTP shim address, or `off` [env: AGENTGATE_HTTP] [default: 127.0.0.1:3001]
    #[arg(long, value_name = "ADDR|off", env = "AGENTGATE_HTTP", hide_env = true)]
    pub http: Option<String>,
    /// File holding the HTTP API key [env: AGENTGATE_API_KEY_FILE] [default: <root>/api-key, generated]
    #[arg(
        long,
        value_name = "FILE",
        env = "AGENTGATE_API_KEY_FILE",
        hide_env = true
    )]
    pub api_key_file: Option<PathBuf>,
    /// Maximum work orders running at once [env: AGENTGATE_MAX_CONCURRENT] [default: 2]
    #[arg(
        long,
        value_name = "N",
        env = "AGENTGATE_MAX_CONCURRENT",
        hide_env = true
    )]
    pub max_concurrent: Option<usize>,
    /// Minimum time between automatic starts [env: AGENTGATE_STAGGER_DELAY] [default: 0s]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_STAGGER_DELAY",
        hide_env = true
    )]
    pub stagger_delay: Option<String>,
    /// Start work only while MemAvailable is at least this [env: AGENTGATE_MIN_MEMORY] [default: 2GiB]
    #[arg(
        long,
        value_name = "SIZE",
        env = "AGENTGATE_MIN_MEMORY",
        hide_env = true
    )]
    pub min_memory: Option<String>,
    /// Do not start queued work automatically (only `queue start` does) [env: AGENTGATE_NO_AUTO_PROCESS] [default: auto-process on]
    #[arg(long, env = "AGENTGATE_NO_AUTO_PROCESS", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_auto_process: bool,
    /// Disable the stale detector [env: AGENTGATE_NO_STALE_CHECK] [default: stale check on]
    #[arg(long, env = "AGENTGATE_NO_STALE_CHECK", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_stale_check: bool,
    /// How often the stale detector runs, at least 1s [env: AGENTGATE_STALE_CHECK_INTERVAL] [default: 60s]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_STALE_CHECK_INTERVAL",
        hide_env = true
    )]
    pub stale_check_interval: Option<String>,
    /// Inactivity after which running work is stale [env: AGENTGATE_STALE_THRESHOLD] [default: 10m]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_STALE_THRESHOLD",
        hide_env = true
    )]
    pub stale_threshold: Option<String>,
    /// Longest a work order may run before it is stale [env: AGENTGATE_MAX_RUNNING_TIME] [default: 4h]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_MAX_RUNNING_TIME",
        hide_env = true
    )]
    pub max_running_time: Option<String>,
    /// Grace period between SIGTERM and SIGKILL [env: AGENTGATE_GRACE_PERIOD] [default: 5s]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_GRACE_PERIOD",
        hide_env = true
    )]
    pub grace_period: Option<String>,
    /// Where runs execute: `local` (a supervisor process on this machine) or `slurm` (a job on the Slurm cluster, settings under [slurm] in the config file); an agent type may override it [env: AGENTGATE_EXECUTOR] [default: local]
    #[arg(
        long,
        value_name = "local|slurm",
        env = "AGENTGATE_EXECUTOR",
        hide_env = true
    )]
    pub executor: Option<String>,
    /// Confinement of every run whose work order does not choose: `auto` (each agent type's: workspace for claude, codex and gemini, off for shell and configured types), `workspace` or `off` [env: AGENTGATE_SANDBOX] [default: auto]
    #[arg(
        long,
        value_name = "auto|workspace|off",
        env = "AGENTGATE_SANDBOX",
        hide_env = true
    )]
    pub sandbox: Option<String>,
    /// Most work orders waiting at once; submits beyond are refused, 0 = no limit [env: AGENTGATE_MAX_QUEUE_SIZE] [default: 1000]
    #[arg(
        long,
        value_name = "N",
        env = "AGENTGATE_MAX_QUEUE_SIZE",
        hide_env = true
    )]
    pub max_queue_size: Option<u64>,
    /// Browser origins allowed to call the HTTP API, comma-separated (`*` = any; `http://host:*` = any port) [env: AGENTGATE_CORS_ORIGINS] [default: http://localhost:*,http://127.0.0.1:*]
    #[arg(
        long,
        value_name = "ORIGINS",
        env = "AGENTGATE_CORS_ORIGINS",
        hide_env = true
    )]
    pub cors_origin: Option<String>,
    /// Environment variable the runs do not get, NAME or PREFIX* (repeatable); AGENTGATE_API_KEY and AGENTGATE_API_KEY_FILE are never passed on [env: AGENTGATE_ENV_REMOVE, comma-separated] [default: none]
    #[arg(
        long = "env-remove",
        value_name = "NAME",
        env = "AGENTGATE_ENV_REMOVE",
        hide_env = true,
        value_delimiter = ','
    )]
    pub env_remove: Vec<String>,
    /// Purge terminal work orders that ended longer ago than this, e.g. 30d, or `off` [env: AGENTGATE_RETENTION_MAX_AGE] [default: off]
    #[arg(
        long,
        value_name = "DUR|off",
        env = "AGENTGATE_RETENTION_MAX_AGE",
        hide_env = true
    )]
    pub retention_max_age: Option<String>,
    /// Keep at most this many terminal work orders, purging the oldest beyond, or `off` [env: AGENTGATE_RETENTION_MAX_COUNT] [default: off]
    #[arg(
        long,
        value_name = "N|off",
        env = "AGENTGATE_RETENTION_MAX_COUNT",
        hide_env = true
    )]
    pub retention_max_count: Option<String>,
    /// Most RPC connections served at once; more are refused with an error [env: AGENTGATE_MAX_CONNECTIONS] [default: 128]
    #[arg(
        long,
        value_name = "N",
        env = "AGENTGATE_MAX_CONNECTIONS",
        hide_env = true
    )]
    pub max_connections: Option<usize>,
    /// Most HTTP connections open at once (WebSockets included); more are answered 503 [env: AGENTGATE_HTTP_MAX_CONNECTIONS] [default: 1024]
    #[arg(
        long,
        value_name = "N",
        env = "AGENTGATE_HTTP_MAX_CONNECTIONS",
        hide_env = true
    )]
    pub http_max_connections: Option<usize>,
    /// Time a client has to send a request's headers, then its body; idle keep-alive connections close after it, at least 100ms [env: AGENTGATE_HTTP_TIMEOUT] [default: 10s]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_HTTP_TIMEOUT",
        hide_env = true
    )]
    pub http_timeout: Option<String>,
    /// A dashboard session (`agentgate dashboard`) unused this long ends, at least 1s [env: AGENTGATE_DASHBOARD_IDLE] [default: 12h]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_DASHBOARD_IDLE",
        hide_env = true
    )]
    pub dashboard_idle: Option<String>,
    /// Health alert for work running longer than this [env: AGENTGATE_STUCK_THRESHOLD] [default: 30m]
    #[arg(
        long,
        value_name = "DUR",
        env = "AGENTGATE_STUCK_THRESHOLD",
        hide_env = true
    )]
    pub stuck_threshold: Option<String>,
    /// Give each run a cgroup of its own where the host allows (`auto`), or never (`off`) [env: AGENTGATE_CGROUPS] [default: auto]
    #[arg(
        long,
        value_name = "auto|off",
        env = "AGENTGATE_CGROUPS",
        hide_env = true
    )]
    pub cgroups: Option<String>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum DaemonAction {
    /// Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running
    #[command(
        long_about = "Stop the running daemon gracefully and wait until its process is gone.\n\n\
By default running work is stopped (SIGTERM to each run's process tree, then SIGKILL after the grace \
period) and marked `interrupted`. With --keep-running it is left running under its supervisors: the \
next daemon started on the same root adopts it (status, logs, timeouts, stop and follow work as before), \
and work that ended meanwhile gets its real exit."
    )]
    Stop {
        /// Leave running work running, for the next daemon to adopt [default: stop it]
        #[arg(long)]
        keep_running: bool,
        /// Stop running work without asking (asked on a terminal when work runs) [default: ask]
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again
    Restart,
}
