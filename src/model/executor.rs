//! Executors as the model sees them: which one runs a run, and the opaque
//! handle it persists to find the run again.

use serde::{Deserialize, Serialize};

/// Where runs execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// A supervisor process on this machine.
    Local,
    /// A job on a Slurm cluster (the supervisor runs inside it).
    Slurm,
}

impl ExecutorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

impl std::str::FromStr for ExecutorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ExecutorKind, String> {
        match s {
            "local" => Ok(ExecutorKind::Local),
            "slurm" => Ok(ExecutorKind::Slurm),
            other => Err(format!("{other:?}: expected local or slurm")),
        }
    }
}

/// How an executor finds a run again after a daemon restart: opaque to
/// everything but the executor that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ExecHandle {
    /// A local supervisor process: its pid and start time (together they
    /// never name a reused PID) and the run directory it works in.
    // Per variant: the OpenAPI generator does not know `rename_all_fields`.
    #[serde(rename_all = "camelCase")]
    Local {
        pid: u32,
        start_time: u64,
        run_dir: String,
    },
    /// A Slurm job (its supervisor runs inside it).
    #[serde(rename_all = "camelCase")]
    Slurm {
        job_id: String,
        cluster: Option<String>,
        run_dir: String,
    },
}

impl ExecHandle {
    /// For people: `local supervisor (pid 1234)`, `slurm job 42`.
    pub fn describe(&self) -> String {
        match self {
            ExecHandle::Local { pid, .. } => format!("local supervisor (pid {pid})"),
            ExecHandle::Slurm {
                job_id, cluster, ..
            } => match cluster {
                Some(c) => format!("slurm job {job_id} on cluster {c}"),
                None => format!("slurm job {job_id}"),
            },
        }
    }
}

impl ExecHandle {
    /// The executor that made this handle.
    pub fn kind(&self) -> ExecutorKind {
        match self {
            ExecHandle::Local { .. } => ExecutorKind::Local,
            ExecHandle::Slurm { .. } => ExecutorKind::Slurm,
        }
    }
}
