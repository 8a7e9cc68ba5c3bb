//! The executors of one daemon behind the one trait: a run starts on the
//! executor its spec names, is adopted by the one its handle names, and is
//! stopped and probed by whichever follows it. The actor sees only this.

use std::path::PathBuf;

use futures::future::BoxFuture;

use super::local::LocalExecutor;
use super::slurm::{self, SlurmExecutor, SlurmFile, SlurmSettings};
use super::{
    Activity, AdoptTarget, Adopted, Capabilities, EventSink, ExecError, ExecHandle, Executor,
    ExecutorKind, ExecutorStatus, Gate, RunSpec, StopRequest,
};
use crate::config::{ConfigError, DaemonSettings};
use crate::sys::cgroup::CgroupPlan;

/// Each executor's own settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorSettings {
    /// Local runs get cgroups of their own where the host allows.
    pub cgroups: bool,
    pub slurm: SlurmSettings,
}

impl ExecutorSettings {
    /// Each executor reads and checks its own settings: the local one
    /// `--cgroups` (or its variable) else the file's `cgroups`, the Slurm one
    /// its `[slurm]` section.
    pub fn resolve(
        cgroups_flag: Option<&str>,
        cgroups_file: Option<bool>,
        slurm: Option<SlurmFile>,
    ) -> Result<ExecutorSettings, ConfigError> {
        let cgroups = match cgroups_flag.filter(|s| !s.is_empty()) {
            Some("auto" | "on" | "1" | "true" | "yes") => true,
            Some("off" | "0" | "false" | "no") => false,
            Some(other) => {
                return Err(ConfigError::Value {
                    name: "--cgroups".into(),
                    message: format!("{other:?}: expected auto or off"),
                });
            }
            None => cgroups_file.unwrap_or(true),
        };
        Ok(ExecutorSettings {
            cgroups,
            slurm: SlurmSettings::resolve(slurm)?,
        })
    }
}

/// What `Executors::prepare` found, for `Executors::start`.
pub struct Prepared {
    cgroups: CgroupPlan,
}

pub struct Executors {
    local: LocalExecutor,
    /// Present when the daemon or an agent type uses Slurm.
    slurm: Option<SlurmExecutor>,
}

impl Executors {
    /// Readies the executors the settings use before the daemon serves, on
    /// its only thread (cgroup discovery may move the daemon into a leaf
    /// cgroup): `Err` refuses to start; warnings are logged.
    pub fn prepare(settings: &DaemonSettings) -> Result<Prepared, String> {
        let cgroups = if settings.executors.cgroups {
            crate::sys::cgroup::discover()
        } else {
            CgroupPlan::default()
        };
        tracing::info!(cgroups = %cgroups.describe(), "run isolation");
        if settings.uses(ExecutorKind::Slurm) {
            match slurm::validate(&settings.executors.slurm) {
                Err(e) => return Err(e),
                Ok(Some(warning)) => tracing::warn!("slurm executor: {warning}"),
                Ok(None) => {}
            }
        }
        Ok(Prepared { cgroups })
    }

    /// The executors the settings use (call inside the runtime).
    pub fn start(settings: &DaemonSettings, prepared: Prepared) -> Executors {
        Executors {
            local: LocalExecutor::new(
                prepared.cgroups,
                settings.env_remove.clone(),
                settings.sandbox_support.as_ref().map(|s| s.summary()),
            ),
            slurm: settings.uses(ExecutorKind::Slurm).then(|| {
                let s = &settings.executors.slurm;
                let binary = s
                    .binary
                    .clone()
                    .or_else(|| std::env::current_exe().ok())
                    .unwrap_or_else(|| PathBuf::from("agentgate"));
                SlurmExecutor::new(s.clone(), binary)
            }),
        }
    }

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
            None => {
                let kind = spec.executor.as_str();
                Box::pin(async move {
                    Err(ExecError::Unavailable(format!(
                        "this agent type runs on the {kind} executor, but the daemon has none"
                    )))
                })
            }
        }
    }

    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted> {
        // A run without a recorded handle can only be a local one (its
        // supervisor's traces are in the run directory).
        let kind = match &target.handle {
            None => Some(ExecutorKind::Local),
            Some(h) => h.kind(),
        };
        match kind.and_then(|k| self.get(k)) {
            Some(e) => e.adopt(target, events),
            None => {
                let name = target
                    .handle
                    .as_ref()
                    .map_or("local", ExecHandle::executor)
                    .to_string();
                tracing::warn!(run = %target.run_id, executor = %name, "a run on an executor this daemon does not have: it is failed as lost");
                Box::pin(async move {
                    Adopted::Ended(super::RunEnd::lost(format!(
                        "a run on the {name} executor, but the daemon now has no {name} executor to follow it"
                    )))
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

    fn capabilities(&self, kind: ExecutorKind) -> Option<Capabilities> {
        self.get(kind).and_then(|e| e.capabilities(kind))
    }
}
