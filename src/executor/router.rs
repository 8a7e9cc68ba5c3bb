//! The executors of one daemon behind the one trait: a run starts on the
//! executor its spec names, is adopted by the one its handle names, and is
//! stopped and probed by whichever follows it. The actor sees only this.

use futures::future::BoxFuture;

use super::local::LocalExecutor;
use super::slurm::SlurmExecutor;
use super::{
    Activity, AdoptTarget, Adopted, EventSink, ExecError, ExecHandle, Executor, ExecutorKind,
    ExecutorStatus, Gate, RunSpec, StopRequest,
};

pub struct Executors {
    pub local: LocalExecutor,
    /// Present when the daemon or an agent type uses Slurm.
    pub slurm: Option<SlurmExecutor>,
}

impl Executors {
    fn get(&self, kind: ExecutorKind) -> Option<&dyn Executor> {
        match kind {
            ExecutorKind::Local => Some(&self.local),
            ExecutorKind::Slurm => self.slurm.as_ref().map(|s| s as &dyn Executor),
        }
    }

    fn all(&self) -> impl Iterator<Item = &dyn Executor> {
        std::iter::once(&self.local as &dyn Executor)
            .chain(self.slurm.as_ref().map(|s| s as &dyn Executor))
    }
}

impl Executor for Executors {
    fn start(
        &self,
        spec: RunSpec,
        gate: Gate,
        events: EventSink,
    ) -> BoxFuture<'static, Result<ExecHandle, ExecError>> {
        match self.get(spec.executor) {
            Some(e) => e.start(spec, gate, events),
            None => Box::pin(async {
                Err(ExecError::Submit(
                    "this agent type runs on Slurm, but the daemon has no Slurm executor".into(),
                ))
            }),
        }
    }

    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted> {
        // A run without a recorded handle can only be a local one (its
        // supervisor's traces are in the run directory).
        let kind = target
            .handle
            .as_ref()
            .map_or(ExecutorKind::Local, ExecHandle::kind);
        match self.get(kind) {
            Some(e) => e.adopt(target, events),
            None => {
                tracing::warn!(run = %target.run_id, "a Slurm run, but no Slurm executor is configured: it is failed as lost");
                Box::pin(async {
                    Adopted::Ended(super::RunEnd::lost(
                        "a Slurm run, but the daemon now has no Slurm executor to follow it".into(),
                    ))
                })
            }
        }
    }

    fn stop(&self, run_id: &str, req: &StopRequest) {
        for e in self.all() {
            e.stop(run_id, req);
        }
    }

    fn probe(&self, run_id: &str) -> Option<Activity> {
        self.all().find_map(|e| e.probe(run_id))
    }

    fn status(&self) -> Vec<ExecutorStatus> {
        self.all().flat_map(|e| e.status()).collect()
    }
}
