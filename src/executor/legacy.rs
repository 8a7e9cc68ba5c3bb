//! Runs left `running` by versions of agentgate without supervisors: their
//! agents were children of the daemon that died with it, so a new daemon
//! cannot adopt them. What is still alive of them is stopped, never a reused
//! PID: only the process that started at the recorded start time, and stray
//! agents recognised by the heartbeat path every agent of a root gets in its
//! environment. Runs started by this version never come here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use crate::sys::proc;

/// One run to clean up: its agent's pid and start time if they were
/// recorded, and its heartbeat path.
#[derive(Debug, Clone)]
pub struct LegacyRun {
    pub pid: Option<(u32, u64)>,
    pub heartbeat: Option<PathBuf>,
}

impl LegacyRun {
    /// What an older version recorded of a work order's agent.
    pub fn of(wo: &crate::model::WorkOrder, heartbeat: Option<PathBuf>) -> LegacyRun {
        LegacyRun {
            pid: wo.pid.zip(wo.pid_start_time),
            heartbeat,
        }
    }
}

/// Stops whatever is alive of `runs`; for each, whether anything was.
pub async fn stop(runs: &[LegacyRun], grace: Duration) -> Vec<bool> {
    let stops = runs.iter().map(|r| async move {
        match r.pid {
            Some((pid, start)) => stop_group(pid, start, grace).await,
            None => false,
        }
    });
    let mut stopped = futures::future::join_all(stops).await;
    // An agent spawned just before a crash may not have its pid on disk yet,
    // and a child may have left its group: find them by their environment.
    let markers: HashMap<Vec<u8>, usize> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.heartbeat.as_ref().map(|h| (i, h)))
        .map(|(i, path)| {
            let mut marker = b"AGENTGATE_HEARTBEAT_FILE=".to_vec();
            marker.extend_from_slice(path.as_os_str().as_encoded_bytes());
            (marker, i)
        })
        .collect();
    if markers.is_empty() {
        return stopped;
    }
    let strays = tokio::task::spawn_blocking(move || find_strays(&markers))
        .await
        .unwrap_or_default();
    let stray_stops = strays.iter().map(|&(pid, pgid, start, _)| async move {
        if pgid == pid {
            stop_group(pid as u32, start, grace).await
        } else {
            proc::same_process(pid as u32, start)
                && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).is_ok()
        }
    });
    let stray_stopped = futures::future::join_all(stray_stops).await;
    for (&(pid, _, _, i), was_alive) in strays.iter().zip(stray_stopped) {
        if was_alive {
            tracing::warn!(
                pid,
                "stopped an agent process of an older agentgate the store did not track"
            );
            stopped[i] = true;
        }
    }
    stopped
}

/// Live processes (pid, pgid, start time, index) whose environment holds
/// one of `markers`.
fn find_strays(markers: &HashMap<Vec<u8>, usize>) -> Vec<(i32, i32, u64, usize)> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for p in proc::all() {
        if p.pid == me || p.zombie {
            continue;
        }
        let Ok(env) = std::fs::read(format!("/proc/{}/environ", p.pid)) else {
            continue;
        };
        if let Some(&i) = env.split(|&b| b == 0).find_map(|var| markers.get(var)) {
            found.push((p.pid, p.pgrp, p.start_time, i));
        }
    }
    found
}

/// Stops a group this daemon did not start, only if `pid` is still the
/// process that started at `start_time`. Old agents are not our children
/// (nothing signals their end), so this checks /proc until they are gone.
async fn stop_group(pid: u32, start_time: u64, grace: Duration) -> bool {
    if !proc::same_process(pid, start_time) {
        return false;
    }
    let pgid = pid as i32;
    proc::signal_group(pgid, Signal::SIGTERM);
    proc::signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    let mut killed = false;
    loop {
        if proc::group_members(pgid).is_empty() {
            return true;
        }
        if !killed && Instant::now() >= deadline {
            proc::signal_group(pgid, Signal::SIGKILL);
            killed = true;
        }
        if Instant::now() > deadline + Duration::from_secs(30) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
