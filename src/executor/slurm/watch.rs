//! Following Slurm runs: an inotify watch on each run directory reports the
//! supervisor's start (`state.json`) and end (`exit.json`) the moment they
//! are written; one batched `squeue` per poll interval reports states and
//! pending reasons, and catches jobs that vanished without an exit file (or
//! ends missed where the filesystem gives no inotify events, as over NFS).

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use tokio::io::unix::AsyncFd;

use super::config::SlurmSettings;
use super::{
    Health, Runs, SlurmRun, explain_foreign_stop, job_record, lost_end, maybe_foreign, note_health,
    settled_record, squeue,
};
use crate::executor::ExecEvent;
use crate::executor::files::{self, RunEnd};
use crate::model::Timestamp;

/// Slurm job states after which a job runs nothing any more.
const ENDED: [&str; 10] = [
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
    "SPECIAL_EXIT",
];

#[derive(Clone)]
pub(super) struct Watcher {
    inner: Arc<Inner>,
}

struct Inner {
    inotify: Option<Arc<Inotify>>,
    watches: Mutex<HashMap<WatchDescriptor, String>>,
    runs: Runs,
}

/// Lets the runtime poll the shared inotify instance.
struct Fd(Arc<Inotify>);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl Watcher {
    /// Starts the inotify reader and the poller.
    pub(super) fn start(
        settings: &SlurmSettings,
        runs: Runs,
        health: Arc<Mutex<Health>>,
    ) -> Watcher {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| tracing::warn!(error = %e, "no inotify: Slurm runs are followed by polling only"))
            .ok()
            .map(Arc::new);
        let w = Watcher {
            inner: Arc::new(Inner {
                inotify: inotify.clone(),
                watches: Mutex::new(HashMap::new()),
                runs,
            }),
        };
        if let Some(ino) = inotify {
            tokio::spawn(w.clone().read_events(ino));
        }
        tokio::spawn(w.clone().poll(settings.clone(), health));
        w
    }

    /// Follows `run`: its directory's changes from now on, and what is
    /// already there.
    pub(super) fn watch(&self, run: &Arc<SlurmRun>) {
        if let Some(ino) = &self.inner.inotify {
            match ino.add_watch(
                &run.run_dir,
                AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE,
            ) {
                Ok(wd) => {
                    if let Ok(mut w) = self.inner.watches.lock() {
                        w.insert(wd, run.run_id.clone());
                    }
                }
                Err(e) => {
                    tracing::warn!(run = %run.run_id, error = %e, "cannot watch run directory; polling it")
                }
            }
        }
        self.check_started(run);
    }

    pub(super) fn check_started(&self, run: &Arc<SlurmRun>) {
        let Some(state) = files::read_state(&run.run_dir).filter(|s| s.agent_pid.is_some()) else {
            return;
        };
        let first = run
            .state
            .lock()
            .map(|mut s| !std::mem::replace(&mut s.started, true))
            .unwrap_or(false);
        if first {
            // The agent runs on a compute node: no local pid or cgroup.
            let _ = run.events.send(ExecEvent::Started {
                work_order_id: run.work_order_id.clone(),
                run_id: run.run_id.clone(),
                details: crate::executor::AgentDetails::default(),
                deadline: state.deadline_ms.map(Timestamp),
            });
        }
    }

    /// Ends `run` from its exit file, if it has one now.
    pub(super) fn check_exit(&self, run: &Arc<SlurmRun>) -> bool {
        match files::read_exit(&run.run_dir) {
            Ok(end) => {
                let end = explain_foreign_stop(run, end, None);
                self.finish(run, end);
                true
            }
            Err(_) => false,
        }
    }

    /// The supervisor recorded the end: with Slurm's own account added
    /// where the stop did not come from agentgate.
    async fn exit_written(&self, run: &Arc<SlurmRun>) {
        let Ok(end) = files::read_exit(&run.run_dir) else {
            return;
        };
        if !maybe_foreign(run, &end) {
            self.finish(run, end);
            return;
        }
        // Ask Slurm what happened, off the event loop (it may take a moment
        // to settle).
        let (this, run) = (self.clone(), run.clone());
        tokio::spawn(async move {
            let record = settled_record(&run.job_id).await;
            let end = explain_foreign_stop(&run, end, record.as_ref());
            this.finish(&run, end);
        });
    }

    /// The one place a run ends here: reported once, no longer followed.
    fn finish(&self, run: &Arc<SlurmRun>, end: RunEnd) {
        let removed = self
            .inner
            .runs
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&run.run_id))
            .is_some();
        if !removed {
            return;
        }
        if let Ok(mut w) = self.inner.watches.lock() {
            let wds: Vec<WatchDescriptor> = w
                .iter()
                .filter(|(_, id)| **id == run.run_id)
                .map(|(wd, _)| *wd)
                .collect();
            for wd in wds {
                w.remove(&wd);
                if let Some(ino) = &self.inner.inotify {
                    let _ = ino.rm_watch(wd);
                }
            }
        }
        if let Ok(mut st) = run.state.lock()
            && let Some(t) = st.kill_timer.take()
        {
            t.abort();
        }
        // An agent that ran is announced before its end.
        self.check_started(run);
        tracing::info!(run = %run.run_id, job = %run.job_id, reason = ?end.reason, "slurm run ended");
        let _ = run.events.send(ExecEvent::Ended {
            work_order_id: run.work_order_id.clone(),
            run_id: run.run_id.clone(),
            end: Box::new(end),
        });
    }

    fn run_of(&self, wd: WatchDescriptor) -> Option<Arc<SlurmRun>> {
        let id = self.inner.watches.lock().ok()?.get(&wd).cloned()?;
        self.inner.runs.lock().ok()?.get(&id).cloned()
    }

    async fn read_events(self, ino: Arc<Inotify>) {
        // SAFETY: `Fd` holds the inotify instance open for as long as the
        // AsyncFd lives.
        let fd = match unsafe {
            AsyncFd::register_with_interest(Fd(ino), tokio::io::Interest::READABLE)
        } {
            Ok(fd) => fd,
            Err(e) => {
                tracing::warn!(error = %e, "cannot poll inotify: Slurm runs are followed by polling only");
                return;
            }
        };
        loop {
            let Ok(mut guard) = fd.readable().await else {
                return;
            };
            let events =
                match guard.try_io(|i| i.get_ref().0.read_events().map_err(std::io::Error::from)) {
                    Ok(Ok(ev)) => ev,
                    Ok(Err(_)) | Err(_) => continue,
                };
            for ev in events {
                let Some(run) = self.run_of(ev.wd) else {
                    continue;
                };
                match ev.name.as_ref().and_then(|n| n.to_str()) {
                    Some(files::EXIT) => self.exit_written(&run).await,
                    Some(files::STATE) => self.check_started(&run),
                    _ => {}
                }
            }
        }
    }

    /// Every poll interval: one squeue for all followed jobs.
    async fn poll(self, settings: SlurmSettings, health: Arc<Mutex<Health>>) {
        let mut tick = tokio::time::interval(settings.poll_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let runs: Vec<Arc<SlurmRun>> = match self.inner.runs.lock() {
                Ok(r) => r.values().cloned().collect(),
                Err(_) => return,
            };
            if runs.is_empty() {
                continue;
            }
            let ids: Vec<String> = runs.iter().map(|r| r.job_id.clone()).collect();
            let listed = squeue(&ids).await;
            note_health(&health, &settings, &listed);
            // Without an answer nothing is concluded about any job.
            let Ok(listed) = listed else { continue };
            for run in runs {
                match listed.get(&run.job_id) {
                    Some(q) => self.update(&run, q),
                    None => self.vanished(&run).await,
                }
            }
        }
    }

    fn update(&self, run: &Arc<SlurmRun>, q: &super::commands::Queued) {
        let changed = run
            .state
            .lock()
            .map(|mut s| {
                let changed = s.slurm_state.as_ref() != Some(&q.state) || s.reason != q.reason;
                s.slurm_state = Some(q.state.clone());
                s.reason = q.reason.clone();
                changed
            })
            .unwrap_or(false);
        if changed {
            let _ = run.events.send(ExecEvent::Status {
                work_order_id: run.work_order_id.clone(),
                run_id: run.run_id.clone(),
                state: q.state.clone(),
                reason: q.reason.clone(),
            });
        }
        if q.state == "RUNNING" {
            // Where no inotify event came (NFS), the start is seen here.
            self.check_started(run);
        }
    }

    /// A job squeue no longer lists: its exit file, else Slurm's record.
    async fn vanished(&self, run: &Arc<SlurmRun>) {
        if let Ok(end) = files::read_exit(&run.run_dir) {
            let record = if maybe_foreign(run, &end) {
                job_record(&run.job_id).await
            } else {
                None
            };
            self.finish(run, explain_foreign_stop(run, end, record.as_ref()));
            return;
        }
        let record = job_record(&run.job_id).await;
        // The supervisor may have written its end meanwhile.
        if let Ok(end) = files::read_exit(&run.run_dir) {
            let end = explain_foreign_stop(run, end, record.as_ref());
            self.finish(run, end);
            return;
        }
        let ended = record
            .as_ref()
            .is_none_or(|r| ENDED.iter().any(|s| r.state.starts_with(s)));
        if ended {
            let end = lost_end(run, record.as_ref());
            self.finish(run, end);
        }
    }
}
