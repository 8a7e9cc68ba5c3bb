//! Client commands: each builds one request, sends it over RPC and renders the
//! reply (a table for people, the HTTP `data` payload with `--json`).

pub mod complete;
pub mod daemon_ctl;
mod dashboard;
mod edit;
pub mod flags;
pub mod ids;
pub mod render;
pub mod stream;
pub mod suggest;
pub mod table;

mod land;
mod list;
mod manage;
mod stats;
mod submit;

use list::list;
use manage::{configure, purge, restart, set_paused};
use submit::{after_ids, created, read_env, read_prompt, submit, typed_flags};

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{BlockArgs, OrderArgs, QueueCommand, SubmitArgs, Targets};
use crate::config::{ConfigError, ConfigFile, Paths};
use crate::model::{SharedWorkOrder, WorkOrder, WorkspaceInput};
use crate::rpc::client::{Client, ClientError};
use crate::rpc::proto::{Reply, Request};
use crate::service::*;
use flags::Typed;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
    #[error("cannot start the client runtime: {0}")]
    Runtime(std::io::Error),
    /// `queue wait --timeout` expired (exit 4).
    #[error("{0}")]
    Timeout(String),
    /// Ctrl-C (exit 130).
    #[error("interrupted")]
    Interrupted,
    /// Failures already told on stderr, one per work order (exit 1).
    #[error("{0}")]
    Reported(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Client(
                ClientError::Unreachable { .. }
                | ClientError::Connect { .. }
                | ClientError::Disconnected(_)
                | ClientError::Timeout { .. }
                | ClientError::NotAnswering { .. },
            ) => 3,
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Timeout(_) => 4,
            CliError::Interrupted => 130,
            _ => 1,
        })
    }

    /// The `code` of the JSON error (`--json`).
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Client(ClientError::Unreachable { .. } | ClientError::Connect { .. }) => {
                "unreachable"
            }
            CliError::Client(ClientError::Disconnected(_)) => "disconnected",
            CliError::Client(ClientError::Protocol(_)) => "protocol",
            CliError::Client(ClientError::Timeout { .. }) => "timeout",
            CliError::Client(ClientError::NotAnswering { .. }) => "not_answering",
            CliError::Client(ClientError::Service(e)) => match e.code {
                ErrorCode::NotFound => "not_found",
                ErrorCode::InvalidState => "invalid_state",
                ErrorCode::BadRequest => "bad_request",
                ErrorCode::Unavailable => "unavailable",
                ErrorCode::Internal => "internal",
            },
            CliError::Config(_) => "config",
            CliError::Usage(_) => "usage",
            CliError::Timeout(_) => "timeout",
            CliError::Interrupted => "interrupted",
            CliError::Failed(_) | CliError::Runtime(_) | CliError::Reported(_) => "failed",
        }
    }
}

/// Set once a JSON value went to stdout: an error after it (a wait that
/// timed out, a work order that failed) is told on stderr only, so stdout
/// stays one JSON value.
static JSON_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process already printed its JSON value.
pub fn json_printed() -> bool {
    JSON_PRINTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// One JSON value on stdout: indented for a person at a terminal, compact
/// (one line, the HTTP body's exact form) for a pipe or a file.
pub fn print_json<T: serde::Serialize + ?Sized>(v: &T) {
    JSON_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
    let tty = std::io::stdout().is_terminal();
    // Buffered: stdout is line-buffered, and indented JSON is many lines.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let _ = if tty {
        serde_json::to_writer_pretty(&mut out, v)
    } else {
        serde_json::to_writer(&mut out, v)
    };
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Runs one client command on a small single-threaded runtime.
pub fn run(global: &crate::cli::GlobalArgs, cmd: ClientCommand) -> Result<(), CliError> {
    let file = ConfigFile::load(global)?;
    let paths = Paths::resolve(global, &file)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    rt.block_on(async move {
        match cmd {
            ClientCommand::Submit(a) => submit(&paths.socket, a).await,
            ClientCommand::Queue(q) => queue(&paths.socket, q).await,
            ClientCommand::Stop { keep_running, yes } => {
                daemon_ctl::stop_daemon(&paths, keep_running, yes).await
            }
            ClientCommand::Restart => daemon_ctl::restart_daemon(&paths).await,
            ClientCommand::Dashboard(a) => dashboard::dashboard(&paths, a).await,
        }
    })
}

/// `agentgate mcp`: the MCP server on stdio, a client of the daemon.
pub fn mcp(global: &crate::cli::GlobalArgs) -> Result<(), CliError> {
    let file = ConfigFile::load(global)?;
    let paths = Paths::resolve(global, &file)?;
    let settings = crate::mcp::McpSettings::resolve(file.mcp.as_ref())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let result = rt.block_on(crate::mcp::serve_stdio(paths.socket, settings));
    // A read of stdin cannot be cancelled: do not wait for it.
    rt.shutdown_background();
    result.map_err(CliError::Failed)
}

// Made once per process and moved once: its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum ClientCommand {
    Submit(SubmitArgs),
    Queue(QueueCommand),
    Stop { keep_running: bool, yes: bool },
    Restart,
    Dashboard(crate::cli::DashboardArgs),
}

pub(crate) async fn call(socket: &Path, req: Request) -> Result<Reply, CliError> {
    let mut client = Client::connect(socket).await?;
    Ok(client.call(req).await?)
}

pub(crate) fn unexpected(r: Reply) -> CliError {
    CliError::Failed(format!("unexpected reply from the daemon: {r:?}"))
}

async fn targets(socket: &Path, t: &Targets) -> Result<Vec<String>, CliError> {
    ids::resolve(socket, &t.ids, t.last).await
}

/// The one work order a command names.
async fn one_target(socket: &Path, id: Option<&str>, last: bool) -> Result<String, CliError> {
    let typed: Vec<String> = id.map(str::to_string).into_iter().collect();
    let mut resolved = ids::resolve(socket, &typed, last).await?;
    resolved.pop().ok_or_else(|| {
        CliError::Usage("name a work order: an ID, a unique prefix, or --last".into())
    })
}

async fn queue(socket: &Path, q: QueueCommand) -> Result<(), CliError> {
    match q {
        QueueCommand::List {
            statuses,
            labels,
            limit,
            all,
            wide,
            no_truncate,
            json,
        } => {
            if limit == Some(0) {
                return Err(CliError::Usage("--limit 0: at least 1".into()));
            }
            let query = ListQuery {
                statuses,
                labels,
                limit: if all { None } else { Some(limit.unwrap_or(20)) },
                offset: 0,
                id_prefix: None,
            };
            list(socket, query, json, render::ListStyle { wide, no_truncate }).await
        }
        QueueCommand::Show { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            let several = ids.len() > 1;
            ids::for_each(
                socket,
                ids,
                json,
                |id| Request::Show(crate::service::ShowRequest { id }),
                |r| match r {
                    Reply::Show(d) => {
                        let text = table::wrap_for_terminal(&render::detail(&d));
                        Ok((
                            if several { format!("{text}\n") } else { text },
                            d.to_json(),
                        ))
                    }
                    r => Err(unexpected(r)),
                },
            )
            .await
        }
        QueueCommand::Cancel { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            ids::for_each(
                socket,
                ids,
                json,
                |id| Request::Cancel(crate::service::CancelRequest { id }),
                |r| match r {
                    Reply::Canceled(c) => {
                        let how = if c.killed {
                            "its process tree was stopped"
                        } else {
                            "it was not running"
                        };
                        if !c.durable {
                            eprintln!("warning: {NOT_DURABLE}");
                        }
                        Ok((format!("canceled {} ({how})", c.id), c.to_json()))
                    }
                    r => Err(unexpected(r)),
                },
            )
            .await
        }
        QueueCommand::Kill {
            targets: t,
            force,
            grace,
            reason,
            json,
        } => {
            let grace_ms = flags::opt_millis_in(
                "--grace",
                grace.as_deref(),
                std::time::Duration::ZERO,
                std::time::Duration::from_secs(3600),
            )?;
            let ids = targets(socket, &t).await?;
            let request = |id| {
                Request::Kill(KillRequest {
                    id,
                    force,
                    grace_ms,
                    reason: reason.clone(),
                })
            };
            ids::for_each(socket, ids, json, request, |r| match r {
                // Nothing was stopped: for a person (and a script) that failed.
                Reply::Killed(k) if k.already_ended => Err(CliError::Failed(k.message)),
                Reply::Killed(k) => {
                    if !k.durable {
                        eprintln!("warning: {NOT_DURABLE}");
                    }
                    Ok((
                        format!(
                            "killed {}: {}{}{}",
                            k.id,
                            k.message,
                            // Nothing ran (canceled before it started): no time to tell.
                            match k.duration_ms {
                                0 => String::new(),
                                ms => format!(" in {ms} ms"),
                            },
                            if k.forced_kill { " (SIGKILL)" } else { "" }
                        ),
                        k.to_json(),
                    ))
                }
                r => Err(unexpected(r)),
            })
            .await
        }
        QueueCommand::Purge {
            ids: typed,
            last,
            statuses,
            older_than,
            dry_run,
            yes,
            delete_branch,
            json,
        } => {
            let older_than_ms = older_than
                .as_deref()
                .map(|d| flags::duration("--older-than", d))
                .transpose()?
                .map(|d| d.as_millis() as u64);
            let ids = ids::resolve(socket, &typed, last).await?;
            purge(
                socket,
                PurgeRequest {
                    ids,
                    statuses,
                    older_than_ms,
                    dry_run,
                    delete_branch,
                },
                yes,
                json,
            )
            .await
        }
        QueueCommand::Health { json } => {
            // A probe: a daemon that does not answer within seconds is
            // reported as such (exit 3), not waited for.
            let h = Client::probe(socket, crate::service::HealthRequest).await?;
            if json {
                print_json(&h.to_json());
            } else {
                println!("{}", table::wrap_for_terminal(&render::health(&h)));
            }
            Ok(())
        }
        QueueCommand::Diff(a) => land::diff(socket, a).await,
        QueueCommand::Merge(a) => land::merge(socket, a).await,
        QueueCommand::Discard(a) => land::discard(socket, a).await,
        QueueCommand::Push(a) => {
            let id = one_target(socket, a.id.as_deref(), a.last).await?;
            land::push(socket, id, a.remote, false, None, false, a.json).await
        }
        QueueCommand::Pr(a) => {
            let id = one_target(socket, a.id.as_deref(), a.last).await?;
            land::push(socket, id, None, true, a.title, a.draft, a.json).await
        }
        QueueCommand::Stats {
            by,
            since,
            labels,
            json,
        } => stats::run(socket, &by, since.as_deref(), labels, json).await,
        QueueCommand::Start { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            ids::for_each(
                socket,
                ids,
                json,
                |id| Request::Start(crate::service::StartRequest { id }),
                |r| match r {
                    Reply::Started(s) => {
                        Ok((format!("started {} (run {})", s.id, s.run_id), s.to_json()))
                    }
                    r => Err(unexpected(r)),
                },
            )
            .await
        }
        QueueCommand::Restart {
            targets: t,
            prompt,
            prompt_file,
            edit_prompt,
            agent,
            max_time,
            max_iterations,
            env,
            after,
            no_after,
            priority,
            labels,
            block,
            json,
        } => {
            let ids = targets(socket, &t).await?;
            if block.follow && ids.len() > 1 {
                return Err(CliError::Usage(
                    "--follow follows one work order; use --wait for several".into(),
                ));
            }
            let typed = typed_flags(
                agent.as_deref(),
                max_time.as_deref(),
                max_iterations,
                priority,
            );
            let template = RestartRequest {
                id: String::new(),
                task_prompt: match (&prompt, &prompt_file) {
                    (None, None) => None,
                    (p, f) => Some(read_prompt(p.as_deref(), f.as_deref())?),
                },
                agent_type: agent,
                max_time: max_time
                    .as_deref()
                    .map(|s| flags::max_time("--max-time", s))
                    .transpose()?,
                max_iterations: max_iterations
                    .map(|n| flags::max_iterations("--max-iterations", n))
                    .transpose()?,
                priority,
                labels: (!labels.is_empty()).then_some(labels),
                env: read_env(&env, None)?,
                depends_on: if no_after {
                    Some(vec![])
                } else if after.is_empty() {
                    None
                } else {
                    Some(after_ids(socket, &after).await?)
                },
            };
            restart(socket, ids, template, edit_prompt, &typed, json, block).await
        }
        QueueCommand::SetPriority { id, priority, json } => {
            let id = one_target(socket, Some(&id), false).await?;
            let req = SetPriorityRequest { id, priority };
            match call(socket, Request::SetPriority(req)).await? {
                Reply::Submitted(wo) => {
                    if json {
                        print_json(&wo.to_json());
                    } else {
                        println!("{} priority {}", wo.id, wo.priority);
                    }
                    Ok(())
                }
                r => Err(unexpected(r)),
            }
        }
        QueueCommand::Pause { json } => set_paused(socket, true, json).await,
        QueueCommand::Resume { json } => set_paused(socket, false, json).await,
        QueueCommand::Config {
            max_concurrent,
            stagger_delay,
            min_memory,
            reset,
            json,
        } => {
            if max_concurrent == Some(0) {
                return Err(CliError::Usage("--max-concurrent 0: at least 1".into()));
            }
            let change = ConfigChange {
                paused: None,
                max_concurrent,
                stagger_delay_ms: flags::opt_millis_in(
                    "--stagger-delay",
                    stagger_delay.as_deref(),
                    std::time::Duration::ZERO,
                    std::time::Duration::from_secs(86_400),
                )?,
                min_memory_bytes: min_memory
                    .as_deref()
                    .map(|m| flags::size("--min-memory", m))
                    .transpose()?,
                reset,
            };
            let c = configure(socket, change).await?;
            if json {
                print_json(&c.to_json());
            } else {
                println!("{}", render::queue_config(&c));
            }
            Ok(())
        }
        QueueCommand::Logs {
            id,
            last,
            follow,
            tail,
            stdout,
            stderr,
            run,
            timestamps,
            raw,
        } => {
            let id = one_target(socket, id.as_deref(), last).await?;
            let req = LogsRequest {
                id,
                streams: match (stdout, stderr) {
                    (true, _) => LogStreams::Stdout,
                    (_, true) => LogStreams::Stderr,
                    _ => LogStreams::Both,
                },
                tail,
                follow,
                run,
                timestamps,
                raw,
            };
            stream::logs(socket, req).await
        }
        QueueCommand::Continue {
            id,
            prompt,
            last,
            max_time,
            max_iterations,
            block,
            json,
        } => {
            // `continue ID PROMPT`, or `continue --last PROMPT`.
            let (id, prompt) = match (last, prompt) {
                (false, Some(prompt)) => (Some(id), prompt),
                (true, None) => (None, id),
                (false, None) => {
                    return Err(CliError::Usage(
                        "give the follow-up's prompt: queue continue ID PROMPT (or --last PROMPT)"
                            .into(),
                    ));
                }
                (true, Some(_)) => {
                    return Err(CliError::Usage(
                        "with --last give only the prompt: queue continue --last PROMPT".into(),
                    ));
                }
            };
            let req = ContinueRequest {
                id: one_target(socket, id.as_deref(), last).await?,
                task_prompt: read_prompt(Some(&prompt), None)?,
                max_time: max_time
                    .as_deref()
                    .map(|s| flags::max_time("--max-time", s))
                    .transpose()?,
                max_iterations: max_iterations
                    .map(|n| flags::max_iterations("--max-iterations", n))
                    .transpose()?,
            };
            let typed = typed_flags(None, max_time.as_deref(), max_iterations, None);
            let wo = match call(socket, Request::Continue(req))
                .await
                .map_err(|e| flags::in_cli_terms(e, &typed))?
            {
                Reply::Submitted(wo) => wo,
                r => return Err(unexpected(r)),
            };
            created(socket, std::slice::from_ref(&wo), json, block).await
        }
        QueueCommand::Wait {
            targets: t,
            timeout,
            json,
        } => {
            let timeout = timeout
                .as_deref()
                .map(|t| flags::duration("--timeout", t))
                .transpose()?;
            let ids = targets(socket, &t).await?;
            stream::wait(socket, ids, timeout, json).await
        }
    }
}
