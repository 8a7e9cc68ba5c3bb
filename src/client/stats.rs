//! `queue stats`: the usage report as a table on a terminal, tab-separated
//! lines when piped, or JSON (as `GET /api/v1/stats`).

use std::io::IsTerminal;
use std::path::Path;

use super::table::{Column, Fit, render, terminal_width};
use super::{CliError, flags, print_json};
use crate::ops::{StatsGroup, StatsQuery, StatsReport, StatsRow};
use crate::rpc::client::Client;

pub async fn run(
    socket: &Path,
    by: &str,
    since: Option<&str>,
    labels: Vec<String>,
    json: bool,
) -> Result<(), CliError> {
    let by = match by {
        "label" => StatsGroup::Label,
        "day" => StatsGroup::Day,
        "status" => StatsGroup::Status,
        _ => StatsGroup::Agent,
    };
    let since_ms = since
        .map(|d| flags::duration("--since", d))
        .transpose()?
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let query = StatsQuery {
        by,
        since_ms,
        labels,
    };
    let report = Client::connect(socket).await?.run(query).await?;
    if json {
        print_json(&report);
    } else if std::io::stdout().is_terminal() {
        for line in table(&report) {
            println!("{line}");
        }
    } else {
        for line in tsv(&report) {
            println!("{line}");
        }
    }
    Ok(())
}

fn duration(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) => crate::model::units::format_duration(std::time::Duration::from_millis(ms)),
    }
}

fn cost(r: &StatsRow) -> String {
    let mut s = if r.with_cost > 0 {
        format!("${:.2}", r.cost_usd)
    } else {
        "-".into()
    };
    if r.without_cost > 0 {
        s.push_str(&format!(" ({} n/a)", r.without_cost));
    }
    s
}

/// `1.2M/80.5k`, `-` when none reported.
fn tokens(r: &StatsRow) -> String {
    if r.with_tokens == 0 {
        return "-".into();
    }
    format!("{}/{}", count(r.input_tokens), count(r.output_tokens))
}

/// A count for people: `950`, `12.3k`, `4.5M`.
fn count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn rows(report: &StatsReport) -> impl Iterator<Item = &StatsRow> {
    report.groups.iter().chain(std::iter::once(&report.total))
}

/// Header first, the total last.
pub fn table(report: &StatsReport) -> Vec<String> {
    let col = |header: &'static str, keep: u8, f: &dyn Fn(&StatsRow) -> String| {
        Column::new(header, keep, rows(report).map(f).collect())
    };
    let key_header = match report.by {
        StatsGroup::Agent => "AGENT",
        StatsGroup::Label => "LABEL",
        StatsGroup::Day => "DAY",
        StatsGroup::Status => "STATUS",
    };
    let columns = [
        col(key_header, 9, &|r| {
            super::table::one_line(&r.key).into_owned()
        })
        .shrinks_to(8),
        col("ORDERS", 9, &|r| r.work_orders.to_string()),
        col("OK", 8, &|r| r.succeeded.to_string()),
        col("FAILED", 8, &|r| r.failed.to_string()),
        col("CANCELED", 5, &|r| r.canceled.to_string()),
        col("ACTIVE", 4, &|r| r.active.to_string()),
        col("MEDIAN", 6, &|r| duration(r.median_duration_ms)),
        col("TOTAL TIME", 3, &|r| duration(Some(r.total_duration_ms))),
        col("TOKENS IN/OUT", 6, &tokens),
        col("COST", 7, &cost),
    ];
    render(&columns, Fit::Width(terminal_width()), false)
}

/// One group a line: key, work orders, succeeded, failed, canceled, active,
/// median ms (`-` for none), total ms, cost USD, with cost, without cost,
/// input tokens, output tokens, cached input tokens, with tokens.
pub fn tsv(report: &StatsReport) -> Vec<String> {
    rows(report)
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.6}\t{}\t{}\t{}\t{}\t{}\t{}",
                super::table::one_line(&r.key),
                r.work_orders,
                r.succeeded,
                r.failed,
                r.canceled,
                r.active,
                r.median_duration_ms
                    .map_or_else(|| "-".to_string(), |m| m.to_string()),
                r.total_duration_ms,
                r.cost_usd,
                r.with_cost,
                r.without_cost,
                r.input_tokens,
                r.output_tokens,
                r.cached_input_tokens,
                r.with_tokens
            )
        })
        .collect()
}
