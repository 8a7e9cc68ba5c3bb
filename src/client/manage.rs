//! Commands that change the queue: pause and resume, live settings,
//! `queue restart`, `queue purge`.

use super::*;

/// `queue pause` / `queue resume`.
pub(super) async fn set_paused(socket: &Path, paused: bool, json: bool) -> Result<(), CliError> {
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

pub(super) async fn configure(
    socket: &Path,
    change: ConfigChange,
) -> Result<QueueConfig, CliError> {
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
pub(super) async fn restart(
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
                let original = match client
                    .call(Request::Show(crate::service::ShowRequest {
                        id: id.clone(),
                    }))
                    .await?
                {
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
            "{refused} of {} not restarted",
            super::render::work_orders(ids.len() as u64)
        )));
    }
    Ok(())
}

/// Purging more than one work order needs `--yes`, or a "y" on a TTY.
pub(super) async fn purge(
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
                    "refusing to purge {} without confirmation; pass --yes (or --dry-run to list them)",
                    super::render::work_orders(would.len() as u64)
                )));
            }
            eprint!(
                "Permanently delete {}? [y/N] ",
                super::render::work_orders(would.len() as u64)
            );
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

pub(super) fn print_purged(p: &PurgeOutcome, json: bool) -> Result<(), CliError> {
    if json {
        print_json(&p.to_json());
    } else if let Some(would) = &p.would_delete {
        println!(
            "would purge {}",
            super::render::work_orders(would.len() as u64)
        );
        for id in would {
            println!("  {id}");
        }
    } else {
        println!("purged {}", super::render::work_orders(p.deleted_count));
        for id in &p.deleted_ids {
            println!("  {id}");
        }
    }
    Ok(())
}
