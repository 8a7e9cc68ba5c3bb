//! `queue stats` and `GET /api/v1/stats` through the real binary: work orders
//! that succeed, fail and are canceled, with and without a reported cost,
//! counted against totals computed by hand; the same report from both doors;
//! groups by label, status and day; `--since`; refusals of bad input.

mod common;

use std::time::Duration;

use common::web::{http_addr, request};
use common::{Daemon, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// An agent type whose "agent" prints a Claude stream-json result with the
/// cost given as its prompt (exit 0), and the shell type for the rest.
const CONFIG: &str = "[agents.costly]\n\
command = [\"sh\", \"-c\", \"printf '{\\\"type\\\":\\\"result\\\",\\\"subtype\\\":\\\"success\\\",\\\"is_error\\\":false,\\\"num_turns\\\":1,\\\"total_cost_usd\\\":%s,\\\"usage\\\":{\\\"input_tokens\\\":1000,\\\"output_tokens\\\":200,\\\"cache_read_input_tokens\\\":50}}\\\\n' \\\"$0\\\"\", \"{prompt}\"]\n\
output = \"claude-stream-json\"\n";

fn daemon() -> (Daemon, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let d = Daemon::with_http(
        &[
            "--max-concurrent",
            "4",
            "--config",
            config.to_str().unwrap(),
        ],
        &[],
    );
    (d, dir)
}

fn submit(d: &Daemon, args: &[&str]) -> String {
    let mut a = vec!["submit", "--json"];
    a.extend_from_slice(args);
    d.json(&a)["id"].as_str().unwrap().to_string()
}

fn row<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {report}"))
}

#[test]
fn counts_durations_and_costs_match_hand_totals() {
    let (d, _config) = daemon();
    let a = submit(&d, &["--agent", "costly", "--label", "team-a", "0.25"]);
    let b = submit(&d, &["--agent", "costly", "--label", "team-a", "0.5"]);
    let ok = submit(&d, &["--agent", "shell", "--label", "team-b", "true"]);
    let bad = submit(&d, &["--agent", "shell", "exit 3"]);
    let long = submit(&d, &["--agent", "shell", "--label", "team-b", "sleep 1000"]);
    for id in [&a, &b, &ok, &bad] {
        d.wait_terminal(id, T);
    }
    d.wait_status(&long, "running", T);
    d.json(&["queue", "cancel", &long, "--json"]);

    let r = d.json(&["queue", "stats", "--json"]);
    assert_eq!(r["by"], "agent");
    let costly = row(&r, "costly");
    assert_eq!(costly["workOrders"], 2);
    assert_eq!(costly["succeeded"], 2);
    assert_eq!(costly["withCost"], 2);
    assert_eq!(costly["withoutCost"], 0);
    assert!(
        (costly["costUsd"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{costly}"
    );
    // Tokens: summed as reported (each run reports 1000 in, 200 out, 50 cached).
    assert_eq!(
        (
            &costly["inputTokens"],
            &costly["outputTokens"],
            &costly["cachedInputTokens"],
            &costly["withTokens"]
        ),
        (&2000.into(), &400.into(), &100.into(), &2.into())
    );
    let shell = row(&r, "shell");
    assert_eq!(
        (&shell["inputTokens"], &shell["withTokens"]),
        (&0.into(), &0.into())
    );
    assert_eq!(
        (
            &shell["workOrders"],
            &shell["succeeded"],
            &shell["failed"],
            &shell["canceled"],
            &shell["active"]
        ),
        (&3.into(), &1.into(), &1.into(), &1.into(), &0.into())
    );
    assert_eq!(shell["withCost"], 0);
    assert_eq!(shell["withoutCost"], 3);
    assert_eq!(shell["costUsd"], 0.0);
    let total = &r["total"];
    assert_eq!(total["workOrders"], 5);
    assert!((total["costUsd"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert_eq!(total["inputTokens"], 2000);
    assert_eq!(total["outputTokens"], 400);
    // show names the agent and its tokens.
    let shown = d.show(&a);
    assert_eq!(shown["agentResult"]["agent"], "claude", "{shown}");
    assert_eq!(shown["agentResult"]["inputTokens"], 1000, "{shown}");
    let text = String::from_utf8(d.run(&["queue", "show", &a]).stdout).unwrap();
    assert!(text.contains("1000 in, 200 out tokens"), "{text}");

    // Durations: the sum and the median of what the work orders say.
    let mut runs: Vec<i64> = [&a, &b, &ok, &bad, &long]
        .iter()
        .map(|id| {
            let w = d.show(id);
            let t = |k: &str| {
                chrono::DateTime::parse_from_rfc3339(w[k].as_str().unwrap())
                    .unwrap()
                    .timestamp_millis()
            };
            t("completedAt") - t("startedAt")
        })
        .collect();
    assert_eq!(total["totalDurationMs"], runs.iter().sum::<i64>());
    runs.sort();
    assert_eq!(total["medianDurationMs"], runs[2]);

    // Health says the total too (kept as work orders change, not recounted).
    let h = d.json(&["queue", "health", "--json"]);
    assert!(
        (h["totalCostUsd"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{h}"
    );
    let text = String::from_utf8(d.run(&["queue", "health"]).stdout).unwrap();
    assert!(text.contains("agents' cost $0.75"), "{text}");

    // By label: a work order counts under each of its labels; none: "(none)".
    let r = d.json(&["queue", "stats", "--by", "label", "--json"]);
    assert_eq!(row(&r, "team-a")["workOrders"], 2);
    assert_eq!(row(&r, "team-b")["workOrders"], 2);
    assert_eq!(row(&r, "(none)")["workOrders"], 1);
    let r = d.json(&[
        "queue", "stats", "--label", "team-b", "--by", "status", "--json",
    ]);
    assert_eq!(r["total"]["workOrders"], 2);
    assert_eq!(row(&r, "canceled")["workOrders"], 1);
    assert_eq!(row(&r, "succeeded")["workOrders"], 1);
    let r = d.json(&["queue", "stats", "--by", "day", "--json"]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(row(&r, &today)["workOrders"], 5);

    // --since: nothing is that recent once a moment has passed.
    let r = wait_for("work orders older than 1ms", T, || {
        let r = d.json(&["queue", "stats", "--since", "1ms", "--json"]);
        (r["total"]["workOrders"] == 0).then_some(r)
    });
    assert!(r["since"].is_string(), "{r}");
    let r = d.json(&["queue", "stats", "--since", "1d", "--json"]);
    assert_eq!(r["total"]["workOrders"], 5);

    // The HTTP door answers the same report.
    let addr = http_addr(&d);
    let key = d.api_key();
    let http = request(
        &addr,
        "GET",
        "/api/v1/stats?by=label&label=team-a",
        &[("X-API-Key", &key)],
        None,
    );
    assert_eq!(http.status, 200, "{}", http.text);
    let data = http.json()["data"].clone();
    let cli = d.json(&[
        "queue", "stats", "--by", "label", "--label", "team-a", "--json",
    ]);
    assert_eq!(data, cli);

    // Piped: one tab-separated line per group, the total last.
    let out = d.run(&["queue", "stats"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("costly\t2\t2\t0\t0\t0\t"), "{text}");
    assert!(lines[0].ends_with("\t2000\t400\t100\t2"), "{text}");
    assert!(lines[2].starts_with("total\t5\t3\t1\t1\t0\t"), "{text}");
}

#[test]
fn bad_input_is_refused_with_the_field_named() {
    let (d, _config) = daemon();
    let out = d.run(&["queue", "stats", "--by", "colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
    let out = d.run(&["queue", "stats", "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));

    let addr = http_addr(&d);
    let key = d.api_key();
    for (path, field) in [
        ("/api/v1/stats?by=colour", "by"),
        ("/api/v1/stats?since=soon", "since"),
        ("/api/v1/stats?since=0", "since"),
        ("/api/v1/stats?by=", "by"),
        ("/api/v1/stats?since=", "since"),
    ] {
        let r = request(&addr, "GET", path, &[("X-API-Key", &key)], None);
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        let err = r.error(400);
        assert!(err.to_string().contains(field), "{path}: {err}");
    }
    // An empty queue is a report of nothing, not an error.
    let r = d.json(&["queue", "stats", "--json"]);
    assert_eq!(r["groups"], Value::Array(vec![]));
    assert_eq!(r["total"]["workOrders"], 0);
    assert_eq!(r["total"]["medianDurationMs"], Value::Null);
}
