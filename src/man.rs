//! Man pages: clap_mangen's pages (name, synopsis, description, options,
//! subcommands) plus EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES sections
//! written here for each command. Generated into `man/` and checked for
//! staleness by `tests/cli_generated.rs`.

use roff::{Roff, bold, roman};

/// `agentgate queue wait` -> ["queue", "wait"].
type Path<'a> = &'a [&'a str];

/// Every page: (file name, roff source).
pub fn pages(root: &clap::Command) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), &mut out);
    out
}

fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(String, Vec<u8>)>) {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    // Rendering into memory cannot fail.
    let _ = man.render(&mut page);
    let page = String::from_utf8_lossy(&page).into_owned();
    let words: Vec<&str> = path.iter().map(String::as_str).collect();
    out.push((
        format!("man/{}", man.get_filename()),
        with_sections(&page, &words).into_bytes(),
    ));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        path.push(sub.get_name().to_string());
        walk(sub, path, out);
        path.pop();
    }
}

/// The page with our sections in place of clap's EXTRA (the `--help`
/// footer, which EXIT STATUS says better), before VERSION.
fn with_sections(page: &str, path: Path<'_>) -> String {
    let mut page = page.to_string();
    if let Some(start) = page.find(".SH EXTRA\n") {
        let end = page[start + 1..]
            .find("\n.SH ")
            .map_or(page.len(), |e| start + 1 + e + 1);
        page.replace_range(start..end, "");
    }
    let ours = sections(path);
    match page.find(".SH VERSION\n") {
        Some(at) => page.insert_str(at, &ours),
        None => page.push_str(&ours),
    }
    page
}

fn sections(path: Path<'_>) -> String {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_status(path) {
        r.control("TP", [])
            .text([bold(code)])
            .text([roman(meaning)]);
    }
    r.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in environment(path) {
        r.control("TP", [])
            .text([bold(name)])
            .text([roman(meaning)]);
    }
    r.control("SH", ["FILES"]);
    for (name, meaning) in FILES {
        r.control("TP", [])
            .text([bold(*name)])
            .text([roman(*meaning)]);
    }
    r.control("SH", ["EXAMPLES"]);
    for (what, command) in examples(path) {
        r.control("TP", []).text([roman(what)]);
        for line in command.lines() {
            r.text([bold(line)]).control("br", []);
        }
    }
    // The page already defines the apostrophe string the text uses.
    r.render()
        .lines()
        .filter(|l| !l.starts_with(".ie \\n(.g") && !l.starts_with(".el .ds Aq"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn exit_status(path: Path<'_>) -> Vec<(&'static str, &'static str)> {
    let mut codes = vec![("0", "Done.")];
    match path {
        ["queue", "wait"] => {
            codes[0] = ("0", "Every work order succeeded.");
            codes.push(("1", "One failed or was canceled, or the daemon refused the request (an unknown id)."));
        }
        ["queue", "logs"] | ["submit"] => {
            codes.push(("1", "The daemon refused or failed the request; with --follow (or --wait), the work order did not succeed."));
        }
        ["daemon", "stop"] => {
            codes[0] = ("0", "The daemon stopped, or none was running.");
            codes.push(("1", "The daemon accepted the shutdown but did not exit in time."));
        }
        ["daemon"] | [] => {
            codes.push(("1", "The daemon could not start (another holds the root, a bad setting), or refused the request."));
        }
        _ => codes.push((
            "1",
            "The daemon refused or failed the request: an unknown or ambiguous id, a work order in the wrong state, input it rejected. With several ids, at least one was refused (the others were done).",
        )),
    }
    codes.push((
        "2",
        "Usage error: an unknown flag or subcommand, a bad value (named as typed, e.g. --max-time 8d: at most 7d), a bad config file.",
    ));
    if !matches!(path, ["daemon"] | ["completions"]) {
        codes.push((
            "3",
            "The daemon is unreachable (not running, no socket), or went away during the command.",
        ));
    }
    if matches!(
        path,
        ["queue", "wait"] | ["submit"] | ["queue", "restart"] | ["queue", "continue"] | []
    ) {
        codes.push(("4", "queue wait (or --wait): --timeout expired first."));
    }
    if matches!(path, ["queue", "wait"] | ["queue", "logs"] | []) {
        codes.push(("130", "Interrupted (Ctrl-C); the work orders go on."));
    }
    codes
}

fn environment(path: Path<'_>) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![
        ("AGENTGATE_ROOT", "The root data directory (as --data-dir)."),
        (
            "AGENTGATE_SOCKET",
            "The daemon's Unix socket (as --socket).",
        ),
        ("AGENTGATE_CONFIG", "The config file (as --config)."),
        (
            "XDG_RUNTIME_DIR",
            "The socket is $XDG_RUNTIME_DIR/agentgate/agentgate.sock unless configured.",
        ),
    ];
    match path {
        ["daemon"] | [] => env.extend([
            ("AGENTGATE_HTTP", "HTTP shim address, or off."),
            ("AGENTGATE_API_KEY, AGENTGATE_API_KEY_FILE", "The HTTP API key, or the file holding it."),
            ("AGENTGATE_MAX_CONCURRENT, AGENTGATE_STAGGER_DELAY, AGENTGATE_MIN_MEMORY", "Admission limits at start (queue config changes them while the daemon runs)."),
            ("AGENTGATE_NO_AUTO_PROCESS, AGENTGATE_NO_STALE_CHECK", "Set to 1 to turn automatic starts or the stale detector off."),
            ("AGENTGATE_STALE_CHECK_INTERVAL, AGENTGATE_STALE_THRESHOLD, AGENTGATE_MAX_RUNNING_TIME, AGENTGATE_GRACE_PERIOD, AGENTGATE_STUCK_THRESHOLD", "Durations of the stale detector, stops and health alerts."),
            ("AGENTGATE_EXECUTOR, AGENTGATE_CGROUPS", "Where runs execute (local, slurm); cgroups auto or off."),
            ("AGENTGATE_GITHUB_OWNER, AGENTGATE_GITHUB_BASE_URL", "Owner for a bare repository name; clone base for GitHub sources."),
            ("AGENTGATE_LOG", "Log filter (tracing env-filter syntax), default info."),
        ]),
        ["submit"] => env.push(("AGENTGATE_GITHUB_OWNER", "Owner for --repo REPO given without one.")),
        ["queue", "restart"] => env.push(("VISUAL, EDITOR", "The editor of --edit-prompt (else vi).")),
        _ => {}
    }
    if matches!(
        path,
        ["queue", "list"] | ["queue", "show"] | ["queue", "health"] | ["queue", "wait"] | []
    ) {
        env.push(("NO_COLOR", "Set (non-empty) for no colour on a terminal."));
        env.push((
            "COLUMNS",
            "The terminal width tables fit, instead of the terminal's own.",
        ));
    }
    env
}

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/agentgate/config.toml",
        "The config file (settings, agent types, hooks).",
    ),
    (
        "~/.local/share/agentgate/",
        "The root, unless configured: work-orders/<id>.json, runs/<run-id>/ (records and logs), workspaces/<id>/ (clones, worktrees).",
    ),
    (
        "<root>/queue-settings.json",
        "Changes made with queue pause and queue config; they win over the configured values until queue config --reset.",
    ),
    (
        "<root>/daemon.json, <root>/daemon.lock",
        "The running daemon (pid, socket, HTTP address) and its lock.",
    ),
    (
        "$XDG_RUNTIME_DIR/agentgate/agentgate.sock",
        "The daemon's socket, unless configured.",
    ),
];

fn examples(path: Path<'_>) -> Vec<(&'static str, &'static str)> {
    match path {
        [] => vec![
            (
                "Start the daemon in the background, queue a job, watch it:",
                "agentgate daemon --detach\nagentgate submit --agent shell 'cargo test'\nagentgate queue logs --follow --last",
            ),
            (
                "Run B only after A succeeded:",
                "A=$(agentgate submit --agent shell 'make build')\nagentgate submit --agent shell --after $A 'make deploy'",
            ),
        ],
        ["daemon"] => vec![
            (
                "Foreground, 10 s between automatic starts, four at once:",
                "agentgate daemon --stagger-delay 10s --max-concurrent 4",
            ),
            (
                "In the background, HTTP off:",
                "agentgate daemon --detach --http off",
            ),
        ],
        ["daemon", "stop"] => vec![
            (
                "Stop the daemon and its running work:",
                "agentgate daemon stop",
            ),
            (
                "Stop the daemon, leaving running work to the next one:",
                "agentgate daemon stop --keep-running",
            ),
        ],
        ["daemon", "restart"] => vec![(
            "Upgrade in place, keeping running work:",
            "cargo install --path . && agentgate daemon restart",
        )],
        ["submit"] => vec![
            (
                "A Claude Code task in the current directory:",
                "agentgate submit 'Fix the failing parser test'",
            ),
            (
                "A shell job after two others, high priority, labelled:",
                "agentgate submit --agent shell --after 1dYp --after rqpt --priority 10 --label nightly 'make release'",
            ),
            (
                "A GitHub repository's branch, waiting for the end:",
                "agentgate submit --repo acme/widget --branch dev --wait 'Update the changelog'",
            ),
        ],
        ["queue"] => vec![(
            "What is queued and why:",
            "agentgate queue list --status queued",
        )],
        ["queue", "list"] => vec![
            (
                "The newest 20, fitted to the terminal:",
                "agentgate queue list",
            ),
            (
                "Everything labelled nightly, in full:",
                "agentgate queue list --all --label nightly --wide",
            ),
            (
                "Ids of failed work, for a script:",
                "agentgate queue list --status failed --all | cut -f1",
            ),
        ],
        ["queue", "show"] => vec![
            (
                "By unique prefix, and the newest:",
                "agentgate queue show 1dYp --last",
            ),
            (
                "Why a work order waits:",
                "agentgate queue show --json 1dYp | jq -r .queuedReason",
            ),
        ],
        ["queue", "cancel"] => vec![(
            "Several at once, by prefix:",
            "agentgate queue cancel 1dYp rqpt GB0i",
        )],
        ["queue", "kill"] => vec![
            (
                "Stop a tree, 10 seconds to clean up:",
                "agentgate queue kill 1dYp --grace 10s --reason 'taking too long'",
            ),
            ("At once:", "agentgate queue kill --last --force"),
        ],
        ["queue", "purge"] => vec![
            ("What would go:", "agentgate queue purge --dry-run"),
            (
                "Failed work older than a week, without asking:",
                "agentgate queue purge --status failed --older-than 7d --yes",
            ),
        ],
        ["queue", "health"] => vec![(
            "For monitoring:",
            "agentgate queue health --json | jq .status",
        )],
        ["queue", "start"] => vec![(
            "Start a queued one now, or retry a failed one:",
            "agentgate queue start 1dYp",
        )],
        ["queue", "restart"] => vec![
            ("Run a finished job again:", "agentgate queue restart 1dYp"),
            (
                "Again with a reworded prompt:",
                "agentgate queue restart --last --edit-prompt",
            ),
        ],
        ["queue", "set-priority"] => vec![(
            "Move a queued job to the front:",
            "agentgate queue set-priority 1dYp 100",
        )],
        ["queue", "pause"] => vec![(
            "Let running work finish, start nothing new:",
            "agentgate queue pause",
        )],
        ["queue", "resume"] => vec![("Start queued work again:", "agentgate queue resume")],
        ["queue", "config"] => vec![
            (
                "Allow three at once and no stagger, without a restart:",
                "agentgate queue config --max-concurrent 3 --stagger-delay 0",
            ),
            (
                "Back to the configured values:",
                "agentgate queue config --reset",
            ),
        ],
        ["queue", "logs"] => vec![
            (
                "Follow the newest work order until it ends:",
                "agentgate queue logs --follow --last",
            ),
            (
                "The last 20 lines of stderr:",
                "agentgate queue logs 1dYp --stderr --tail 20",
            ),
        ],
        ["queue", "continue"] => vec![(
            "Resume the agent's session:",
            "agentgate queue continue 1dYp 'Now add a test for it'",
        )],
        ["queue", "wait"] => vec![(
            "Block until both end; give up after an hour:",
            "agentgate queue wait 1dYp rqpt --timeout 1h",
        )],
        ["completions"] => vec![(
            "Install for bash:",
            "agentgate completions bash > ~/.local/share/bash-completion/completions/agentgate",
        )],
        _ => vec![],
    }
}
