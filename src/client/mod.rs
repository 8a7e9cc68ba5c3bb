//! Client commands: each builds one request, sends it over RPC and renders the
//! reply (a table for people, the HTTP `data` payload with `--json`).

pub mod daemon_ctl;
pub mod render;
pub mod stream;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{QueueCommand, SubmitArgs};
use crate::config::{ConfigError, ConfigFile, Paths};
use crate::model::units::parse_duration;
use crate::model::{SharedWorkOrder, WorkOrder, WorkspaceInput};
use crate::rpc::client::{Client, ClientError};
use crate::rpc::proto::{Reply, Request};
use crate::service::*;

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
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Client(
                ClientError::Unreachable { .. }
                | ClientError::Connect { .. }
                | ClientError::Timeout { .. },
            ) => 3,
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Timeout(_) => 4,
            _ => 1,
        })
    }
}

/// One JSON value on stdout: indented for a person at a terminal, compact
/// (one line, the HTTP body's exact form) for a pipe or a file.
pub fn print_json<T: serde::Serialize + ?Sized>(v: &T) {
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

fn duration_secs(flag: &str, s: &str) -> Result<u64, CliError> {
    let d = parse_duration(s).map_err(|e| CliError::Usage(format!("{flag}: {e}")))?;
    Ok(d.as_secs_f64().ceil() as u64)
}

fn duration_ms(flag: &str, s: &str) -> Result<u64, CliError> {
    let d = parse_duration(s).map_err(|e| CliError::Usage(format!("{flag}: {e}")))?;
    Ok(d.as_millis() as u64)
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
            ClientCommand::Stop { keep_running } => {
                daemon_ctl::stop_daemon(&paths, keep_running).await
            }
            ClientCommand::Restart => daemon_ctl::restart_daemon(&paths).await,
        }
    })
}

pub enum ClientCommand {
    Submit(SubmitArgs),
    Queue(QueueCommand),
    Stop { keep_running: bool },
    Restart,
}

pub(crate) async fn call(socket: &Path, req: Request) -> Result<Reply, CliError> {
    let mut client = Client::connect(socket).await?;
    Ok(client.call(req).await?)
}

pub(crate) fn unexpected(r: Reply) -> CliError {
    CliError::Failed(format!("unexpected reply from the daemon: {r:?}"))
}

fn workspace_input(a: &SubmitArgs) -> Result<WorkspaceInput, CliError> {
    let branch = a.branch.clone();
    if let Some(url) = &a.url {
        let kind =
            if url.starts_with("https://github.com/") || url.starts_with("http://github.com/") {
                "github"
            } else {
                "git"
            };
        return Ok(WorkspaceInput {
            kind: Some(kind.into()),
            url: Some(url.clone()),
            branch,
            ..Default::default()
        });
    }
    if let Some(repo) = &a.repo {
        return Ok(WorkspaceInput {
            kind: Some("github".into()),
            repo: Some(repo.clone()),
            owner: a.owner.clone(),
            branch,
            ..Default::default()
        });
    }
    let dir = match &a.path {
        Some(p) => p.clone(),
        None => std::env::current_dir()
            .map_err(|e| CliError::Failed(format!("cannot read the current directory: {e}")))?,
    };
    let dir = std::fs::canonicalize(&dir)
        .map_err(|e| CliError::Usage(format!("--path {}: {e}", dir.display())))?;
    Ok(WorkspaceInput::local(dir.to_string_lossy()))
}

/// The prompt: the argument, `-` for stdin, or `--prompt-file`.
fn read_prompt(arg: Option<&str>, file: Option<&Path>) -> Result<String, CliError> {
    let (text, from) = match (arg, file) {
        (_, Some(f)) => (
            std::fs::read(f)
                .map_err(|e| CliError::Usage(format!("--prompt-file {}: {e}", f.display())))?,
            format!("--prompt-file {}", f.display()),
        ),
        (Some("-"), None) => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| CliError::Usage(format!("cannot read the prompt from stdin: {e}")))?;
            (buf, "stdin".to_string())
        }
        (Some(p), None) => return Ok(p.to_string()),
        (None, None) => return Err(CliError::Usage("a prompt is required".into())),
    };
    String::from_utf8(text)
        .map_err(|_| CliError::Usage(format!("the prompt from {from} is not UTF-8 text")))
}

/// `--env K=V` and `--env-file F` (later ones win).
fn read_env(pairs: &[String], file: Option<&Path>) -> Result<BTreeMap<String, String>, CliError> {
    let mut env = BTreeMap::new();
    let mut add = |line: &str, from: &str| -> Result<(), CliError> {
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("{from}: {line:?} is not KEY=VALUE")))?;
        let k = k.trim().strip_prefix("export ").unwrap_or(k.trim()).trim();
        let v = v.trim();
        // A quoted value (as in .env files) loses its quotes.
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        env.insert(k.to_string(), v.to_string());
        Ok(())
    };
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| CliError::Usage(format!("--env-file {}: {e}", f.display())))?;
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                add(line, &format!("--env-file {}", f.display()))?;
            }
        }
    }
    for p in pairs {
        add(p, "--env")?;
    }
    Ok(env)
}

async fn submit(socket: &Path, a: SubmitArgs) -> Result<(), CliError> {
    let max_time = a
        .max_time
        .as_deref()
        .map(|s| duration_secs("--max-time", s))
        .transpose()?;
    let req = SubmitRequest {
        task_prompt: read_prompt(a.prompt.as_deref(), a.prompt_file.as_deref())?,
        agent_type: a.agent.clone(),
        workspace_source: Some(workspace_input(&a)?),
        max_time,
        max_iterations: a.max_iterations,
        env: read_env(&a.env, a.env_file.as_deref())?,
        worktree: match (a.worktree, a.no_worktree) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            _ => None,
        },
    };
    let wo = match call(socket, Request::Submit(req)).await? {
        Reply::Submitted(wo) => wo,
        r => return Err(unexpected(r)),
    };
    created(socket, &wo, a.json, a.block).await
}

/// A new work order: its id (or JSON), then `--wait`/`--follow` if asked.
async fn created(
    socket: &Path,
    wo: &crate::model::WorkOrder,
    json: bool,
    block: crate::cli::BlockArgs,
) -> Result<(), CliError> {
    if json {
        print_json(&wo.to_json());
    } else if block.follow {
        eprintln!("{}", wo.id);
    } else {
        println!("{}", wo.id);
    }
    if block.wait {
        return stream::wait(socket, vec![wo.id.clone()], None, false).await;
    }
    if block.follow {
        let req = LogsRequest {
            id: wo.id.clone(),
            streams: LogStreams::Both,
            tail: None,
            follow: true,
            run: None,
            timestamps: false,
            raw: false,
        };
        return stream::logs(socket, req).await;
    }
    Ok(())
}

async fn queue(socket: &Path, q: QueueCommand) -> Result<(), CliError> {
    match q {
        QueueCommand::List {
            statuses,
            limit,
            all,
            json,
        } => {
            if limit == Some(0) {
                return Err(CliError::Usage("--limit must be at least 1".into()));
            }
            let query = ListQuery {
                statuses,
                limit: if all { None } else { Some(limit.unwrap_or(20)) },
                offset: 0,
            };
            // To a pipe, the daemon's own compact JSON is printed as it comes
            // (no decoding and re-encoding of thousands of work orders).
            if json && !std::io::stdout().is_terminal() {
                let mut client = Client::connect(socket).await?;
                client.start_stream(Request::ListJson(query)).await?;
                let mut out = std::io::stdout().lock();
                loop {
                    match client.next_reply().await? {
                        Reply::JsonChunk { text, last } => {
                            let _ = out.write_all(text.as_bytes());
                            if last {
                                let _ = out.write_all(b"\n");
                                let _ = out.flush();
                                return Ok(());
                            }
                        }
                        r => return Err(unexpected(r)),
                    }
                }
            }
            let page = list_streamed(socket, query, !json).await?;
            if json {
                print_json(&ListPageJson(&page));
            } else {
                println!("{}", render::list_table(&page));
            }
            Ok(())
        }
        QueueCommand::Show { id, json } => match call(socket, Request::Show(id)).await? {
            Reply::Show(d) => {
                if json {
                    print_json(&d.to_json());
                } else {
                    println!("{}", render::detail(&d));
                }
                Ok(())
            }
            r => Err(unexpected(r)),
        },
        QueueCommand::Cancel { id, json } => match call(socket, Request::Cancel(id)).await? {
            Reply::Canceled(c) => {
                if json {
                    print_json(&c.to_json());
                } else if c.killed {
                    println!("canceled {} (its process tree was stopped)", c.id);
                } else {
                    println!("canceled {} (it was not running)", c.id);
                }
                if !c.durable {
                    eprintln!("warning: {NOT_DURABLE}");
                }
                Ok(())
            }
            r => Err(unexpected(r)),
        },
        QueueCommand::Kill {
            id,
            force,
            grace,
            reason,
            json,
        } => {
            let grace_ms = grace
                .as_deref()
                .map(|g| duration_ms("--grace", g))
                .transpose()?;
            let req = KillRequest {
                id,
                force,
                grace_ms,
                reason,
            };
            match call(socket, Request::Kill(req)).await? {
                // Nothing was stopped: for a person (and a script) that failed.
                Reply::Killed(k) if k.already_ended => Err(CliError::Failed(k.message)),
                Reply::Killed(k) => {
                    if json {
                        print_json(&k.to_json());
                    } else {
                        println!(
                            "killed {}: {} in {} ms{}",
                            k.id,
                            k.message,
                            k.duration_ms,
                            if k.forced_kill { " (SIGKILL)" } else { "" }
                        );
                    }
                    if !k.durable {
                        eprintln!("warning: {NOT_DURABLE}");
                    }
                    Ok(())
                }
                r => Err(unexpected(r)),
            }
        }
        QueueCommand::Purge {
            ids,
            statuses,
            older_than,
            dry_run,
            yes,
            delete_branch,
            json,
        } => {
            let older_than_ms = older_than
                .as_deref()
                .map(|d| duration_ms("--older-than", d))
                .transpose()?;
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
        QueueCommand::Health { json } => match call(socket, Request::Health).await? {
            Reply::Health(h) => {
                if json {
                    print_json(&h.to_json());
                } else {
                    println!("{}", render::health(&h));
                }
                Ok(())
            }
            r => Err(unexpected(r)),
        },
        QueueCommand::Start { id, json } => match call(socket, Request::Start(id)).await? {
            Reply::Started(s) => {
                if json {
                    print_json(&s.to_json());
                } else {
                    println!("started {} (run {})", s.id, s.run_id);
                }
                Ok(())
            }
            r => Err(unexpected(r)),
        },
        QueueCommand::Logs {
            id,
            follow,
            tail,
            stdout,
            stderr,
            run,
            timestamps,
            raw,
        } => {
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
            max_time,
            max_iterations,
            block,
            json,
        } => {
            let req = ContinueRequest {
                id,
                task_prompt: read_prompt(Some(&prompt), None)?,
                max_time: max_time
                    .as_deref()
                    .map(|s| duration_secs("--max-time", s))
                    .transpose()?,
                max_iterations,
            };
            let wo = match call(socket, Request::Continue(req)).await? {
                Reply::Submitted(wo) => wo,
                r => return Err(unexpected(r)),
            };
            created(socket, &wo, json, block).await
        }
        QueueCommand::Wait { ids, timeout, json } => {
            let timeout = timeout
                .as_deref()
                .map(|t| parse_duration(t).map_err(|e| CliError::Usage(format!("--timeout: {e}"))))
                .transpose()?;
            stream::wait(socket, ids, timeout, json).await
        }
    }
}

/// A whole listing, received in bounded pieces (a listing can be far larger
/// than one frame). For a table, each prompt is cut to what a terminal line
/// can show as it arrives, so 100,000 long prompts do not pile up here.
async fn list_streamed(socket: &Path, query: ListQuery, table: bool) -> Result<ListPage, CliError> {
    // More than a terminal line can show of a prompt.
    let table_prompt = render::terminal_width().max(80);
    let mut client = Client::connect(socket).await?;
    client.start_stream(Request::ListStream(query)).await?;
    let mut items = Vec::new();
    loop {
        match client.next_reply().await? {
            Reply::ListChunk { mut page, last } => {
                if table {
                    for wo in page.items.iter_mut() {
                        if wo.task_prompt.len() > table_prompt {
                            let mut short = WorkOrder::clone(wo);
                            let cut = (0..=table_prompt)
                                .rev()
                                .find(|&i| short.task_prompt.is_char_boundary(i))
                                .unwrap_or(0);
                            short.task_prompt.truncate(cut);
                            *wo = std::sync::Arc::new(SharedWorkOrder::new(short));
                        }
                    }
                }
                items.append(&mut page.items);
                if last {
                    return Ok(ListPage { items, ..page });
                }
            }
            r => return Err(unexpected(r)),
        }
    }
}

/// Purging more than one work order needs `--yes`, or a "y" on a TTY.
async fn purge(
    socket: &Path,
    mut req: PurgeRequest,
    yes: bool,
    json: bool,
) -> Result<(), CliError> {
    let mut client = Client::connect(socket).await?;
    if !req.dry_run && !yes {
        let plan = PurgeRequest {
            dry_run: true,
            ..req.clone()
        };
        let would = match client.call(Request::Purge(plan)).await? {
            Reply::Purged(p) => p.would_delete.unwrap_or_default(),
            r => return Err(unexpected(r)),
        };
        if would.len() > 1 {
            let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if !tty {
                return Err(CliError::Usage(format!(
                    "refusing to purge {} work orders without confirmation; pass --yes (or --dry-run to list them)",
                    would.len()
                )));
            }
            eprint!("Permanently delete {} work orders? [y/N] ", would.len());
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                return Err(CliError::Failed(
                    "purge aborted; nothing was deleted".into(),
                ));
            }
        }
        // Exactly what was counted and confirmed, not the filter again (it
        // could match more by now).
        if would.is_empty() {
            let none = PurgeOutcome {
                deleted_count: 0,
                deleted_ids: vec![],
                would_delete: None,
            };
            return print_purged(&none, json);
        }
        req = PurgeRequest {
            ids: would,
            statuses: vec![],
            older_than_ms: None,
            dry_run: false,
            delete_branch: req.delete_branch,
        };
    }
    match client.call(Request::Purge(req)).await? {
        Reply::Purged(p) => print_purged(&p, json),
        r => Err(unexpected(r)),
    }
}

fn print_purged(p: &PurgeOutcome, json: bool) -> Result<(), CliError> {
    if json {
        print_json(&p.to_json());
    } else if let Some(would) = &p.would_delete {
        println!("would purge {} work orders", would.len());
        for id in would {
            println!("  {id}");
        }
    } else {
        println!("purged {} work orders", p.deleted_count);
        for id in &p.deleted_ids {
            println!("  {id}");
        }
    }
    Ok(())
}
