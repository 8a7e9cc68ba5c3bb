//! The two streaming commands: `queue logs` (output pushed by the daemon, with
//! `--follow` until the work order ends) and `queue wait` (status changes
//! pushed by the daemon; a live progress line on a TTY).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::{CliError, print_json, render, table, unexpected};
use crate::model::units::format_duration;
use crate::model::{Status, WorkOrder};
use crate::rpc::client::Client;
use crate::rpc::proto::{Reply, Request};
use crate::service::{LogsRequest, WaitItem, WaitRequest};

/// `queue logs ID [--follow] [--tail N] [--stderr]`.
pub async fn logs(socket: &Path, req: LogsRequest) -> Result<(), CliError> {
    let follow = req.follow;
    let mut client = Client::connect(socket).await?;
    if follow {
        // A work order that has not started says why, instead of silence.
        let shown = client
            .run(crate::service::ShowRequest { id: req.id.clone() })
            .await?;
        if shown.work_order.status == Status::Queued {
            eprintln!(
                "waiting to start: {} (its output follows once it runs)",
                shown
                    .queued_reason
                    .as_deref()
                    .map(table::one_line)
                    .unwrap_or_else(|| "queued".into())
            );
        }
    }
    client.start_stream(Request::Logs(req)).await?;
    let stdout = std::io::stdout();
    loop {
        match client.next_reply().await? {
            Reply::LogChunk(bytes) => {
                let mut out = stdout.lock();
                if let Err(e) = out.write_all(&bytes).and_then(|_| out.flush()) {
                    // `agentgate queue logs ID | head`: the reader has had enough.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(());
                    }
                    return Err(CliError::Failed(format!("cannot write the output: {e}")));
                }
            }
            Reply::LogEnd(wo) => {
                if !follow {
                    if wo.current_run_id.is_none() {
                        eprintln!(
                            "note: work order {} is {} and has no output yet; use --follow to wait for it",
                            table::one_line(&wo.id),
                            wo.status
                        );
                    }
                    return Ok(());
                }
                return if wo.status == Status::Succeeded {
                    Ok(())
                } else {
                    Err(CliError::Failed(format!(
                        "work order {} {}",
                        table::one_line(&wo.id),
                        render::outcome(&wo)
                    )))
                };
            }
            r => return Err(unexpected(r)),
        }
    }
}

/// The one-line progress display of `queue wait`, on stderr when it is a TTY.
struct Progress {
    enabled: bool,
    drawn: bool,
    started: Instant,
}

impl Progress {
    fn draw(&mut self, items: &[WaitItem]) {
        if !self.enabled || items.is_empty() {
            return;
        }
        let line = progress_line(items, self.started.elapsed());
        let width = table::stderr_width().saturating_sub(1).max(20);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", render::truncate(&line, width));
        let _ = err.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// `waiting for 3 work orders: 1 running, 2 succeeded (2/3 done) · 12s`
pub fn progress_line(items: &[WaitItem], elapsed: Duration) -> String {
    let counts: Vec<String> = Status::ALL
        .iter()
        .filter_map(|s| {
            let n = items.iter().filter(|i| i.status == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let done = items.iter().filter(|i| i.status.is_terminal()).count();
    format!(
        "waiting for {} work order{}: {} ({done}/{} done) · {}",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        counts.join(", "),
        items.len(),
        elapsed_text(elapsed)
    )
}

fn elapsed_text(d: Duration) -> String {
    if d.as_secs() < 60 {
        format!("{}s", d.as_secs())
    } else {
        format_duration(d)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Why `queue wait` stopped before the end.
enum Cut {
    Timeout,
    Interrupted,
}

/// `queue wait ID... [--timeout DUR] [--json]`.
pub async fn wait(
    socket: &Path,
    ids: Vec<String>,
    timeout: Option<Duration>,
    json: bool,
) -> Result<(), CliError> {
    let started = Instant::now();
    let deadline = timeout.map(|t| started + t);
    let mut client = Client::connect(socket).await?;
    client
        .start_stream(Request::Wait(WaitRequest { ids: ids.clone() }))
        .await?;
    let mut progress = Progress {
        enabled: std::io::stderr().is_terminal(),
        drawn: false,
        started,
    };
    let mut redraw = tokio::time::interval(Duration::from_secs(1));
    let mut last: Vec<WaitItem> = Vec::new();
    // Ctrl-C is caught only while waiting: the progress line is erased first.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let outcome: Result<Vec<WorkOrder>, Cut> = loop {
        tokio::select! {
            reply = client.next_reply() => match reply {
                Ok(Reply::WaitProgress(items)) => {
                    last = items;
                    progress.draw(&last);
                }
                Ok(Reply::WaitDone(wos)) => break Ok(wos),
                Ok(r) => {
                    progress.clear();
                    return Err(unexpected(r));
                }
                Err(e) => {
                    progress.clear();
                    return Err(e.into());
                }
            },
            _ = redraw.tick(), if progress.enabled => progress.draw(&last),
            _ = sleep_until(deadline) => break Err(Cut::Timeout),
            _ = &mut interrupt => break Err(Cut::Interrupted),
        }
    };
    progress.clear();
    let done = match outcome {
        Ok(done) => done,
        Err(cut) => {
            drop(client);
            return cut_short(socket, &ids, &last, cut, timeout, json).await;
        }
    };
    let failed: Vec<&WorkOrder> = done
        .iter()
        .filter(|w| w.status != Status::Succeeded)
        .collect();
    if json {
        print_json(&json!({
            "items": done.iter().map(WorkOrder::to_json).collect::<Vec<_>>(),
            "allSucceeded": failed.is_empty(),
        }));
    } else {
        let ids: Vec<String> = done
            .iter()
            .map(|w| table::one_line(&w.id).into_owned())
            .collect();
        let width = ids.iter().map(|i| table::width(i)).max().unwrap_or(0);
        for (wo, id) in done.iter().zip(&ids) {
            println!(
                "{id}{}  {}",
                " ".repeat(width - table::width(id)),
                render::outcome(wo)
            );
            // What the agent itself says it did.
            if let Some(r) = &wo.agent_result {
                let facts = render::agent_facts(r);
                if let Some(summary) = &r.summary {
                    let first = summary.lines().next().unwrap_or_default();
                    println!("{:width$}  {} ({facts})", "", render::truncate(first, 200));
                } else if !facts.is_empty() {
                    println!("{:width$}  ({facts})", "");
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} of {} did not succeed: {}",
            failed.len(),
            super::render::work_orders(done.len() as u64),
            failed
                .iter()
                .map(|w| format!("{} {}", w.id, w.status))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// A wait that ended early (timeout, Ctrl-C): what is known is printed with
/// `--json` (the work orders as they stand), and the error says what goes on.
async fn cut_short(
    socket: &Path,
    ids: &[String],
    last: &[WaitItem],
    cut: Cut,
    timeout: Option<Duration>,
    json: bool,
) -> Result<(), CliError> {
    if json {
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let known = match Client::connect(socket).await {
                Ok(mut c) => match c
                    .call(Request::Show(crate::service::ShowRequest {
                        id: id.clone(),
                    }))
                    .await
                {
                    Ok(Reply::Show(d)) => Some(d.to_json()),
                    _ => None,
                },
                Err(_) => None,
            };
            items.push(known.unwrap_or_else(|| {
                let status = last.iter().find(|i| &i.id == id).map(|i| i.status);
                json!({"id": id, "status": status})
            }));
        }
        let mut v = json!({"items": items, "allSucceeded": false});
        match cut {
            Cut::Timeout => v["timedOut"] = json!(true),
            Cut::Interrupted => v["interrupted"] = json!(true),
        }
        print_json(&v);
    }
    let pending: Vec<String> = last
        .iter()
        .filter(|i| !i.status.is_terminal())
        .map(|i| format!("{} ({})", i.id, i.status))
        .collect();
    match cut {
        Cut::Interrupted => Err(CliError::Interrupted),
        Cut::Timeout => Err(CliError::Timeout(format!(
            "timed out after {}: still waiting for {} of {}: {}; they keep going (cancel with `agentgate queue cancel ID`)",
            format_duration(timeout.unwrap_or_default()),
            pending.len(),
            last.len(),
            pending.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_per_status() {
        let items = vec![
            WaitItem {
                id: "a".into(),
                status: Status::Running,
            },
            WaitItem {
                id: "b".into(),
                status: Status::Succeeded,
            },
            WaitItem {
                id: "c".into(),
                status: Status::Succeeded,
            },
        ];
        assert_eq!(
            progress_line(&items, Duration::from_millis(12_300)),
            "waiting for 3 work orders: 1 running, 2 succeeded (2/3 done) · 12s"
        );
        assert_eq!(
            progress_line(&items[..1], Duration::from_millis(10)),
            "waiting for 1 work order: 1 running (0/1 done) · 0s"
        );
    }
}
