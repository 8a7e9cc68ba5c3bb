//! Purge and retention through the real daemon binary: purge is one actor
//! operation that never holds up the queue (directories go to the trash and
//! are deleted in the background), running work is stopped all at once, and
//! retention keeps the newest terminal work orders.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agentgate::rpc::codec::{decode, encode};
use agentgate::rpc::proto::{ClientFrame, PROTOCOL_VERSION, Reply, Request, ServerFrame};
use common::{Daemon, FAST, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository with one file, as a `file://` URL.
fn repo(dir: &Path) -> String {
    let bare = dir.join("repo.git");
    std::fs::create_dir_all(&bare).expect("mkdir");
    git(&bare, &["init", "-q", "--bare", "--initial-branch=main"]);
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    git(&work, &["init", "-q", "--initial-branch=main"]);
    std::fs::write(work.join("README"), "hi\n").expect("write");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "init"]);
    git(&work, &["push", "-q", bare.to_str().expect("path"), "main"]);
    format!("file://{}", bare.display())
}

/// One `queue health` over the socket, timed in this process (no client
/// process start in the figure): the actor's answer time.
fn health_rtt(socket: &Path) -> Duration {
    let frame = |v: &ClientFrame| {
        let b = encode(v).expect("encode");
        let mut out = (b.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&b);
        out
    };
    let read = |s: &mut std::os::unix::net::UnixStream| -> ServerFrame {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).expect("read");
        let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut buf).expect("read");
        decode(&buf).expect("decode")
    };
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    let started = Instant::now();
    s.write_all(&frame(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
    }))
    .expect("write");
    s.write_all(&frame(&ClientFrame::Request(Box::new(Request::Health(
        agentgate::service::HealthRequest,
    )))))
    .expect("write");
    assert!(matches!(read(&mut s), ServerFrame::Hello { .. }));
    match read(&mut s) {
        ServerFrame::Ok(r) if matches!(*r, Reply::Health(_)) => {}
        other => panic!("unexpected {other:?}"),
    }
    started.elapsed()
}

fn trash_entries(d: &Daemon) -> usize {
    std::fs::read_dir(d.root.join(".trash"))
        .map(|r| r.count())
        .unwrap_or(0)
}

#[test]
fn purging_a_clone_of_20000_files_never_holds_up_the_queue() {
    let repos = tempfile::tempdir().expect("tempdir");
    let url = repo(repos.path());
    let d = Daemon::start(FAST);
    let id = d.submit_shell(
        "mkdir -p many && cd many && seq 1 20000 | xargs touch && ls | wc -l",
        &["--url", &url],
    );
    let wo = d.wait_status(&id, "succeeded", T);
    assert_eq!(d.read_log_of(&wo).trim(), "20000");
    let clone = d.root.join("workspaces").join(&id);
    assert!(clone.join("many").join("20000").exists());

    let purge = d
        .command()
        .args(["queue", "purge", &id, "--yes", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("purge");
    // Another client asks for health all the while, until the files are gone.
    let mut rtts = Vec::new();
    // Answers given while the clone's files were still being deleted.
    let mut while_deleting = 0;
    let mut purge = Some(purge);
    loop {
        rtts.push(health_rtt(&d.socket));
        if trash_entries(&d) > 0 {
            while_deleting += 1;
        }
        if let Some(p) = purge.as_mut()
            && let Ok(Some(st)) = p.try_wait()
        {
            assert!(st.success());
            purge = None;
        }
        if purge.is_none() && trash_entries(&d) == 0 {
            break;
        }
        assert!(rtts.len() < 100_000, "the trash is never emptied");
    }
    let max = rtts.iter().max().copied().unwrap_or_default();
    println!(
        "health during the purge of 20,000 files: {} answers, max {:?}",
        rtts.len(),
        max
    );
    // The deletion happened off the actor: health was answered meanwhile
    // (its latency is a figure of `cargo bench --bench storage`).
    assert!(while_deleting > 0, "no answer while the files were deleted");
    assert!(!clone.exists());
    let out = d.run(&["queue", "show", &id]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn purge_stops_running_work_all_at_once_then_removes_it() {
    let mut args = FAST.to_vec();
    args.extend(["--max-concurrent", "3", "--grace-period", "3s"]);
    let d = Daemon::start(&args);
    // Each ignores SIGTERM: only the grace period's SIGKILL ends it.
    let ids: Vec<String> = (0..3)
        .map(|_| d.submit_shell("trap '' TERM; sleep 100 & wait; sleep 100", &[]))
        .collect();
    for id in &ids {
        d.wait_status(id, "running", T);
    }
    let runs: Vec<String> = ids
        .iter()
        .map(|id| {
            d.show(id)["currentRunId"]
                .as_str()
                .expect("run")
                .to_string()
        })
        .collect();
    let started = Instant::now();
    let mut cmd = vec!["queue", "purge", "--yes", "--json"];
    cmd.extend(ids.iter().map(String::as_str));
    let v = d.json(&cmd);
    let took = started.elapsed();
    assert_eq!(v["deletedCount"], 3, "{v}");
    // Three 3 s grace periods side by side: one after another would take 9 s
    // at least; and the grace was given (SIGKILL only after it).
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(took >= Duration::from_millis(2900), "took {took:?}");
    for (id, run) in ids.iter().zip(&runs) {
        assert!(
            !d.root
                .join("work-orders")
                .join(format!("{id}.json"))
                .exists()
        );
        wait_for("run directory gone", T, || {
            (!d.root.join("runs").join(run).exists()).then_some(())
        });
    }
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["runningCount"], 0, "{h}");
}

#[test]
fn the_trash_of_an_earlier_daemon_is_emptied_at_start() {
    let mut d = Daemon::unstarted(FAST);
    let left = d.root.join(".trash").join("runXYZ-abc").join("deep");
    std::fs::create_dir_all(&left).expect("mkdir");
    std::fs::write(left.join("f"), "x").expect("write");
    d.spawn();
    wait_for("the trash emptied", T, || {
        (trash_entries(&d) == 0).then_some(())
    });
}

/// Every work order's status, from `queue list --all --json`.
fn statuses(d: &Daemon) -> Vec<String> {
    d.json(&["queue", "list", "--all", "--json"])["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|w| w["status"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn retention_keeps_the_newest_terminal_work_orders() {
    let mut args = FAST.to_vec();
    args.extend(["--max-concurrent", "8", "--retention-max-count", "100"]);
    let d = Daemon::start(&args);
    let ids: Vec<String> = (0..150).map(|_| d.submit_shell("true", &[])).collect();
    let left = wait_for("150 done, 100 kept", T, || {
        let s = statuses(&d);
        (s.len() == 100 && s.iter().all(|s| s == "succeeded")).then_some(s)
    });
    assert_eq!(left.len(), 100);
    // The oldest went: the newest 100 are the ones kept.
    let kept: Vec<String> = d.json(&["queue", "list", "--all", "--json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|w| w["id"].as_str().unwrap_or("").to_string())
        .collect();
    let mut newest: Vec<String> = ids[50..].to_vec();
    newest.reverse();
    assert_eq!(kept, newest);
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["storage"]["retentionPurged"], 50, "{h}");
    for id in &ids[..50] {
        assert!(
            !d.root
                .join("work-orders")
                .join(format!("{id}.json"))
                .exists()
        );
    }
}

#[test]
fn retention_by_age_never_touches_queued_or_running_work() {
    let mut args = FAST.to_vec();
    args.extend(["--retention-max-age", "1s"]);
    let d = Daemon::start(&args);
    let done = d.submit_shell("true", &[]);
    let running = d.submit_shell("sleep 100", &[]);
    d.wait_status(&running, "running", T);
    // No slot: --max-concurrent is 2 by default; fill the second one.
    let other = d.submit_shell("sleep 100", &[]);
    d.wait_status(&other, "running", T);
    let queued = d.submit_shell("true", &[]);
    wait_for("the finished one purged", T, || {
        (d.run(&["queue", "show", &done]).status.code() == Some(1)).then_some(())
    });
    // Old enough too by now, but not terminal: kept.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(d.status(&running), "running");
    assert_eq!(d.status(&queued), "queued");
    let h: Value = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["storage"]["retentionPurged"], 1, "{h}");
}
