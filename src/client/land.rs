//! `queue diff`, `queue merge` and `queue discard`: reviewing and landing a
//! worktree's work (the daemon runs git; see `land`).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{CliError, ids, one_target, print_json};
use crate::cli::{DiffArgs, DiscardArgs, MergeArgs};
use crate::land::DiffView;
use crate::ops::{DiffRequest, DiffStatRequest, DiscardRequest, MergeRequest, PushRequest};
use crate::rpc::client::Client;

pub async fn diff(socket: &Path, a: DiffArgs) -> Result<(), CliError> {
    let id = one_target(socket, a.id.as_deref(), a.last).await?;
    let mut client = Client::connect(socket).await?;
    if a.json {
        let stat = client.run(DiffStatRequest { id }).await?;
        print_json(&stat);
        return Ok(());
    }
    let tty = std::io::stdout().is_terminal();
    let view = if a.stat {
        DiffView::Stat
    } else if a.name_only {
        DiffView::NameOnly
    } else {
        DiffView::Patch
    };
    let color = match a.color.as_str() {
        "always" => true,
        "never" => false,
        _ => tty && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = client.run(DiffRequest { id, view, color }).await?;
    if tty && !text.is_empty() && page(&text) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    // A reader that went away (`| head`) is not an error.
    let _ = out.write_all(&text).and_then(|()| out.flush());
    Ok(())
}

/// Shows `text` through the pager git would use; false when none ran.
fn page(text: &[u8]) -> bool {
    let pager = std::env::var("GIT_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".into());
    if pager.trim().is_empty() || pager.trim() == "cat" {
        return false;
    }
    let Ok(mut child) = Command::new("sh")
        .args(["-c", &pager])
        .env(
            "LESS",
            std::env::var("LESS").unwrap_or_else(|_| "FRX".into()),
        )
        .stdin(Stdio::piped())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text);
    }
    let _ = child.wait();
    true
}

pub async fn merge(socket: &Path, a: MergeArgs) -> Result<(), CliError> {
    let id = one_target(socket, a.id.as_deref(), a.last).await?;
    let out = Client::connect(socket)
        .await?
        .run(MergeRequest {
            id,
            squash: a.squash,
            message: a.message,
            into: a.into,
        })
        .await?;
    if a.json {
        print_json(&serde_json::json!({
            "merge": out.merge,
            "workOrder": out.work_order.to_json(),
        }));
        return Ok(());
    }
    let m = &out.merge;
    let how = if m.squash {
        "one squashed commit"
    } else if m.commit == m.source {
        "a fast-forward"
    } else {
        "a merge commit"
    };
    println!(
        "merged {} into {} as {how} ({})",
        out.work_order.id,
        m.into,
        super::render::short_sha(&m.commit)
    );
    Ok(())
}

pub async fn discard(socket: &Path, a: DiscardArgs) -> Result<(), CliError> {
    let ids = ids::resolve(socket, &a.targets.ids, a.targets.last).await?;
    if !a.yes {
        let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !tty {
            return Err(CliError::Usage(
                "refusing to discard worktrees and delete their branches without confirmation; pass --yes"
                    .into(),
            ));
        }
        eprint!(
            "Remove the worktree and delete the branch of {}? [y/N] ",
            super::render::work_orders(ids.len() as u64)
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(CliError::Failed(
                "discard aborted; nothing was changed".into(),
            ));
        }
    }
    let mut client = Client::connect(socket).await?;
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for id in ids {
        match client
            .run(DiscardRequest {
                id: id.clone(),
                force: a.force,
            })
            .await
        {
            Ok(wo) => {
                if !a.json {
                    println!("discarded the worktree of {}", wo.id);
                }
                done.push(wo.to_json());
            }
            Err(e) => {
                eprintln!("agentgate: {id}: {e}");
                refused.push(id);
            }
        }
    }
    if a.json {
        print_json(&done);
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} of {} not discarded",
            refused.len(),
            super::render::work_orders((done.len() + refused.len()) as u64)
        )))
    }
}

pub async fn push(
    socket: &Path,
    id: String,
    remote: Option<String>,
    pull_request: bool,
    title: Option<String>,
    draft: bool,
    json: bool,
) -> Result<(), CliError> {
    let p = Client::connect(socket)
        .await?
        .run(PushRequest {
            id,
            remote,
            pull_request,
            title,
            draft,
        })
        .await?;
    if json {
        print_json(&p);
        return Ok(());
    }
    println!(
        "pushed {} ({}) to {}",
        p.branch,
        super::render::short_sha(&p.commit),
        p.remote
    );
    if let Some(url) = &p.pull_request {
        println!("pull request: {url}");
    }
    Ok(())
}
