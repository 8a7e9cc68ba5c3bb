//! Command-line definitions (clap derive). Generated completions and man pages
//! come from these, so every flag's help names its default.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::model::Status;

mod daemon;
mod dashboard;
mod deferred;
mod land;
mod mcp;
mod queue;
mod sandbox;
pub use daemon::{DaemonAction, DaemonArgs};
pub use dashboard::DashboardArgs;
pub use deferred::Deferred;
pub use land::{DiffArgs, DiscardArgs, MergeArgs, PrArgs, PushArgs};
pub use mcp::McpArgs;
pub use queue::QueueCommand;
pub use sandbox::SandboxArgs;

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

impl Cli {
    /// The whole command tree, built eagerly (completions, man pages,
    /// suggestions): exactly what a parse with `--help` sees.
    pub fn built() -> clap::Command {
        deferred::build_eagerly();
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.build();
        cmd
    }

    /// Parses the command line and the flags' environment variables (flag >
    /// environment: clap's `env`); a variable set but empty counts as unset.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        // Rewriting every flag of every subcommand costs a client a good
        // part of its start: only done when some variable is set but empty.
        let any_empty = std::env::vars_os()
            .any(|(k, v)| v.is_empty() && k.to_string_lossy().starts_with("AGENTGATE_"));
        let help = std::env::args_os().any(|a| a == "-h" || a == "--help" || a == "help");
        if any_empty || help {
            // The rewrites below and help output see every subcommand's flags.
            deferred::build_eagerly();
        }
        let cmd = if any_empty {
            without_empty_env(Cli::command())
        } else {
            Cli::command()
        };
        // `submit --help` names the agent types the config defines too.
        let cmd = if help {
            with_agent_types_in_help(cmd)
        } else {
            cmd
        };
        let matches = cmd.try_get_matches()?;
        Cli::from_arg_matches(&matches)
    }
}

/// `submit --agent`'s help listing every agent type of the config (built-in
/// and configured), when the config reads.
fn with_agent_types_in_help(cmd: clap::Command) -> clap::Command {
    let args: Vec<String> = std::env::args().collect();
    let named = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--config") {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        });
    let path = named
        .or_else(|| {
            std::env::var("AGENTGATE_CONFIG")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .map(std::path::PathBuf::from);
    let Ok(file) = crate::config::ConfigFile::load_path(path.as_deref()) else {
        return cmd;
    };
    let names: Vec<String> = crate::config::with_builtin_agents(file.agents)
        .into_keys()
        .collect();
    let help = format!(
        "Agent type: {} [default: claude-code-subscription]",
        names.join(", ")
    );
    cmd.mut_subcommand("submit", |s| s.mut_arg("agent", |a| a.help(help)))
}

/// `cmd` with the environment variables of its flags (and its
/// subcommands') that are set but empty ignored.
fn without_empty_env(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|a| {
        let empty = a
            .get_env()
            .and_then(std::env::var_os)
            .is_some_and(|v| v.is_empty());
        if empty { a.env(None::<&str>) } else { a }
    });
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, without_empty_env))
}

/// Where the daemon keeps its state and socket (shared by daemon and clients).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "AGENTGATE_ROOT",
        hide_env = true,
        help_heading = "Global options"
    )]
    pub data_dir: Option<PathBuf>,
    /// Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "AGENTGATE_SOCKET",
        hide_env = true,
        help_heading = "Global options"
    )]
    pub socket: Option<PathBuf>,
    /// Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "AGENTGATE_CONFIG",
        hide_env = true,
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (in the foreground, or in the background with --detach); `daemon stop` stops it
    #[command(
        visible_alias = "serve",
        long_about = "Run the daemon: it owns the queue, supervises the agents' processes, persists every \
work order under the root directory, and serves the RPC socket (for this CLI) and the HTTP shim.\n\n\
It runs in the foreground and logs to stderr (filter with AGENTGATE_LOG, default `info`). With --detach it \
starts in the background (a new session, output appended to <root>/logs/daemon.log) and returns once its \
socket answers.\n\n\
Each run is owned by a small supervisor process of its own (in its own session, and its own cgroup where \
the host allows), so running work outlives the daemon: a crash, kill -9 or SIGHUP of the daemon never stops \
it, and the next daemon adopts it. `agentgate daemon stop` (and SIGTERM/SIGINT) stops running work and \
marks it `interrupted`; `daemon stop --keep-running`, `daemon restart` and SIGHUP leave it running.\n\n\
Every setting is taken from its flag, else its AGENTGATE_* environment variable, else the config file, \
else the default shown."
    )]
    Daemon(Deferred<DaemonArgs>),
    /// Submit a work order; prints its id
    Submit(Deferred<SubmitArgs>),
    /// Inspect and control the queue
    #[command(subcommand)]
    Queue(Deferred<QueueCommand>),
    /// Print a one-time link that logs a browser into the daemon's dashboard
    Dashboard(Deferred<DashboardArgs>),
    /// Serve the Model Context Protocol on stdio: agents queue and land work through agentgate
    Mcp(Deferred<McpArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(long_about = "Print a shell completion script on stdout.\n\n\
Install it with, e.g.:\n  \
agentgate completions bash > ~/.local/share/bash-completion/completions/agentgate\n  \
agentgate completions zsh > ~/.zfunc/_agentgate\n  \
agentgate completions fish > ~/.config/fish/completions/agentgate.fish\n\n\
The same scripts are kept in the repository's completions/ directory.")]
    Completions {
        /// Shell to generate for
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Candidates for shell completion (called by the scripts of `completions`)
    #[command(name = "__complete", hide = true)]
    Complete {
        /// bash, zsh or fish
        shell: String,
        /// Index in WORDS of the word being completed
        index: usize,
        /// The command line so far, program name first
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// The per-run supervisor (started by the daemon or a Slurm job)
    #[command(name = "__supervise", hide = true)]
    Supervise {
        /// Read the run's spec from this file (waiting for it to appear) [default: one line on stdin, then "go"]
        #[arg(long, value_name = "FILE")]
        spec_file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The task prompt (for the `shell` agent: the command to run); `-` reads it from stdin
    #[arg(
        required_unless_present = "prompt_file",
        conflicts_with = "prompt_file"
    )]
    pub prompt: Option<String>,
    /// Read the prompt from this file [default: the PROMPT argument]
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,
    /// Agent type: shell, claude-code-subscription, claude-code-api, claude-agent-sdk, codex, gemini, or one from the config [default: claude-code-subscription]
    #[arg(long, value_name = "TYPE")]
    pub agent: Option<String>,
    /// Run in this local directory [default: the current directory]
    #[arg(long, value_name = "DIR", conflicts_with_all = ["url", "repo"])]
    pub path: Option<PathBuf>,
    /// Clone this repository: a GitHub URL, or any git URL (file:// included) [default: none, use --path]
    #[arg(long, value_name = "URL", conflicts_with = "repo")]
    pub url: Option<String>,
    /// Clone this GitHub repository: OWNER/REPO, or REPO with --owner or AGENTGATE_GITHUB_OWNER [default: none, use --path]
    #[arg(long, value_name = "[OWNER/]REPO")]
    pub repo: Option<String>,
    /// GitHub owner for --repo [default: from OWNER/REPO, else $AGENTGATE_GITHUB_OWNER]
    #[arg(long, value_name = "OWNER", requires = "repo")]
    pub owner: Option<String>,
    /// Branch to clone (with --url or --repo) [default: the repository's default branch]
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Time limit of a run, 1s to 7d, e.g. 90s, 30m, 2h [default: 1h]
    #[arg(long, value_name = "DUR")]
    pub max_time: Option<String>,
    /// Maximum agent iterations, as AgentGate counts them (recorded; `{max_iterations}` in an agent type's command) [default: 3]
    #[arg(long, value_name = "N")]
    pub max_iterations: Option<u32>,
    /// Set a variable for this work order's agent only, KEY=VALUE (repeatable) [default: none]
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read variables for this work order from a file of KEY=VALUE lines (# comments) [default: none]
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Run in a git worktree of its own (branch agentgate/<id>) made from the local repository's HEAD [default: the config's `worktree`, else off]
    #[arg(long, overrides_with = "no_worktree")]
    pub worktree: bool,
    /// A shell command run in the workspace before the agent, e.g. 'npm ci'; if it fails the work order fails and the agent never starts [default: the agent type's `setup`, else a fresh worktree's .agentgate/setup if executable]
    #[arg(long, value_name = "CMD")]
    pub setup: Option<String>,
    /// Run in the directory itself even if the config's `worktree` is on [default: off]
    #[arg(long)]
    pub no_worktree: bool,
    /// Start only after this work order succeeded; if it fails or is canceled, this one is canceled (result dependency_failed). Repeatable; an ID or a unique prefix [default: no dependencies]
    #[arg(long = "after", value_name = "ID")]
    pub after: Vec<String>,
    #[command(flatten)]
    pub order: OrderArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    #[command(flatten)]
    pub block: BlockArgs,
    /// Print the created work order as JSON instead of its id
    #[arg(long)]
    pub json: bool,
}

/// Where new work goes in the queue, and its tags (submit, restart).
#[derive(Debug, Args, Clone, Default)]
pub struct OrderArgs {
    /// Higher starts first; FIFO within a priority; may be negative [default: 0]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub priority: Option<i32>,
    /// Tag it; `queue list --label L` finds it (repeatable; letters, digits and . _ : / = + @ -) [default: no labels]
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
}

/// Work orders a command acts on.
#[derive(Debug, Args, Clone, Default)]
pub struct Targets {
    /// Work order IDs, or unique prefixes of them (at least 4 characters)
    #[arg(value_name = "ID", required_unless_present = "last")]
    pub ids: Vec<String>,
    /// The newest work order (as well as any IDs given)
    #[arg(long)]
    pub last: bool,
}

/// Blocking on new work right away (submit, continue).
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct BlockArgs {
    /// Then wait until it ends, like `queue wait` (same exit codes) [default: return at once]
    #[arg(long, conflicts_with = "follow")]
    pub wait: bool,
    /// Then stream its output until it ends, like `queue logs --follow` (same exit codes) [default: return at once]
    #[arg(long)]
    pub follow: bool,
}

/// A status flag's values: the five shown (and offered by TAB completion),
/// plus AgentGate's legacy running-like ones, accepted but hidden.
pub(crate) fn parse_status() -> impl clap::builder::TypedValueParser<Value = Status> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        Status::ALL.map(|s| PossibleValue::new(s.as_str()).hide(s.api() != s)),
    )
    .try_map(|s| s.parse::<Status>())
}

/// The generated files kept in the repository, as (path relative to the
/// repository root, contents): shell completions under `completions/` and man
/// pages (one per command) under `man/`. `tests/cli_generated.rs` checks them
/// and rewrites them with `AGENTGATE_REGENERATE=1`.
pub fn generated_files() -> Vec<(String, Vec<u8>)> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "agentgate.bash"),
        (Shell::Zsh, "_agentgate"),
        (Shell::Fish, "agentgate.fish"),
    ] {
        files.push((
            format!("completions/{name}"),
            crate::client::complete::script(shell),
        ));
    }
    deferred::build_eagerly();
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    files.extend(crate::man::pages(&cmd));
    files
}
