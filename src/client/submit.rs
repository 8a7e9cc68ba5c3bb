//! `submit`: the prompt, environment and workspace flags made into a request,
//! refusals told in the flags' terms, and what a new work order prints (or
//! waits for: `--wait`, `--follow`).

use super::*;

/// The workspace flags as a request, and how they read in a message.
pub(super) struct Workspace {
    input: WorkspaceInput,
    typed: String,
    /// `--repo NAME` with no owner anywhere the client can see.
    ownerless_repo: bool,
}

pub(super) fn workspace_input(a: &SubmitArgs) -> Result<Workspace, CliError> {
    let branch = a.branch.clone();
    if let (Some(b), None, None) = (&branch, &a.url, &a.repo) {
        return Err(CliError::Usage(format!(
            "--branch {}: a branch is cloned, so it needs --url or --repo (a --path or the current directory is used as it is)",
            table::one_line(b)
        )));
    }
    if let Some(url) = &a.url {
        return Ok(Workspace {
            input: WorkspaceInput::url(url, branch),
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
            input: WorkspaceInput::github(repo, owner, branch),
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
pub(super) fn workspace_error(e: CliError, ws: &Workspace) -> CliError {
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
pub(super) fn read_prompt(arg: Option<&str>, file: Option<&Path>) -> Result<String, CliError> {
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
pub(super) fn read_env(
    pairs: &[String],
    file: Option<&Path>,
) -> Result<BTreeMap<String, String>, CliError> {
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
pub(super) async fn after_ids(socket: &Path, after: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::with_capacity(after.len());
    for a in after {
        match ids::resolve(socket, std::slice::from_ref(a), false).await {
            Ok(v) => out.extend(v),
            // An unknown or ambiguous id is the daemon's refusal (exit 1), as
            // for every other command that names work orders.
            Err(CliError::Client(ClientError::Service(e))) => {
                return Err(CliError::Failed(format!(
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
pub(super) fn typed_flags(
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
        ("setup", "--setup".into()),
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

pub(super) async fn submit(socket: &Path, a: SubmitArgs) -> Result<(), CliError> {
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
        setup: a.setup.clone(),
        sandbox: a.sandbox.request().map_err(CliError::Usage)?,
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
pub(super) async fn created(
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
