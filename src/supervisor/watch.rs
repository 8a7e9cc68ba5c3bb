//! The supervisor's loop once the agent runs: signals, output, the deadline,
//! reaping, stopping, and the run's end record.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::output::Stream;
use super::tree::Tree;
use super::{ACTIVITY_EVERY, Stop, Supervisor, git, log};
use crate::executor::files::{self, EndReason, RunEnd, RunExit, Workspace};
use crate::model::Timestamp;

impl Supervisor {
    /// Serves signals, output and timers until the leader has exited and no
    /// process of the run is left.
    pub(super) fn wait_tree(&mut self) {
        loop {
            self.reap();
            if self.leader_status.is_some() && self.children_gone {
                break;
            }
            let now = Instant::now();
            if self.stop.is_none() && self.deadline.is_some_and(|d| now >= d) {
                log("deadline passed; stopping the run");
                self.begin_stop(Stop::Timeout, self.spec.grace_ms);
            }
            if !self.killed && self.kill_at.is_some_and(|k| now >= k) {
                self.kill_all();
            }
            if self.next_activity.is_some_and(|t| now >= t) {
                self.write_activity();
                self.next_activity = Some(now + ACTIVITY_EVERY);
            }
            if self.release_pages_at.is_some_and(|t| now >= t) {
                self.release_pages_at = None;
                crate::sys::mem::release_clean_file_pages();
            }
            let next = [
                self.deadline.filter(|_| self.stop.is_none()),
                self.kill_at.filter(|_| !self.killed),
                self.next_activity,
                self.release_pages_at,
            ]
            .into_iter()
            .flatten()
            .min();
            let timeout = match next {
                Some(at) => {
                    let ms = at.saturating_duration_since(Instant::now()).as_millis() + 1;
                    PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let sig_fd = self.signals.as_fd();
            let mut fds = vec![PollFd::new(sig_fd, PollFlags::POLLIN)];
            for fd in self.output.fds() {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    log(format_args!("poll failed: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);
            if ready.first() == Some(&true) {
                self.read_signals();
            }
            self.drain_output();
        }
        // A SIGTERM that came with the end (a cluster canceling the whole job
        // signals the agent and us at once) still makes it a stop.
        if self.stop.is_none() {
            self.read_signals();
        }
        // Nothing of the run is left: what is still in the pipes is all there is.
        self.drain_output();
    }

    /// CPU time and I/O of the run so far, for a daemon on another machine
    /// (its stale detector reads them).
    pub(super) fn write_activity(&self) {
        use crate::sys::proc;
        let pids: Vec<i32> = if self.cgroups.active() {
            self.cgroups.pids()
        } else {
            proc::descendants(std::process::id() as i32)
                .iter()
                .map(|p| p.pid)
                .collect()
        };
        let live_ticks: u64 = pids
            .iter()
            .filter_map(|&p| proc::stat(p))
            .map(|s| s.cpu_ticks)
            .sum();
        let reaped_ms =
            nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
                .map(|u| {
                    let ms = |tv: nix::sys::time::TimeVal| {
                        tv.tv_sec() as u64 * 1000 + tv.tv_usec() as u64 / 1000
                    };
                    ms(u.user_time()) + ms(u.system_time())
                })
                .unwrap_or(0);
        let act = files::ActivityFile {
            cpu_ms: live_ticks * 1000 / proc::ticks_per_second() + reaped_ms,
            io_bytes: pids.iter().filter_map(|&p| proc::io_bytes(p)).sum(),
        };
        if let Err(e) = files::write_activity(&self.dir, &act) {
            log(format_args!("cannot write {}: {e}", files::ACTIVITY));
        }
    }

    pub(super) fn drain_output(&mut self) {
        self.output.drain();
    }

    pub(super) fn read_signals(&mut self) {
        while let Ok(Some(info)) = self.signals.read_signal() {
            if info.ssi_signo == Signal::SIGTERM as u32 {
                let req = files::read_stop(&self.dir);
                let grace = req.as_ref().map_or(self.spec.grace_ms, |r| r.grace_ms);
                log(format_args!(
                    "stop requested (grace {grace} ms{})",
                    req.as_ref()
                        .map(|r| format!(": {}", r.error))
                        .unwrap_or_default()
                ));
                self.begin_stop(Stop::Requested(req), grace);
            }
            // SIGCHLD: reaped at the top of the loop.
        }
    }

    /// Reaps every child that has ended; notes the leader's status and
    /// whether any child is left. As subreaper, every process of the run ends
    /// up our child once its parent is gone, so "no child left" means "no
    /// process of the run left", and every change of that arrives as SIGCHLD.
    pub(super) fn reap(&mut self) {
        let mut leader_ended = false;
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {
                    self.children_gone = false;
                    break;
                }
                Ok(st) => {
                    if st.pid().map(|p| p.as_raw()) == self.leader {
                        self.leader_status = Some(st);
                        leader_ended = true;
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => {
                    self.children_gone = true;
                    break;
                }
            }
        }
        if self.children_gone {
            return;
        }
        if leader_ended && self.stop.is_none() && !self.killed {
            // The leader is done: nothing it left behind may outlive it.
            self.kill_all();
        } else if self.killed {
            // Forks in flight when SIGKILL went out: get them too.
            self.tree().kill();
        }
    }

    pub(super) fn tree(&self) -> Tree<'_> {
        Tree {
            leader: self.leader,
            cgroups: &self.cgroups,
        }
    }

    pub(super) fn begin_stop(&mut self, why: Stop, grace_ms: u64) {
        let at = Instant::now() + Duration::from_millis(grace_ms);
        self.kill_at = Some(self.kill_at.map_or(at, |k| k.min(at)));
        if self.stop.is_none() {
            self.stop = Some(why);
            self.tree().terminate();
        }
        if grace_ms == 0 {
            self.kill_all();
        }
    }

    pub(super) fn kill_all(&mut self) {
        self.killed = true;
        self.tree().kill();
    }

    pub(super) fn end_stopped(&mut self, exit: Option<RunExit>) -> RunEnd {
        match self.stop.clone() {
            Some(Stop::Timeout) => self.end(
                EndReason::Timeout,
                exit,
                Some(format!("timed out after {}s", self.spec.max_time_s)),
            ),
            Some(Stop::Requested(req)) => {
                let mut end = self.end(EndReason::Stopped, exit, None);
                end.error = req.as_ref().map(|r| r.error.clone());
                end.stop = req;
                end
            }
            None => self.end(EndReason::Exited, exit, None),
        }
    }

    /// The run's end with what was measured; the cgroups are removed.
    pub(super) fn end(
        &mut self,
        reason: EndReason,
        exit: Option<RunExit>,
        error: Option<String>,
    ) -> RunEnd {
        let stats = self.cgroups.stats();
        self.cgroups.remove();
        let usage =
            nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).ok();
        let cpu_ms = stats.cpu_usec.map(|us| us / 1000).or_else(|| {
            usage.map(|u| {
                let t = |tv: nix::sys::time::TimeVal| {
                    (tv.tv_sec() as u64) * 1000 + (tv.tv_usec() as u64) / 1000
                };
                t(u.user_time()) + t(u.system_time())
            })
        });
        // Without a memory cgroup: the largest single process's peak.
        let peak = stats
            .peak_memory
            .or_else(|| usage.map(|u| u.max_rss() as u64 * 1024).filter(|b| *b > 0));
        self.output.detach(Stream::Stdout);
        self.output.detach(Stream::Stderr);
        let error = match (reason, self.setup_failure()) {
            (EndReason::Exited, Some(why)) => Some(why),
            _ => error,
        };
        let (agent_result, malformed_lines) = self.output.findings();
        // What the run changed in its worktree (nothing of it runs any more).
        let changes = match &self.spec.workspace {
            Workspace::Worktree { base, dir, .. } if dir.join(".git").exists() => {
                git::changes(dir, base)
            }
            _ => None,
        };
        RunEnd {
            reason,
            exit,
            error,
            stop: None,
            ended_at_ms: Timestamp::now().millis(),
            peak_memory_bytes: peak,
            cpu_time_ms: cpu_ms,
            oom_kills: stats.oom_kills,
            memory_max: self.spec.memory_max,
            agent_result,
            malformed_lines,
            changes,
        }
    }
}
