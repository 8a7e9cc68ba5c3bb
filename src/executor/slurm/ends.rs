//! How a Slurm job ended when its supervisor could not say: Slurm's own
//! record of it (`scontrol`, else `sacct`), and its view of an end it may
//! have caused (a cancel or preemption outside agentgate).

use std::collections::HashMap;

use super::SlurmRun;
use super::commands::{self, JobRecord, SQUEUE_FORMAT, SlurmError};
use crate::executor::files::{EndReason, RunEnd};

/// The end of a job that left no exit record: from Slurm's own account of it.
pub(super) fn lost_end(run: &SlurmRun, record: Option<&JobRecord>) -> RunEnd {
    let job = &run.job_id;
    let ours = run.state.lock().ok().and_then(|s| s.stop.clone());
    let Some(rec) = record else {
        return RunEnd::lost(format!(
            "slurm job {job} is gone and left no exit record (Slurm no longer knows it)"
        ));
    };
    let detail = format!(
        "JobState={}{}{}",
        rec.state,
        rec.reason
            .as_ref()
            .map(|r| format!(" Reason={r}"))
            .unwrap_or_default(),
        rec.exit_code
            .as_ref()
            .map(|c| format!(" ExitCode={c}"))
            .unwrap_or_default()
    );
    let state = rec.state.split_whitespace().next().unwrap_or("");
    match state {
        "TIMEOUT" => RunEnd {
            reason: EndReason::Timeout,
            error: Some(format!(
                "timed out: Slurm ended job {job} at its time limit ({detail})"
            )),
            ..RunEnd::lost(String::new())
        },
        "CANCELLED" if ours.is_some() => RunEnd {
            reason: EndReason::Stopped,
            stop: ours.clone(),
            error: ours.map(|s| s.error),
            ..RunEnd::lost(String::new())
        },
        "CANCELLED" => RunEnd {
            reason: EndReason::Stopped,
            error: Some(format!(
                "slurm job {job} was canceled outside agentgate ({detail})"
            )),
            ..RunEnd::lost(String::new())
        },
        _ => RunEnd::lost(format!(
            "slurm job {job} ended without a record from its supervisor ({detail})"
        )),
    }
}

/// Whether an end may be Slurm's doing rather than the agent's: a stop not
/// asked by agentgate, or an agent killed by a signal (a `scancel` signals
/// every process of the job, the agent's too).
pub(super) fn maybe_foreign(run: &SlurmRun, end: &RunEnd) -> bool {
    let ours = run.state.lock().ok().and_then(|s| s.stop.clone());
    ours.is_none()
        && end.stop.is_none()
        && (end.reason == EndReason::Stopped
            || (end.reason == EndReason::Exited
                && matches!(end.exit, Some(crate::executor::RunExit::Signal(_)))))
}

/// Adds Slurm's view to an end it may have caused: a job Slurm canceled (or
/// otherwise ended) outside agentgate says so in the error.
pub(super) fn explain_foreign_stop(
    run: &SlurmRun,
    mut end: RunEnd,
    record: Option<&JobRecord>,
) -> RunEnd {
    if !maybe_foreign(run, &end) {
        return end;
    }
    let state = record.map(|r| r.state.as_str());
    // States in which Slurm, not the job, ended it.
    let by_slurm = state.is_some_and(|s| {
        [
            "CANCELLED",
            "PREEMPTED",
            "NODE_FAIL",
            "TIMEOUT",
            "DEADLINE",
            "OUT_OF_MEMORY",
            "BOOT_FAIL",
        ]
        .iter()
        .any(|x| s.starts_with(x))
    });
    if end.reason == EndReason::Stopped || by_slurm {
        end.reason = EndReason::Stopped;
        end.error = Some(format!(
            "slurm job {} was stopped outside agentgate ({})",
            run.job_id,
            state.unwrap_or("state unknown")
        ));
    }
    end
}

/// Slurm's settled record of a job that is ending: while it is still
/// COMPLETING (killing its processes), asked again briefly.
pub(super) async fn settled_record(job: &str) -> Option<JobRecord> {
    let mut record = job_record(job).await;
    for _ in 0..30 {
        match &record {
            Some(r) if r.state.starts_with("COMPLETING") || r.state.starts_with("RUNNING") => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                record = job_record(job).await;
            }
            _ => break,
        }
    }
    record
}

/// Slurm's record of one job: `scontrol -o show job` while the controller
/// still holds it (MinJobAge), else the accounting database (`sacct`, where
/// the cluster keeps one).
pub(super) async fn job_record(job: &str) -> Option<JobRecord> {
    let live = commands::run(
        "scontrol",
        &["-o".into(), "show".into(), "job".into(), job.into()],
    )
    .await
    .ok()
    .and_then(|out| commands::parse_scontrol(&out));
    if live.is_some() {
        return live;
    }
    let out = commands::run(
        "sacct",
        &[
            "-n".into(),
            "-P".into(),
            "-X".into(),
            "-j".into(),
            job.into(),
            "-o".into(),
            "State,ExitCode,Reason".into(),
        ],
    )
    .await
    .ok()?;
    commands::parse_sacct(&out)
}

/// Batched liveness: every followed job's state in one squeue call.
pub(super) async fn squeue(
    job_ids: &[String],
) -> Result<HashMap<String, commands::Queued>, SlurmError> {
    let out = commands::run(
        "squeue",
        &[
            "-h".into(),
            "-o".into(),
            SQUEUE_FORMAT.into(),
            "-j".into(),
            job_ids.join(","),
        ],
    )
    .await;
    match out {
        Ok(text) => Ok(commands::parse_squeue(&text)),
        // One unknown id alone is an error to squeue; several are not.
        Err(SlurmError::Failed { message, .. })
            if job_ids.len() == 1 && message.contains("Invalid job id") =>
        {
            Ok(HashMap::new())
        }
        Err(e) => Err(e),
    }
}
