//! agentgate: one binary that is both the daemon and its client.

use std::process::ExitCode;

use clap::Parser;

use agentgate::cli::{self, Cli, Command, DaemonAction};
use agentgate::client::{self, CliError, ClientCommand};
use agentgate::{config, daemon};

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Daemon(args) => match args.action {
            Some(DaemonAction::Stop) => client::run(&cli.global, ClientCommand::Stop),
            None => run_daemon(&cli.global, &args),
        },
        Command::Submit(a) => client::run(&cli.global, ClientCommand::Submit(a)),
        Command::Queue(q) => client::run(&cli.global, ClientCommand::Queue(q)),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "agentgate", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn run_daemon(global: &cli::GlobalArgs, args: &cli::DaemonArgs) -> Result<(), CliError> {
    let file = config::ConfigFile::load(global)?;
    let settings = config::DaemonSettings::resolve(global, args, file)?;
    init_logging();
    daemon::run(settings).map_err(|e| CliError::Failed(e.to_string()))
}
