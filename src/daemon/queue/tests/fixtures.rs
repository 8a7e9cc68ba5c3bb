//! What the queue core's unit tests share: a scripted executor (it starts
//! nothing; a test says when a run starts, what its probes read and how it
//! ends) and a queue driven directly, one step at a time — operations applied
//! as the actor applies them, executor events handed over, internal events
//! drained — with a real store on a temporary root. No process, no timer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, oneshot};

use super::super::{Actor, tuning};
use crate::config::DaemonSettings;
use crate::executor::{
    Activity, AdoptTarget, Adopted, AgentDetails, Capabilities, EndReason, EventSink, ExecError,
    ExecEvent, ExecHandle, Executor, ExecutorKind, ExecutorStatus, Gate, RunEnd, RunExit, RunSpec,
    StopRequest,
};
use crate::model::{Status, Timestamp, WorkOrder, WorkspaceInput};
use crate::ops::Operation;
use crate::service::{ServiceError, SubmitRequest};
use crate::store::{StorageReport, Store};

/// What the scripted executor was asked, and what it will answer.
#[derive(Default)]
pub struct Script {
    /// Runs started, by run id: their spec and where their events go.
    pub started: Vec<(RunSpec, EventSink)>,
    /// Gates of started runs (opened once the start is durable).
    pub gates: HashMap<String, Gate>,
    /// Stop requests, in order: (run id, request).
    pub stops: Vec<(String, StopRequest)>,
    /// What a probe of each run reads (absent: the run is gone).
    pub activity: HashMap<String, Activity>,
    /// How adoption of each run id answers (absent: `Unknown`).
    pub adopt: HashMap<String, Adopted>,
    /// Runs adopted, by run id.
    pub adopted: Vec<String>,
    /// Every start fails with this, when set.
    pub fail_starts: Option<String>,
}

/// An executor that runs nothing: it records, and answers as scripted.
#[derive(Default, Clone)]
pub struct Scripted(pub Arc<Mutex<Script>>);

impl Scripted {
    fn with<T>(&self, f: impl FnOnce(&mut Script) -> T) -> T {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }

    /// Run ids started so far, in order.
    pub fn run_ids(&self) -> Vec<String> {
        self.with(|s| {
            s.started
                .iter()
                .map(|(spec, _)| spec.run_id.clone())
                .collect()
        })
    }

    /// The work order id of each run started, in order.
    pub fn started_orders(&self) -> Vec<String> {
        self.with(|s| {
            s.started
                .iter()
                .map(|(spec, _)| spec.work_order_id.clone())
                .collect()
        })
    }

    pub fn stops(&self) -> Vec<(String, StopRequest)> {
        self.with(|s| s.stops.clone())
    }

    /// Whether the daemon opened the run's gate (its start is durable).
    pub fn gate_open(&self, run_id: &str) -> bool {
        self.with(|s| {
            s.gates
                .get_mut(run_id)
                .is_some_and(|g| matches!(g.try_recv(), Ok(())))
        })
    }

    pub fn set_activity(&self, run_id: &str, act: Option<Activity>) {
        self.with(|s| match act {
            Some(a) => {
                s.activity.insert(run_id.to_string(), a);
            }
            None => {
                s.activity.remove(run_id);
            }
        });
    }

    pub fn script_adopt(&self, run_id: &str, answer: Adopted) {
        self.with(|s| {
            s.adopt.insert(run_id.to_string(), answer);
        });
    }

    pub fn fail_starts(&self, why: &str) {
        self.with(|s| s.fail_starts = Some(why.to_string()));
    }

    fn sink(&self, run_id: &str) -> (String, EventSink) {
        self.with(|s| {
            s.started
                .iter()
                .find(|(spec, _)| spec.run_id == run_id)
                .map(|(spec, sink)| (spec.work_order_id.clone(), sink.clone()))
                .unwrap_or_else(|| panic!("run {run_id} was never started"))
        })
    }

    /// The agent of `run_id` started.
    pub fn agent_started(&self, run_id: &str) {
        let (id, sink) = self.sink(run_id);
        let _ = sink.send(ExecEvent::Started {
            work_order_id: id,
            run_id: run_id.to_string(),
            details: AgentDetails::default(),
            deadline: None,
        });
    }

    /// The run ended: its exit code, or `None` for a stop it honoured.
    pub fn end(&self, run_id: &str, code: Option<i32>) {
        let (id, sink) = self.sink(run_id);
        let mut end = RunEnd::lost(String::new());
        end.error = None;
        match code {
            Some(c) => {
                end.reason = EndReason::Exited;
                end.exit = Some(RunExit::Code(c));
            }
            None => {
                end.reason = EndReason::Stopped;
                end.exit = Some(RunExit::Signal(15));
            }
        }
        let _ = sink.send(ExecEvent::Ended {
            work_order_id: id,
            run_id: run_id.to_string(),
            end: Box::new(end),
        });
    }
}

fn scripted_handle(run_id: &str) -> ExecHandle {
    ExecHandle::new(
        ExecutorKind::Local,
        &serde_json::json!({"scripted": run_id}),
    )
}

impl Executor for Scripted {
    fn start(
        &self,
        spec: RunSpec,
        gate: Gate,
        events: EventSink,
    ) -> BoxFuture<'static, Result<ExecHandle, ExecError>> {
        let run_id = spec.run_id.clone();
        let failed = self.with(|s| {
            if let Some(why) = &s.fail_starts {
                return Some(why.clone());
            }
            s.gates.insert(run_id.clone(), gate);
            s.started.push((spec, events));
            None
        });
        Box::pin(async move {
            match failed {
                Some(why) => Err(ExecError::Submit(why)),
                None => Ok(scripted_handle(&run_id)),
            }
        })
    }

    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted> {
        let answer = self.with(|s| {
            s.adopted.push(target.run_id.clone());
            let answer = s.adopt.remove(&target.run_id).unwrap_or(Adopted::Unknown);
            if matches!(answer, Adopted::Live(_)) {
                // Events of an adopted run flow as for a started one.
                let spec = adopted_spec(&target);
                s.started.push((spec, events));
            }
            answer
        });
        Box::pin(async move { answer })
    }

    fn stop(&self, run_id: &str, req: &StopRequest) {
        self.with(|s| s.stops.push((run_id.to_string(), req.clone())));
    }

    fn probe(&self, run_id: &str) -> Option<Activity> {
        self.with(|s| s.activity.get(run_id).copied())
    }

    fn status(&self) -> Vec<ExecutorStatus> {
        vec![ExecutorStatus {
            kind: ExecutorKind::Local,
            healthy: true,
            detail: "scripted (unit tests)".into(),
        }]
    }

    fn capabilities(&self, kind: ExecutorKind) -> Option<Capabilities> {
        (kind == ExecutorKind::Local).then_some(Capabilities {
            uses_host_memory: false,
            queues_runs: false,
            can_adopt: true,
            reports_usage: false,
            shared_filesystem: false,
            max_concurrent: None,
        })
    }
}

/// The spec an adopted run is known by (only its ids matter here).
fn adopted_spec(t: &AdoptTarget) -> RunSpec {
    RunSpec {
        executor: ExecutorKind::Local,
        work_order_id: t.work_order_id.clone(),
        run_id: t.run_id.clone(),
        run_dir: t.run_dir.clone(),
        argv: vec![],
        env: vec![],
        workspace: crate::executor::Workspace::Dir {
            path: t.run_dir.clone(),
        },
        stdout: t.run_dir.join("stdout.log"),
        stderr: t.run_dir.join("stderr.log"),
        heartbeat: t.run_dir.join("heartbeat"),
        deadline: None,
        max_time_s: 60,
        grace: std::time::Duration::from_millis(100),
        memory_max: None,
        output_format: None,
        setup: None,
        sandbox: None,
        forbidden: Vec::new(),
        prompt: None,
        env_remove: vec![],
    }
}

/// Daemon settings from flags, as `agentgate daemon FLAGS` resolves them,
/// on `root`.
pub fn settings(root: &std::path::Path, flags: &[&str]) -> DaemonSettings {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    let root = root.display().to_string();
    let argv = ["agentgate", "--data-dir", root.as_str(), "daemon"]
        .into_iter()
        .chain(["--stagger-delay", "0", "--min-memory", "0", "--http", "off"])
        .chain(flags.iter().copied());
    let cli = Cli::try_parse_from(argv).expect("test flags parse");
    let Command::Daemon(args) = cli.command else {
        unreachable!("parsed as the daemon")
    };
    DaemonSettings::resolve(&cli.global, &args, Default::default()).expect("test settings")
}

/// A queue on a temporary root with the scripted executor, driven by hand.
pub struct Harness {
    pub q: Actor,
    pub exec: Scripted,
    pub dir: tempfile::TempDir,
    pub changes: broadcast::Receiver<crate::service::StatusChange>,
}

impl Harness {
    pub fn new(flags: &[&str]) -> Harness {
        Harness::with_orders(tempfile::tempdir().expect("temp root"), flags, vec![])
    }

    /// A queue that loaded `orders` from `dir` (a restart).
    pub fn with_orders(
        dir: tempfile::TempDir,
        flags: &[&str],
        orders: Vec<(WorkOrder, Map<String, Value>)>,
    ) -> Harness {
        let settings = Arc::new(settings(dir.path(), flags));
        let store = Store::open(&settings.paths.root).expect("store");
        let exec = Scripted::default();
        let (tx, changes) = broadcast::channel(1024);
        let q = Actor::new(
            settings,
            store,
            Arc::new(exec.clone()),
            orders.into_iter().map(|(w, m)| (w, m.into())).collect(),
            StorageReport::default(),
            tuning::Overrides::default(),
            tx,
        );
        Harness {
            q,
            exec,
            dir,
            changes,
        }
    }

    /// Applies `op` as the actor does; its answer, if it gave one by now.
    pub fn try_call<O: Operation>(&mut self, op: O) -> Option<Result<O::Output, ServiceError>> {
        if let Err(e) = op.validate() {
            return Some(Err(e));
        }
        let (tx, mut rx) = oneshot::channel();
        op.apply(&mut self.q, tx);
        self.q.start_released();
        self.pump();
        rx.try_recv().ok()
    }

    /// Applies `op`; its answer, which must have come at once.
    pub fn call<O: Operation>(&mut self, op: O) -> Result<O::Output, ServiceError> {
        self.try_call(op).expect("an answer at once")
    }

    /// Applies `op`, answered later: the receiver to read once it is.
    pub fn call_later<O: Operation>(
        &mut self,
        op: O,
    ) -> oneshot::Receiver<Result<O::Output, ServiceError>> {
        let (tx, rx) = oneshot::channel();
        op.apply(&mut self.q, tx);
        self.q.start_released();
        self.pump();
        rx
    }

    /// Hands every executor and internal event waiting to the queue, and
    /// whatever they cause in turn.
    pub fn pump(&mut self) {
        loop {
            let mut any = false;
            while let Ok(ev) = self.q.exec_rx.try_recv() {
                self.q.on_exec_event(ev);
                any = true;
            }
            while let Ok(ev) = self.q.events_rx.try_recv() {
                self.q.on_event(ev);
                any = true;
            }
            if !any {
                return;
            }
        }
    }

    /// Pumps until `cond` holds: for work the queue hands to a blocking
    /// thread (the stale detector's probes). Fails after a few seconds.
    pub fn pump_until(&mut self, what: &str, mut cond: impl FnMut(&mut Harness) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            self.pump();
            if cond(self) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::yield_now();
        }
    }

    /// Submits a work order (in the temp root); its id.
    pub fn submit(&mut self, prompt: &str, after: &[&str], priority: i32) -> String {
        let wo = self
            .call(SubmitRequest {
                task_prompt: prompt.into(),
                agent_type: Some("shell".into()),
                workspace_source: Some(WorkspaceInput {
                    kind: Some("local".into()),
                    path: Some(self.dir.path().display().to_string()),
                    ..WorkspaceInput::default()
                }),
                depends_on: after.iter().map(|s| s.to_string()).collect(),
                priority,
                ..SubmitRequest::default()
            })
            .expect("submit");
        wo.id
    }

    pub fn status(&self, id: &str) -> Status {
        self.q.get(id).expect("held").status
    }

    pub fn order(&self, id: &str) -> WorkOrder {
        self.q.get(id).expect("held").clone()
    }

    /// The current run id of a running work order.
    pub fn run_of(&self, id: &str) -> String {
        self.order(id).current_run_id.expect("a run")
    }

    /// Status changes broadcast so far: (id, new status).
    pub fn changes(&mut self) -> Vec<(String, Option<Status>)> {
        let mut out = vec![];
        while let Ok(c) = self.changes.try_recv() {
            out.push((c.id, c.status));
        }
        out
    }

    /// A work order file as a previous daemon left it: running with a run.
    pub fn running_order(id: &str, run_id: &str, root: &std::path::Path) -> WorkOrder {
        let mut wo = WorkOrder::new_queued(
            id.into(),
            "sleep 1000".into(),
            "shell".into(),
            crate::model::WorkspaceSource::Local {
                path: root.display().to_string(),
            },
            3600,
            1,
            Timestamp::now(),
        );
        let now = Timestamp::now();
        wo.transition(Status::Running, now)
            .expect("queued to running");
        wo.run_count = 1;
        wo.current_run_id = Some(run_id.into());
        wo.run_ids.push(run_id.into());
        wo
    }
}
