//! `queue list`: JSON, a table fitted to the terminal, or tab-separated lines
//! for a pipe, from a listing received in bounded frames.

use super::*;

/// `queue list`: JSON, a table fitted to the terminal, or tab-separated
/// lines for a pipe; notes go to stderr.
pub(super) async fn list(
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

/// A whole listing, received in bounded pieces (a listing can be far larger
/// than one frame). For a table, each prompt is cut to what a terminal line
/// can show as it arrives, so 100,000 long prompts do not pile up here.
pub(super) async fn list_streamed(
    socket: &Path,
    query: ListQuery,
    table: bool,
) -> Result<ListPage, CliError> {
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
