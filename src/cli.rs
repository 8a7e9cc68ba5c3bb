//! Command-line definitions (clap derive). Generated completions and man pages
//! come from these, so every flag's help names its default.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::model::Status;

#[derive(Debug, Parser)]
#[command(
    name = "agentgate",
    version,
    about = "Queue and supervise long-running coding-agent processes",
    long_about = "agentgate queues and supervises long-running coding-agent processes on this machine.\n\n\
`agentgate daemon` runs the daemon (queue, process supervisor, stale detector, durable store, \
RPC socket and HTTP shim); every other command is a client that talks to it over the Unix socket.",
    after_help = "Exit codes: 0 done; 1 the daemon refused or failed the request; 2 usage error; \
3 daemon unreachable; 4 `queue wait` timed out."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the daemon keeps its state and socket (shared by daemon and clients).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground (alias: serve)
    #[command(visible_alias = "serve")]
    Daemon(DaemonArgs),
    /// Submit a work order
    Submit(SubmitArgs),
    /// Inspect and control the queue
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Print a shell completion script
    Completions {
        /// Shell to generate for
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: Option<DaemonAction>,
    /// Start in the background and return once the socket answers
    #[arg(long)]
    pub detach: bool,
    /// HTTP shim address, or `off` [env: AGENTGATE_HTTP] [default: 127.0.0.1:3001]
    #[arg(long, value_name = "ADDR|off")]
    pub http: Option<String>,
    /// File holding the HTTP API key [env: AGENTGATE_API_KEY_FILE] [default: <root>/api-key, generated]
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Maximum work orders running at once [env: AGENTGATE_MAX_CONCURRENT] [default: 2]
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Minimum time between automatic starts [env: AGENTGATE_STAGGER_DELAY] [default: 30s]
    #[arg(long, value_name = "DUR")]
    pub stagger_delay: Option<String>,
    /// Start work only while MemAvailable is at least this [env: AGENTGATE_MIN_MEMORY] [default: 2GiB]
    #[arg(long, value_name = "SIZE")]
    pub min_memory: Option<String>,
    /// Do not start queued work automatically (only `queue start` does) [env: AGENTGATE_NO_AUTO_PROCESS]
    #[arg(long)]
    pub no_auto_process: bool,
    /// Disable the stale detector [env: AGENTGATE_NO_STALE_CHECK]
    #[arg(long)]
    pub no_stale_check: bool,
    /// How often the stale detector runs, at least 1s [env: AGENTGATE_STALE_CHECK_INTERVAL] [default: 60s]
    #[arg(long, value_name = "DUR")]
    pub stale_check_interval: Option<String>,
    /// Inactivity after which running work is stale [env: AGENTGATE_STALE_THRESHOLD] [default: 10m]
    #[arg(long, value_name = "DUR")]
    pub stale_threshold: Option<String>,
    /// Longest a work order may run before it is stale [env: AGENTGATE_MAX_RUNNING_TIME] [default: 4h]
    #[arg(long, value_name = "DUR")]
    pub max_running_time: Option<String>,
    /// Grace period between SIGTERM and SIGKILL [env: AGENTGATE_GRACE_PERIOD] [default: 5s]
    #[arg(long, value_name = "DUR")]
    pub grace_period: Option<String>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum DaemonAction {
    /// Stop a running daemon gracefully and wait until it is gone
    Stop,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The task prompt (for the `shell` agent: the command to run)
    pub prompt: String,
    /// Agent type: shell, claude-code-subscription, claude-code-api, claude-agent-sdk, or one from the config [default: claude-code-subscription]
    #[arg(long, value_name = "TYPE")]
    pub agent: Option<String>,
    /// Run in this local directory [default: the current directory]
    #[arg(long, value_name = "DIR", conflicts_with_all = ["url", "repo"])]
    pub path: Option<PathBuf>,
    /// Clone this repository: a GitHub URL, or any git URL (file:// included)
    #[arg(long, value_name = "URL", conflicts_with = "repo")]
    pub url: Option<String>,
    /// Clone this GitHub repository: OWNER/REPO, or REPO with --owner or AGENTGATE_GITHUB_OWNER
    #[arg(long, value_name = "[OWNER/]REPO")]
    pub repo: Option<String>,
    /// GitHub owner for --repo
    #[arg(long, value_name = "OWNER", requires = "repo")]
    pub owner: Option<String>,
    /// Branch to clone
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Time limit of a run, 1s to 7d [default: 1h]
    #[arg(long, value_name = "DUR")]
    pub max_time: Option<String>,
    /// Maximum agent iterations [default: 3]
    #[arg(long, value_name = "N")]
    pub max_iterations: Option<u32>,
    /// Print the created work order as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List work orders, newest first
    List {
        /// Only these statuses (repeatable)
        #[arg(long = "status", value_name = "STATUS", value_parser = parse_status)]
        statuses: Vec<Status>,
        /// At most this many [default: 20]
        #[arg(long, value_name = "N", conflicts_with = "all")]
        limit: Option<u32>,
        /// All of them (lifts --limit)
        #[arg(long)]
        all: bool,
        /// Print `{items,total,limit,offset,hasMore}` as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one work order with its runs
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a work order: a queued one never starts, a running one has its process tree stopped
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a running work order's process tree (SIGTERM, grace period, SIGKILL)
    Kill {
        id: String,
        /// SIGKILL at once, no grace period
        #[arg(long)]
        force: bool,
        /// Grace period before SIGKILL [default: the daemon's, 5s]
        #[arg(long, value_name = "DUR")]
        grace: Option<String>,
        /// Why; recorded in the work order's error
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete work orders permanently (file, runs, logs, daemon-made clone)
    #[command(
        long_about = "Delete work orders permanently: the work-order file, its run records and logs, and a \
workspace clone the daemon made (never a local directory). A queued or running one is canceled first.\n\n\
With no ID and no filter, purges every terminal work order; non-terminal ones only when their status is \
named with --status. Purging more than one asks for confirmation on a TTY; use --yes in scripts."
    )]
    Purge {
        /// Work order IDs
        ids: Vec<String>,
        /// Purge work orders with this status (repeatable)
        #[arg(long = "status", value_name = "STATUS", value_parser = parse_status)]
        statuses: Vec<Status>,
        /// Only those created longer ago than this (e.g. 7d, 12h)
        #[arg(long, value_name = "DUR")]
        older_than: Option<String>,
        /// List what would be purged; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Queue health: counts, limits, memory, alerts
    Health {
        #[arg(long)]
        json: bool,
    },
    /// Start a queued (or retry a failed) work order now; bypasses the stagger delay
    Start {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_status(s: &str) -> Result<Status, String> {
    s.parse()
}
