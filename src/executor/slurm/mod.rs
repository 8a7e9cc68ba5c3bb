//! The Slurm executor: each run is a batch job on an existing Slurm cluster,
//! with this binary's supervisor inside it (the same one the local executor
//! uses), so the run directory's files (spec, state, stop, exit), logs,
//! heartbeat and deadline work the same. The data root must be on a
//! filesystem both the daemon and the compute nodes see.
//!
//! - Start: `sbatch --parsable` of a script in the run's directory that only
//!   execs the supervisor on the run's spec file; the handle is the job id.
//! - Ends: event-driven from the supervisor's `exit.json` (an inotify watch on
//!   each run directory), and one batched `squeue` per poll interval for
//!   liveness and pending reasons; a job gone without an exit file is looked
//!   up with `scontrol show job` and reported `Lost` with Slurm's state.
//! - Stop: `scancel --signal=TERM --full`, then after the grace period
//!   `scancel --signal=KILL --full` and `scancel`; a pending job is simply
//!   canceled.

mod commands;
pub mod config;
mod ends;
mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use serde::{Deserialize, Serialize};

use super::files::{self, StopRequest};
use super::{
    Activity, AdoptTarget, Adopted, Capabilities, EventSink, ExecError, ExecEvent, ExecHandle,
    Executor, ExecutorKind, ExecutorStatus, Gate, RunSpec,
};
use crate::sys::cgroup::CgroupPlan;
pub use commands::SlurmError;
pub use config::{SlurmFile, SlurmSettings};
use ends::{explain_foreign_stop, job_record, lost_end, maybe_foreign, settled_record, squeue};

/// What a Slurm run's `ExecHandle` holds: its job (and cluster, where sbatch
/// named one) and its run directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handle {
    pub job_id: String,
    pub cluster: Option<String>,
    pub run_dir: String,
}

impl Handle {
    pub fn describe(&self) -> String {
        match &self.cluster {
            Some(c) => format!("slurm job {} on cluster {c}", self.job_id),
            None => format!("slurm job {}", self.job_id),
        }
    }
}

/// A run this executor follows.
struct SlurmRun {
    work_order_id: String,
    run_id: String,
    run_dir: PathBuf,
    job_id: String,
    events: EventSink,
    outputs: [PathBuf; 2],
    heartbeat: PathBuf,
    state: Mutex<RunState>,
}

#[derive(Default)]
struct RunState {
    /// As squeue last said (PENDING, RUNNING, ...).
    slurm_state: Option<String>,
    reason: Option<String>,
    started: bool,
    /// The stop asked of it, if any (a Slurm CANCELLED is then ours).
    stop: Option<StopRequest>,
    /// A pending escalation to SIGKILL.
    kill_timer: Option<tokio::task::JoinHandle<()>>,
}

/// What the executor knows of the cluster, for `queue health`.
#[derive(Clone)]
struct Health {
    healthy: bool,
    detail: String,
}

type Runs = Arc<Mutex<HashMap<String, Arc<SlurmRun>>>>;

pub struct SlurmExecutor {
    settings: SlurmSettings,
    /// The agentgate binary the jobs run.
    binary: PathBuf,
    runs: Runs,
    health: Arc<Mutex<Health>>,
    watcher: watch::Watcher,
}

impl SlurmExecutor {
    /// Starts the executor's watcher and poller (call inside the runtime).
    pub fn new(settings: SlurmSettings, binary: PathBuf) -> SlurmExecutor {
        let runs: Runs = Arc::new(Mutex::new(HashMap::new()));
        let health = Arc::new(Mutex::new(Health {
            healthy: true,
            detail: describe(&settings, None),
        }));
        let watcher = watch::Watcher::start(&settings, runs.clone(), health.clone());
        SlurmExecutor {
            settings,
            binary,
            runs,
            health,
            watcher,
        }
    }

    fn run(&self, run_id: &str) -> Option<Arc<SlurmRun>> {
        self.runs.lock().ok()?.get(run_id).cloned()
    }

    fn register(&self, run: SlurmRun) -> Arc<SlurmRun> {
        let run = Arc::new(run);
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(run.run_id.clone(), run.clone());
        }
        self.watcher.watch(&run);
        run
    }
}

/// What the Slurm executor can do: its limit is its own section's.
pub fn capabilities(settings: &SlurmSettings) -> Capabilities {
    Capabilities {
        uses_host_memory: false,
        queues_runs: true,
        can_adopt: true,
        reports_usage: true,
        shared_filesystem: true,
        max_concurrent: Some(settings.max_concurrent),
    }
}

fn describe(settings: &SlurmSettings, cluster: Option<&str>) -> String {
    let mut parts = vec!["slurm jobs via sbatch".to_string()];
    if let Some(c) = cluster {
        parts.push(format!("cluster {c}"));
    }
    if let Some(p) = &settings.partition {
        parts.push(format!("partition {p}"));
    }
    parts.push(format!("polled every {:?}", settings.poll_interval));
    parts.join(", ")
}

/// A cluster problem makes the executor unhealthy; any answer makes it healthy.
fn note_health<T>(
    health: &Mutex<Health>,
    settings: &SlurmSettings,
    result: &Result<T, SlurmError>,
) {
    let Ok(mut h) = health.lock() else { return };
    match result {
        Err(e) if e.is_cluster_problem() => {
            h.healthy = false;
            h.detail = e.to_string();
        }
        Err(_) => {}
        Ok(_) => {
            if !h.healthy {
                h.healthy = true;
                h.detail = describe(settings, None);
            }
        }
    }
}

/// Checks the settings against the real sbatch before the daemon serves:
/// extra arguments sbatch rejects are refused (`Err`); a cluster that cannot
/// be reached or sbatch missing only makes the executor unhealthy (`Ok` with
/// a warning).
pub fn validate(settings: &SlurmSettings) -> Result<Option<String>, String> {
    let mut args = vec!["--test-only".to_string()];
    args.extend(settings.extra_args.iter().cloned());
    args.extend(["--wrap".to_string(), "true".to_string()]);
    let out = std::process::Command::new("sbatch")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Err(e) => Ok(Some(format!(
            "cannot run sbatch: {e}; Slurm work orders will fail until it is installed"
        ))),
        Ok(o) if o.status.success() => Ok(None),
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr)
                .trim()
                .replace('\n', "; ");
            if [
                "Unable to contact",
                "Socket timed out",
                "Connection refused",
                "Munge",
            ]
            .iter()
            .any(|m| stderr.contains(m))
            {
                Ok(Some(format!(
                    "the Slurm controller cannot be reached: {stderr}"
                )))
            } else {
                Err(format!(
                    "sbatch rejects the [slurm] extra_args {:?}: {stderr}",
                    settings.extra_args
                ))
            }
        }
    }
}

impl Executor for SlurmExecutor {
    fn start(
        &self,
        spec: RunSpec,
        gate: Gate,
        events: EventSink,
    ) -> BoxFuture<'static, Result<ExecHandle, ExecError>> {
        let settings = self.settings.clone();
        let binary = self.binary.clone();
        let runs = self.runs.clone();
        let health = self.health.clone();
        let watcher = self.watcher.clone();
        Box::pin(async move {
            // The job is submitted while the daemon records the start; its
            // supervisor waits for the spec file, written only once the gate
            // opens, so nothing runs for a start that was never recorded.
            let file = super::supervisor_spec(&spec, CgroupPlan::default());
            let script = spec.run_dir.join("job.sh");
            let prepared = (|| {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&spec.run_dir)?;
                let text = commands::batch_script(
                    &binary,
                    &spec.run_dir.join(files::SPEC),
                    &spec.run_id,
                    &spec.work_order_id,
                );
                crate::store::atomic::write_atomic_fast(&script, text.as_bytes(), 0o700)
            })();
            use std::os::unix::fs::DirBuilderExt;
            prepared.map_err(ExecError::Prepare)?;
            // Where the job starts: the workspace if it exists already (a
            // clone is made inside the job, from the run's directory).
            let chdir = match &spec.workspace {
                super::Workspace::Dir { path } => path.clone(),
                super::Workspace::Clone { .. } | super::Workspace::Worktree { .. } => {
                    spec.run_dir.clone()
                }
            };
            let mut args = vec![
                "--parsable".to_string(),
                format!("--job-name=agentgate-{}", spec.work_order_id),
                format!("--time={}", commands::time_limit_minutes(spec.max_time_s)),
                format!("--chdir={}", chdir.display()),
                format!("--output={}", spec.stdout.display()),
                format!("--error={}", spec.stderr.display()),
                "--open-mode=append".to_string(),
                "--export=ALL".to_string(),
            ];
            for (flag, value) in [
                ("--partition", &settings.partition),
                ("--account", &settings.account),
                ("--qos", &settings.qos),
            ] {
                if let Some(v) = value {
                    args.push(format!("{flag}={v}"));
                }
            }
            args.extend(settings.extra_args.iter().cloned());
            args.push(script.display().to_string());
            let submitted = commands::run("sbatch", &args).await;
            note_health(&health, &settings, &submitted);
            let (job_id, cluster) = submitted
                .and_then(|out| commands::parse_submitted(&out))
                .map_err(|e| ExecError::Submit(e.to_string()))?;
            if gate.await.is_err() {
                // The start was never recorded: take the job back.
                let _ = commands::run("scancel", std::slice::from_ref(&job_id)).await;
                return Err(ExecError::Abandoned);
            }
            if let Err(e) = files::write_spec(&spec.run_dir, &file) {
                let _ = commands::run("scancel", std::slice::from_ref(&job_id)).await;
                return Err(ExecError::Prepare(e));
            }
            tracing::info!(work_order = %spec.work_order_id, run = %spec.run_id, job = %job_id, "slurm job submitted");
            let run = Arc::new(SlurmRun {
                work_order_id: spec.work_order_id.clone(),
                run_id: spec.run_id.clone(),
                run_dir: spec.run_dir.clone(),
                job_id: job_id.clone(),
                events,
                outputs: [spec.stdout.clone(), spec.stderr.clone()],
                heartbeat: spec.heartbeat.clone(),
                state: Mutex::new(RunState {
                    slurm_state: Some("PENDING".into()),
                    ..RunState::default()
                }),
            });
            if let Ok(mut r) = runs.lock() {
                r.insert(run.run_id.clone(), run.clone());
            }
            watcher.watch(&run);
            let _ = run.events.send(ExecEvent::Status {
                work_order_id: run.work_order_id.clone(),
                run_id: run.run_id.clone(),
                state: "PENDING".into(),
                reason: None,
            });
            Ok(ExecHandle::new(
                ExecutorKind::Slurm,
                &Handle {
                    job_id,
                    cluster,
                    run_dir: spec.run_dir.display().to_string(),
                },
            ))
        })
    }

    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted> {
        let Some(Handle { job_id, .. }) = target
            .handle
            .as_ref()
            .and_then(|h| h.decode::<Handle>(ExecutorKind::Slurm))
        else {
            return Box::pin(async { Adopted::Unknown });
        };
        // Ended while no daemon ran (the supervisor wrote its record).
        if let Ok(end) = files::read_exit(&target.run_dir) {
            return Box::pin(async move { Adopted::Ended(end) });
        }
        let spec = files::read_spec(&target.run_dir).ok();
        let run = self.register(SlurmRun {
            work_order_id: target.work_order_id.clone(),
            run_id: target.run_id.clone(),
            run_dir: target.run_dir.clone(),
            job_id,
            events,
            outputs: [
                spec.as_ref()
                    .map_or_else(|| target.run_dir.join("stdout.log"), |s| s.stdout.clone()),
                spec.as_ref()
                    .map_or_else(|| target.run_dir.join("stderr.log"), |s| s.stderr.clone()),
            ],
            heartbeat: target.run_dir.join("heartbeat"),
            state: Mutex::new(RunState::default()),
        });
        // Its state (or its disappearance) comes with the next poll; an
        // exit written between the check above and the watch is caught here.
        self.watcher.check_exit(&run);
        let handle = target.handle.clone().unwrap_or_else(|| {
            ExecHandle::new(
                ExecutorKind::Slurm,
                &Handle {
                    job_id: run.job_id.clone(),
                    cluster: None,
                    run_dir: target.run_dir.display().to_string(),
                },
            )
        });
        Box::pin(async move { Adopted::Live(handle) })
    }

    fn stop(&self, run_id: &str, req: &StopRequest) {
        let Some(run) = self.run(run_id) else {
            return;
        };
        if let Err(e) = files::write_stop(&run.run_dir, req) {
            tracing::error!(run = %run_id, error = %e, "cannot write stop request; the supervisor uses its default grace period");
        }
        let pending = {
            let Ok(mut st) = run.state.lock() else { return };
            st.stop = Some(req.clone());
            st.slurm_state.as_deref() == Some("PENDING")
        };
        let job = run.job_id.clone();
        let grace = std::time::Duration::from_millis(req.grace_ms);
        let (settings, health) = (self.settings.clone(), self.health.clone());
        let escalate = tokio::spawn(async move {
            let kill = async |job: &str| {
                let r = commands::run(
                    "scancel",
                    &["--signal=KILL".into(), "--full".into(), job.into()],
                )
                .await;
                let _ = commands::run("scancel", &[job.to_string()]).await;
                r
            };
            if pending {
                // Nothing runs yet: take it out of the queue.
                let r = commands::run("scancel", std::slice::from_ref(&job)).await;
                note_health(&health, &settings, &r);
                return;
            }
            if grace.is_zero() {
                let r = kill(&job).await;
                note_health(&health, &settings, &r);
                return;
            }
            let r = commands::run(
                "scancel",
                &["--signal=TERM".into(), "--full".into(), job.clone()],
            )
            .await;
            note_health(&health, &settings, &r);
            tokio::time::sleep(grace).await;
            let _ = kill(&job).await;
        });
        if let Ok(mut st) = run.state.lock()
            && let Some(old) = st.kill_timer.replace(escalate)
        {
            // A second request (e.g. --force after a cancel) replaces the
            // first's timer: it never lengthens the grace, the actor sees to that.
            old.abort();
        }
    }

    fn probe(&self, run_id: &str) -> Option<Activity> {
        let run = self.run(run_id)?;
        let waiting = run
            .state
            .lock()
            .map(|s| s.slurm_state.as_deref() == Some("PENDING"))
            .unwrap_or(false);
        let output_bytes = run
            .outputs
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        let heartbeat = std::fs::metadata(&run.heartbeat)
            .and_then(|m| m.modified())
            .ok();
        // CPU and I/O of a remote run, as its supervisor last wrote them.
        let act = files::read_activity(&run.run_dir).unwrap_or_default();
        Some(Activity {
            waiting,
            output_bytes,
            cpu_ms: act.cpu_ms,
            heartbeat,
            io_bytes: act.io_bytes,
        })
    }

    fn status(&self) -> Vec<ExecutorStatus> {
        let h = self.health.lock().map(|h| h.clone()).unwrap_or(Health {
            healthy: false,
            detail: "executor state unavailable".into(),
        });
        vec![ExecutorStatus {
            kind: ExecutorKind::Slurm,
            healthy: h.healthy,
            detail: h.detail,
        }]
    }

    fn capabilities(&self, kind: ExecutorKind) -> Option<Capabilities> {
        (kind == ExecutorKind::Slurm).then(|| capabilities(&self.settings))
    }
}
