//! Client commands: each builds one request, sends it over RPC and renders the
//! reply (a table for people, the HTTP `data` payload with `--json`).

pub mod complete;
pub mod daemon_ctl;
mod edit;
pub mod flags;
pub mod ids;
pub mod render;
pub mod stream;
pub mod suggest;
pub mod table;

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
                | ClientError::Timeout { .. },
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

/// The workspace flags as a request, and how they read in a message.
struct Workspace {
    input: WorkspaceInput,
    typed: String,
    /// `--repo NAME` with no owner anywhere the client can see.
    ownerless_repo: bool,
}

fn workspace_input(a: &SubmitArgs) -> Result<Workspace, CliError> {
    let branch = a.branch.clone();
    if let (Some(b), None, None) = (&branch, &a.url, &a.repo) {
        return Err(CliError::Usage(format!(
            "--branch {}: a branch is cloned, so it needs --url or --repo (a --path or the current directory is used as it is)",
            table::one_line(b)
        )));
    }
    if let Some(url) = &a.url {
        let kind =
            if url.starts_with("https://github.com/") || url.starts_with("http://github.com/") {
                "github"
            } else {
                "git"
            };
        return Ok(Workspace {
            input: WorkspaceInput {
                kind: Some(kind.into()),
                url: Some(url.clone()),
                branch,
                ..Default::default()
            },
            typed: format!("--url {url}"),
            ownerless_repo: false,
        });
    }
    if let Some(repo) = &a.repo {
        // An owner from this shell's environment is what the user sees set.
        let owner = a.owner.clone().or_else(|| {
            (!repo.contains('/'))
                .then(|| std::env::var("AGENTGATE_GITHUB_OWNER").ok())
                .flatten()
                .filter(|o| !o.is_empty())
        });
        return Ok(Workspace {
            ownerless_repo: owner.is_none() && !repo.contains('/'),
            input: WorkspaceInput {
                kind: Some("github".into()),
                repo: Some(repo.clone()),
                owner,
                branch,
                ..Default::default()
            },
            typed: format!("--repo {repo}"),
        });
    }
    let dir = match &a.path {
        Some(p) => p.clone(),
        None => std::env::current_dir()
            .map_err(|e| CliError::Failed(format!("cannot read the current directory: {e}")))?,
    };
    let typed = match &a.path {
        Some(p) => format!("--path {}", p.display()),
        None => String::new(),
    };
    let dir = std::fs::canonicalize(&dir)
        .map_err(|e| CliError::Usage(format!("--path {}: {e}", dir.display())))?;
    Ok(Workspace {
        input: WorkspaceInput::local(dir.to_string_lossy()),
        typed,
        ownerless_repo: false,
    })
}

/// A workspace refusal in CLI terms: no raw JSON shapes, and for a repo
/// without an owner, the three ways to give one.
fn workspace_error(e: CliError, ws: &Workspace) -> CliError {
    let CliError::Client(ClientError::Service(ServiceError {
        code: ErrorCode::BadRequest,
        message,
        field: Some(field),
    })) = &e
    else {
        return e;
    };
    if !field.starts_with("workspaceSource") || ws.typed.is_empty() {
        return e;
    }
    if ws.ownerless_repo {
        let repo = ws.input.repo.as_deref().unwrap_or_default();
        return CliError::Usage(format!(
            "--repo {repo}: no owner: write --repo OWNER/{repo}, add --owner OWNER, or set AGENTGATE_GITHUB_OWNER"
        ));
    }
    let reason = message
        .split("; accepted workspace sources")
        .next()
        .unwrap_or(message);
    CliError::Usage(format!("{}: {reason}", table::one_line(&ws.typed)))
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
        let (k, v) = line.split_once('=').ok_or_else(|| {
            CliError::Usage(format!("{from} {}: not KEY=VALUE", table::one_line(line)))
        })?;
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

/// `--after` ids (prefixes allowed) to full ids; a bad one is a bad flag value.
async fn after_ids(socket: &Path, after: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::with_capacity(after.len());
    for a in after {
        match ids::resolve(socket, std::slice::from_ref(a), false).await {
            Ok(v) => out.extend(v),
            Err(CliError::Client(ClientError::Service(e))) => {
                return Err(CliError::Usage(format!(
                    "--after {}: {}",
                    table::one_line(a),
                    e.message
                )));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The flags as typed, for the daemon's refusals (see `flags::in_cli_terms`).
fn typed_flags(
    agent: Option<&str>,
    max_time: Option<&str>,
    max_iterations: Option<u32>,
    priority: Option<i32>,
) -> Typed {
    let mut typed: Typed = vec![
        ("taskPrompt", String::new()),
        ("env", "--env".into()),
        ("labels", "--label".into()),
        ("dependsOn", "--after".into()),
        // The daemon's message names the flag itself.
        ("worktree", String::new()),
    ];
    if let Some(a) = agent {
        typed.push(("agentType", format!("--agent {}", table::one_line(a))));
    }
    if let Some(t) = max_time {
        typed.push(("maxTime", format!("--max-time {}", table::one_line(t))));
    }
    if let Some(n) = max_iterations {
        typed.push(("maxIterations", format!("--max-iterations {n}")));
    }
    if let Some(p) = priority {
        typed.push(("priority", format!("--priority {p}")));
    }
    typed
}

async fn submit(socket: &Path, a: SubmitArgs) -> Result<(), CliError> {
    let max_time = a
        .max_time
        .as_deref()
        .map(|s| flags::max_time("--max-time", s))
        .transpose()?;
    let max_iterations = a
        .max_iterations
        .map(|n| flags::max_iterations("--max-iterations", n))
        .transpose()?;
    let ws = workspace_input(&a)?;
    let task_prompt = read_prompt(a.prompt.as_deref(), a.prompt_file.as_deref())?;
    let env = read_env(&a.env, a.env_file.as_deref())?;
    let depends_on = after_ids(socket, &a.after).await?;
    let OrderArgs { priority, labels } = a.order.clone();
    let typed = typed_flags(
        a.agent.as_deref(),
        a.max_time.as_deref(),
        a.max_iterations,
        priority,
    );
    let req = SubmitRequest {
        task_prompt,
        agent_type: a.agent.clone(),
        workspace_source: Some(ws.input.clone()),
        max_time,
        max_iterations,
        env,
        worktree: match (a.worktree, a.no_worktree) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            _ => None,
        },
        depends_on,
        priority: priority.unwrap_or(0),
        labels,
    };
    let wo = match call(socket, Request::Submit(req))
        .await
        .map_err(|e| flags::in_cli_terms(workspace_error(e, &ws), &typed))?
    {
        Reply::Submitted(wo) => wo,
        r => return Err(unexpected(r)),
    };
    created(socket, std::slice::from_ref(&wo), a.json, a.block).await
}

/// New work orders: their ids (or JSON), then `--wait`/`--follow` if asked.
async fn created(
    socket: &Path,
    wos: &[WorkOrder],
    json: bool,
    block: BlockArgs,
) -> Result<(), CliError> {
    if json {
        match wos {
            [one] => print_json(&one.to_json()),
            all => print_json(&all.iter().map(WorkOrder::to_json).collect::<Vec<_>>()),
        }
    }
    for wo in wos.iter().filter(|_| !json) {
        if block.follow {
            eprintln!("{}", wo.id);
        } else {
            println!("{}", wo.id);
        }
    }
    let ids: Vec<String> = wos.iter().map(|w| w.id.clone()).collect();
    if block.wait {
        return stream::wait(socket, ids, None, false).await;
    }
    if let (true, [one]) = (block.follow, wos) {
        let req = LogsRequest {
            id: one.id.clone(),
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
            };
            list(socket, query, json, render::ListStyle { wide, no_truncate }).await
        }
        QueueCommand::Show { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            let several = ids.len() > 1;
            ids::for_each(socket, ids, json, Request::Show, |r| match r {
                Reply::Show(d) => {
                    let text = render::detail(&d);
                    Ok((
                        if several { format!("{text}\n") } else { text },
                        d.to_json(),
                    ))
                }
                r => Err(unexpected(r)),
            })
            .await
        }
        QueueCommand::Cancel { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            ids::for_each(socket, ids, json, Request::Cancel, |r| match r {
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
            })
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
                            "killed {}: {} in {} ms{}",
                            k.id,
                            k.message,
                            k.duration_ms,
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
        QueueCommand::Start { targets: t, json } => {
            let ids = targets(socket, &t).await?;
            ids::for_each(socket, ids, json, Request::Start, |r| match r {
                Reply::Started(s) => {
                    Ok((format!("started {} (run {})", s.id, s.run_id), s.to_json()))
                }
                r => Err(unexpected(r)),
            })
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
            max_time,
            max_iterations,
            block,
            json,
        } => {
            let req = ContinueRequest {
                id: one_target(socket, Some(&id), false).await?,
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

/// `queue list`: JSON, a table fitted to the terminal, or tab-separated
/// lines for a pipe; notes go to stderr.
async fn list(
    socket: &Path,
    query: ListQuery,
    json: bool,
    style: render::ListStyle,
) -> Result<(), CliError> {
    let tty = std::io::stdout().is_terminal();
    // To a pipe, the daemon's own compact JSON is printed as it comes
    // (no decoding and re-encoding of thousands of work orders).
    if json && !tty {
        let mut client = Client::connect(socket).await?;
        client.start_stream(Request::ListJson(query)).await?;
        let mut out = std::io::stdout().lock();
        loop {
            match client.next_reply().await? {
                Reply::JsonChunk { text, last } => {
                    JSON_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
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
    // Received in bounded frames: a listing can be far larger than one.
    let page = list_streamed(socket, query, tty && !json && !style.no_truncate).await?;
    if json {
        print_json(&ListPageJson(&page));
        return Ok(());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (lines, note) = if tty {
        render::list_table(&page, style)
    } else {
        (render::list_tsv(&page), render::page_note(&page))
    };
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = out.flush();
    // Notes are for people: on stderr, so a pipe gets work orders only.
    if let Some(n) = note {
        eprintln!("{n}");
    }
    Ok(())
}

/// `queue pause` / `queue resume`.
async fn set_paused(socket: &Path, paused: bool, json: bool) -> Result<(), CliError> {
    let change = ConfigChange {
        paused: Some(paused),
        ..ConfigChange::default()
    };
    let c = configure(socket, change).await?;
    if json {
        print_json(&c.to_json());
    } else if paused {
        println!(
            "queue paused: queued work stays queued (running work goes on); `agentgate queue resume` starts it again"
        );
    } else {
        println!("queue resumed: queued work starts as limits allow");
    }
    Ok(())
}

async fn configure(socket: &Path, change: ConfigChange) -> Result<QueueConfig, CliError> {
    let typed: Typed = vec![
        ("maxConcurrent", "--max-concurrent".into()),
        ("staggerDelayMs", "--stagger-delay".into()),
        ("minMemoryBytes", "--min-memory".into()),
    ];
    match call(socket, Request::Config(change))
        .await
        .map_err(|e| flags::in_cli_terms(e, &typed))?
    {
        Reply::QueueConfig(c) => Ok(c),
        r => Err(unexpected(r)),
    }
}

/// `queue restart`: a copy of each, its prompt edited first if asked.
async fn restart(
    socket: &Path,
    ids: Vec<String>,
    template: RestartRequest,
    edit_prompt: bool,
    typed: &Typed,
    json: bool,
    block: BlockArgs,
) -> Result<(), CliError> {
    let mut client = Client::connect(socket).await?;
    let single = ids.len() == 1;
    let mut made: Vec<WorkOrder> = Vec::new();
    let mut refused = 0;
    for id in &ids {
        let outcome = async {
            let mut req = RestartRequest {
                id: id.clone(),
                ..template.clone()
            };
            if edit_prompt {
                let original = match client.call(Request::Show(id.clone())).await? {
                    Reply::Show(d) => d.work_order.task_prompt,
                    r => return Err(unexpected(r)),
                };
                req.task_prompt = Some(edit::edit(&original)?);
            }
            match client.call(Request::Restart(req)).await {
                Ok(Reply::Submitted(wo)) => Ok(wo),
                Ok(r) => Err(unexpected(r)),
                Err(e) => Err(flags::in_cli_terms(e.into(), typed)),
            }
        }
        .await;
        match outcome {
            Ok(wo) => made.push(wo),
            Err(e) if single => return Err(e),
            Err(e @ CliError::Client(ClientError::Disconnected(_))) => return Err(e),
            Err(e) => {
                refused += 1;
                eprintln!("error: {}", table::one_line(&e.to_string()));
            }
        }
    }
    created(socket, &made, json, block).await?;
    if refused > 0 {
        return Err(CliError::Reported(format!(
            "{refused} of {} work orders were not restarted",
            ids.len()
        )));
    }
    Ok(())
}

/// A whole listing, received in bounded pieces (a listing can be far larger
/// than one frame). For a table, each prompt is cut to what a terminal line
/// can show as it arrives, so 100,000 long prompts do not pile up here.
async fn list_streamed(socket: &Path, query: ListQuery, table: bool) -> Result<ListPage, CliError> {
    // More than a terminal line can show of a prompt.
    let table_prompt = table::terminal_width().max(80);
    let mut client = Client::connect(socket).await?;
    client.start_stream(Request::ListStream(query)).await?;
    let mut items = Vec::new();
    let mut reasons = Vec::new();
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
                reasons.append(&mut page.reasons);
                if last {
                    return Ok(ListPage {
                        items,
                        reasons,
                        ..page
                    });
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
