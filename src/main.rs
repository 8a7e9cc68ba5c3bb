//! agentgate: one binary that is both the daemon and its client.

use std::process::ExitCode;

use agentgate::cli::{self, Cli, Command, DaemonAction, DaemonArgs};
use agentgate::client::{self, CliError, ClientCommand};
use agentgate::{config, daemon};

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Clients die quietly of SIGPIPE when their reader goes away
/// (`agentgate queue list | head -1`), as Unix tools do, instead of Rust's
/// default of ignoring it (and panicking in `println!`). The daemon keeps
/// ignoring it: a client closing its socket is an error to handle, not a death.
fn default_sigpipe() {
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    // The per-run supervisor lives as long as its run: it skips the CLI
    // parser and everything else it does not need, to stay small.
    if let Some(code) = agentgate::supervisor::from_args() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => usage_failure(e),
    };
    if let Command::Supervise { spec_file } = &cli.command {
        // The per-run supervisor: no runtime, no logging setup, no config.
        let code = agentgate::supervisor::main(spec_file.as_deref());
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let is_daemon = matches!(&cli.command, Command::Daemon(a) if a.action.is_none() && !a.detach);
    if !is_daemon {
        default_sigpipe();
    }
    let result = match cli.command {
        Command::Daemon(args) => match args.into_inner() {
            DaemonArgs {
                action: Some(DaemonAction::Stop { keep_running, yes }),
                ..
            } => client::run(&cli.global, ClientCommand::Stop { keep_running, yes }),
            DaemonArgs {
                action: Some(DaemonAction::Restart),
                ..
            } => client::run(&cli.global, ClientCommand::Restart),
            args if args.detach => client::daemon_ctl::detach(&cli.global, &args),
            args => run_daemon(&cli.global, &args),
        },
        Command::Submit(a) => client::run(&cli.global, ClientCommand::Submit(a.into_inner())),
        Command::Queue(q) => client::run(&cli.global, ClientCommand::Queue(q.into_inner())),
        Command::Supervise { .. } => Ok(()),
        Command::Mcp(_) => client::mcp(&cli.global),
        Command::Dashboard(a) => client::run(&cli.global, ClientCommand::Dashboard(a.into_inner())),
        Command::Completions { shell } => {
            let script = client::complete::script(shell);
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            Ok(())
        }
        Command::Complete {
            shell,
            index,
            words,
        } => return client::complete::run(&cli.global, &shell, index, &words),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !matches!(e, CliError::Reported(_)) {
                eprintln!("error: {}", client::table::one_line(&e.to_string()));
                if json_requested() && !client::json_printed() {
                    client::print_json(&serde_json::json!({"error": client::ids::error_json(&e)}));
                }
            }
            if matches!(e, CliError::Interrupted) {
                die_by_sigint();
            }
            e.exit_code()
        }
    }
}

/// `--json` on the command line (before a `--`): errors are JSON on stdout too.
/// Ctrl-C ends the command as an interrupted program ends: killed by SIGINT
/// (so a shell loop around it stops too), once its line is cleared and said.
fn die_by_sigint() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: restoring the default disposition and raising a signal touch no
    // memory; the default action ends the process here.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::raise(libc::SIGINT);
    }
}

fn json_requested() -> bool {
    std::env::args()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// A command line clap refused: exit 2 with clap's message (help and
/// version exit 0), suggesting only subcommands that are close to what was
/// typed, and as JSON too with `--json`.
fn usage_failure(mut e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // `agentgate list`, `agentgate logs`...: the command is under `queue`.
    if e.kind() == ErrorKind::InvalidSubcommand
        && let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidSubcommand).cloned()
        && let Some(queue) = Cli::built().find_subcommand("queue")
        && queue.find_subcommand(&typed).is_some()
    {
        e.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(vec![format!("queue {typed}")]),
        );
    } else if e.kind() == ErrorKind::InvalidSubcommand
        && let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidSubcommand).cloned()
        && let Some(ContextValue::Strings(suggested)) =
            e.get(ContextKind::SuggestedSubcommand).cloned()
    {
        let close: Vec<String> = suggested
            .into_iter()
            .filter(|s| client::suggest::close(&typed, s))
            .collect();
        if close.is_empty() {
            e.remove(ContextKind::SuggestedSubcommand);
        } else {
            e.insert(
                ContextKind::SuggestedSubcommand,
                ContextValue::Strings(close),
            );
        }
    }
    if e.use_stderr() && json_requested() {
        let rendered = e.render().to_string();
        let line = rendered.lines().next().unwrap_or("");
        let message = line.trim_start_matches("error: ");
        client::print_json(&serde_json::json!({"error": {"code": "usage", "message": message}}));
    }
    e.exit()
}

fn run_daemon(global: &cli::GlobalArgs, args: &cli::DaemonArgs) -> Result<(), CliError> {
    let file = config::ConfigFile::load(global)?;
    let settings = config::DaemonSettings::resolve(global, args, file)?;
    init_logging();
    daemon::run(settings).map_err(|e| CliError::Failed(e.to_string()))
}
