//! `agentgate queue ...`: every subcommand that inspects or controls the
//! queue.

use clap::Subcommand;

use super::*;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List work orders, newest first: id, status, agent, age, run duration, why it waits, prompt
    #[command(
        long_about = "List work orders, newest first: id, status, agent, priority and labels (when any \
has them), age, run duration, why a queued one waits, and the prompt.\n\n\
On a terminal the table fits its width: the prompt is cut with …, narrow terminals drop the less \
important columns; --wide shows every column in full (full agent names), --no-truncate cuts nothing. \
Piped, it prints one work order per line, tab-separated, nothing cut: id, status, agent, priority, \
labels, age, duration, queued reason, prompt (`-` for none). Notes such as \"showing 20 of 44\" go to \
stderr."
    )]
    #[command(visible_alias = "ls")]
    List {
        /// Only this status: queued, running, succeeded, failed, canceled (repeatable) [default: all statuses]
        #[arg(long = "status", value_name = "STATUS", value_parser = parse_status())]
        statuses: Vec<Status>,
        /// Only work orders with this label (repeatable: all of them) [default: any labels] [default: any labels]
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
        /// At most this many [default: 20]
        #[arg(long, value_name = "N", conflicts_with = "all")]
        limit: Option<u32>,
        /// All of them (lifts --limit) [default: the newest 20]
        #[arg(long)]
        all: bool,
        /// Every column, in full (full agent names, reasons, labels); only the prompt is cut to fit
        #[arg(long)]
        wide: bool,
        /// Cut nothing, even if lines get wider than the terminal
        #[arg(long)]
        no_truncate: bool,
        /// Print `{items,total,limit,offset,hasMore}` as JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show work orders with their runs, dependencies and why they wait
    #[command(visible_alias = "st")]
    Show {
        #[command(flatten)]
        targets: Targets,
        /// Print the work order object (with a `runs` array) as JSON instead of text; an array for several
        #[arg(long)]
        json: bool,
    },
    /// Cancel work orders: a queued one never starts, a running one has its process tree stopped
    Cancel {
        #[command(flatten)]
        targets: Targets,
        /// Print `{id,status,wasRunning,killed}` as JSON; an array for several
        #[arg(long)]
        json: bool,
    },
    /// Stop running work orders' process trees (SIGTERM, grace period, SIGKILL)
    Kill {
        #[command(flatten)]
        targets: Targets,
        /// SIGKILL at once, no grace period [default: SIGTERM first]
        #[arg(long)]
        force: bool,
        /// Grace period before SIGKILL, at most 1h [default: the daemon's, 5s]
        #[arg(long, value_name = "DUR")]
        grace: Option<String>,
        /// Why; recorded in the work order's error [default: "killed by user"]
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Print `{id,success,forcedKill,durationMs,status,message}` as JSON; an array for several
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
    #[command(visible_alias = "rm")]
    Purge {
        /// Work order IDs or unique prefixes (at least 4 characters) [default: every terminal work order, or those matching the filters]
        #[arg(value_name = "ID")]
        ids: Vec<String>,
        /// The newest work order (as well as any IDs given)
        #[arg(long)]
        last: bool,
        /// Purge work orders with this status (repeatable) [default: succeeded, failed, canceled]
        #[arg(long = "status", value_name = "STATUS", value_parser = parse_status())]
        statuses: Vec<Status>,
        /// Only those created longer ago than this, e.g. 7d, 12h [default: any age]
        #[arg(long, value_name = "DUR")]
        older_than: Option<String>,
        /// List what would be purged; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation (needed without a TTY when more than one would go)
        #[arg(long, short)]
        yes: bool,
        /// Also delete the agentgate/<id> branch of a purged worktree [default: keep it, it holds the agent's work]
        #[arg(long)]
        delete_branch: bool,
        /// Print `{deletedCount,deletedIds,wouldDelete?}` as JSON
        #[arg(long)]
        json: bool,
    },
    /// Queue health: counts, limits, memory, why work waits, alerts
    Health {
        /// Print the health object (as GET /api/v1/queue/health) as JSON
        #[arg(long)]
        json: bool,
    },
    /// A worktree's changes against the commit it started from (commits, uncommitted and untracked), as git shows them
    #[command(
        long_about = "Show what a work order run with --worktree changed, against the commit its worktree \
started from: the commits on its branch agentgate/<id> plus whatever the agent left uncommitted or \
untracked, as `git diff` shows them (paged on a terminal, plain when piped). Nothing is changed to show it. \
The same is GET /api/v1/work-orders/:id/diff (?stat=true: the files as JSON)."
    )]
    Diff(DiffArgs),
    /// Land a worktree's work on the branch it started from (or --into): merge, fast-forward or --squash
    #[command(
        long_about = "Land a work order's worktree on the branch that was checked out when it was submitted \
(or --into BRANCH). What the agent left uncommitted is committed on agentgate/<id> first. A branch \
checked out nowhere only has its ref moved; a branch checked out in your repository has its checkout \
updated too, unless your uncommitted changes touch a file the merge changes (then nothing changes and \
the files are named). Conflicts change nothing anywhere; the message says how to resolve them. Running \
work cannot be merged. Merging again after `queue continue` lands only the new work. Recorded on the \
work order (`merges`); the same is POST /api/v1/work-orders/:id/merge."
    )]
    Merge(MergeArgs),
    /// Remove work orders' worktrees and delete their branches (refused for unmerged work unless --force)
    Discard(DiscardArgs),
    /// Push a worktree's branch agentgate/<id> to a remote (uncommitted work committed on it first)
    Push(PushArgs),
    /// Push a worktree's branch and open a pull request with the GitHub CLI (gh)
    Pr(PrArgs),
    /// Usage across work orders: counts, run time and cost per agent, label, day or status
    #[command(
        long_about = "Usage across work orders, one row per group: work orders, succeeded, failed, \
canceled, still active, median and total run time, and cost (the sum of what agents reported; \
`n/a` counts the ended ones that reported none). The last row is the total. Served from the \
daemon's memory; the same report is GET /api/v1/stats."
    )]
    Stats {
        /// Group by agent type, label (one row per label), day (UTC, of creation) or status
        #[arg(long, value_name = "GROUP", value_parser = ["agent", "label", "day", "status"], default_value = "agent")]
        by: String,
        /// Only work orders created in the last DUR, e.g. 7d, 24h [default: all held]
        #[arg(long, value_name = "DUR")]
        since: Option<String>,
        /// Only work orders with this label (repeatable: all of them) [default: any labels]
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
        /// Print the report (as GET /api/v1/stats) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Start queued (or retry failed) work orders now; bypasses the stagger delay, not the concurrency limit
    Start {
        #[command(flatten)]
        targets: Targets,
        /// Print `{id,runId,status,startedAt}` as JSON; an array for several
        #[arg(long)]
        json: bool,
    },
    /// Queue a copy of finished work orders (any end: succeeded, failed, canceled), linked to the original
    #[command(
        long_about = "Queue a copy of each work order named (it must have ended: succeeded, failed or \
canceled): same prompt, agent, workspace, limits, variables, labels, priority and dependencies, linked to \
the original (`restartedFrom`). Flags override what is copied: --prompt or --edit-prompt for a new \
prompt, --env adds or replaces variables, --label replaces the labels, --after replaces the dependencies \
(--no-after drops them). Prints the new ids. `queue start` keeps its meaning: it starts a queued work order, \
or retries a failed one in place."
    )]
    Restart {
        #[command(flatten)]
        targets: Targets,
        /// A new prompt; `-` reads it from stdin [default: the original's]
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["prompt_file", "edit_prompt"])]
        prompt: Option<String>,
        /// Read the new prompt from this file [default: the original's]
        #[arg(long, value_name = "FILE", conflicts_with = "edit_prompt")]
        prompt_file: Option<PathBuf>,
        /// Edit the original prompt in $VISUAL or $EDITOR first [default: reuse it as it is]
        #[arg(long)]
        edit_prompt: bool,
        /// Agent type [default: the original's]
        #[arg(long, value_name = "TYPE")]
        agent: Option<String>,
        /// Time limit of a run, 1s to 7d [default: the original's]
        #[arg(long, value_name = "DUR")]
        max_time: Option<String>,
        /// Maximum agent iterations [default: the original's]
        #[arg(long, value_name = "N")]
        max_iterations: Option<u32>,
        /// Add or replace a variable, KEY=VALUE (repeatable) [default: the original's variables]
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Wait for these work orders instead of the original's dependencies (repeatable) [default: the original's]
        #[arg(long = "after", value_name = "ID", conflicts_with = "no_after")]
        after: Vec<String>,
        /// Drop the original's dependencies [default: keep them]
        #[arg(long)]
        no_after: bool,
        /// Priority [default: the original's]
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        priority: Option<i32>,
        /// Labels instead of the original's (repeatable) [default: the original's]
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
        #[command(flatten)]
        block: BlockArgs,
        /// Print the created work order as JSON instead of its id; an array for several
        #[arg(long)]
        json: bool,
    },
    /// Change the priority of a queued work order (higher starts first)
    SetPriority {
        /// Work order ID or unique prefix
        #[arg(value_name = "ID")]
        id: String,
        /// The new priority; may be negative
        #[arg(value_name = "N", allow_negative_numbers = true)]
        priority: i32,
        /// Print the work order as JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop starting queued work (running work goes on); kept across daemon restarts
    Pause {
        /// Print the queue settings (as GET /api/v1/queue/config) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Start queued work again after `queue pause`
    Resume {
        /// Print the queue settings (as GET /api/v1/queue/config) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show or change the running daemon's admission settings, without a restart
    #[command(
        long_about = "Show the admission settings in force, or change them in the running daemon: \
nothing restarts and running work is not touched. A change is kept in <root>/queue-settings.json and \
wins over the flags, environment and config file the daemon was started with, across restarts, until \
--reset (which goes back to the configured values). `queue health` shows both."
    )]
    Config {
        /// Work orders running at once [default: unchanged]
        #[arg(long, value_name = "N")]
        max_concurrent: Option<u64>,
        /// Minimum time between automatic starts, e.g. 0, 10s, 1m [default: unchanged]
        #[arg(long, value_name = "DUR")]
        stagger_delay: Option<String>,
        /// Start work only while MemAvailable is at least this, e.g. 0, 2GiB [default: unchanged]
        #[arg(long, value_name = "SIZE")]
        min_memory: Option<String>,
        /// Drop every run-time change: back to the configured values [default: keep them]
        #[arg(long)]
        reset: bool,
        /// Print the settings (as GET /api/v1/queue/config) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a work order's output: stdout and stderr interleaved as they were written
    #[command(
        long_about = "Print the output of a work order's run: its stdout and stderr interleaved in the order \
they were written (--stdout or --stderr for one of them). An agent with a structured output (Claude's \
stream-json) is shown as a readable transcript: assistant text, one line per tool call, results shortened; \
--raw prints the stream as written.\n\n\
With --follow, keep printing output as the agent writes it (the daemon pushes it over the socket) until \
the work order ends; a queued work order is followed from its start. Then exit 0 if it succeeded and 1 \
otherwise (3 if the daemon went away), so `agentgate queue logs --follow ID && next-step` works."
    )]
    #[command(visible_alias = "log")]
    Logs {
        /// Work order ID or unique prefix (at least 4 characters)
        #[arg(
            value_name = "ID",
            required_unless_present = "last",
            conflicts_with = "last"
        )]
        id: Option<String>,
        /// The newest work order
        #[arg(long)]
        last: bool,
        /// Keep printing new output until the work order ends; exit 0 if it succeeded, 1 otherwise [default: print what is there and exit]
        #[arg(long, short)]
        follow: bool,
        /// Start with the last N lines [default: all of it]
        #[arg(long, short = 'n', value_name = "N")]
        tail: Option<u64>,
        /// Only the run's stdout [default: stdout and stderr interleaved]
        #[arg(long, conflicts_with = "stderr")]
        stdout: bool,
        /// Only the run's stderr [default: stdout and stderr interleaved]
        #[arg(long)]
        stderr: bool,
        /// An earlier run: its number (1 = the first) or its run id [default: the current run]
        #[arg(long, value_name = "N|RUN_ID")]
        run: Option<String>,
        /// Prefix each line with the time it was written [default: no timestamps]
        #[arg(long)]
        timestamps: bool,
        /// Print a structured output (stream-json) as written, not as a transcript [default: transcript]
        #[arg(long)]
        raw: bool,
    },
    /// Follow up a finished work order: resume its agent's session in the same workspace with a new prompt
    #[command(
        long_about = "Submit a follow-up work order that resumes the agent session of a finished work order \
(Claude: `--resume <sessionId>`) in the same workspace (its directory, clone or worktree), linked to it \
(`parentId`). Refused when the agent type has no resume_command or the work order recorded no session."
    )]
    Continue {
        /// The work order to follow up (ID or unique prefix); with --last, the prompt
        #[arg(value_name = "ID")]
        id: String,
        /// The new prompt; `-` reads it from stdin
        prompt: Option<String>,
        /// Follow up the newest work order (then the only argument is the prompt) [default: off]
        #[arg(long)]
        last: bool,
        /// Time limit of the run [default: the parent's]
        #[arg(long, value_name = "DUR")]
        max_time: Option<String>,
        /// Maximum agent iterations [default: the parent's]
        #[arg(long, value_name = "N")]
        max_iterations: Option<u32>,
        #[command(flatten)]
        block: BlockArgs,
        /// Print the created work order as JSON instead of its id
        #[arg(long)]
        json: bool,
    },
    /// Block until every listed work order has ended
    #[command(
        long_about = "Block until every listed work order has ended (succeeded, failed or canceled), then \
print one line per work order: ID, status and why it ended.\n\n\
On a terminal, a one-line progress display (counts per status, elapsed time) is shown on stderr and \
erased at the end (or on Ctrl-C); when stderr is not a terminal nothing else is printed.\n\n\
Exit status: 0 if every one succeeded; 1 if any failed or was canceled (or an ID is unknown); 4 if \
--timeout expired first (with --json, what is known is printed all the same); 3 if the daemon is \
unreachable or goes away; 130 on Ctrl-C."
    )]
    Wait {
        #[command(flatten)]
        targets: Targets,
        /// Give up after this long and exit 4, e.g. 90s, 10m, 1h30m [default: wait forever]
        #[arg(long, value_name = "DUR")]
        timeout: Option<String>,
        /// Print `{items,allSucceeded}` (items: the work orders) as JSON instead of lines
        #[arg(long)]
        json: bool,
    },
}
