//! The Slurm commands the executor runs (sbatch, squeue, scontrol, scancel)
//! and what their output means. Every call is a real command with its
//! arguments as separate words: nothing passes through a shell.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// How long any one Slurm command may take before it counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlurmError {
    /// The command is not there (Slurm not installed, not on PATH).
    #[error("cannot run {program}: {message} (is Slurm installed and {program} on PATH?)")]
    Missing { program: String, message: String },
    /// It ran and failed: its own message.
    #[error("{message}")]
    Failed { message: String, controller: bool },
    #[error("{program} did not answer within {secs}s")]
    Timeout { program: String, secs: u64 },
    #[error("unexpected output from {program}: {output:?}")]
    Output { program: String, output: String },
}

impl SlurmError {
    /// Whether this says the cluster itself is unreachable or missing (the
    /// executor is unhealthy), rather than that one request was refused.
    pub fn is_cluster_problem(&self) -> bool {
        match self {
            SlurmError::Missing { .. } | SlurmError::Timeout { .. } => true,
            SlurmError::Failed { controller, .. } => *controller,
            SlurmError::Output { .. } => false,
        }
    }
}

/// Messages of Slurm clients that mean "the controller cannot be reached".
fn controller_down(stderr: &str) -> bool {
    [
        "Unable to contact slurm controller",
        "Socket timed out",
        "Connection refused",
        "Communication connection failure",
        "Zero Bytes were transmitted or received",
        "slurm_load_partitions",
        "Invalid user for SlurmUser",
        "Munge",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// Runs `program args`; its stdout on success, else why not.
pub async fn run(program: &str, args: &[String]) -> Result<String, SlurmError> {
    let mut cmd = Command::new(program);
    // Jobs get sbatch's environment (--export=ALL): never the daemon's secrets.
    for secret in crate::executor::env::SECRETS {
        cmd.env_remove(secret);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = match tokio::time::timeout(COMMAND_TIMEOUT, cmd.output()).await {
        Err(_) => {
            return Err(SlurmError::Timeout {
                program: program.into(),
                secs: COMMAND_TIMEOUT.as_secs(),
            });
        }
        Ok(Err(e)) => {
            return Err(SlurmError::Missing {
                program: program.into(),
                message: e.to_string(),
            });
        }
        Ok(Ok(out)) => out,
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if message.is_empty() {
        format!("{program} failed ({})", out.status)
    } else {
        message
    };
    Err(SlurmError::Failed {
        controller: controller_down(&stderr),
        message,
    })
}

/// What `sbatch --parsable` printed: `JOBID` or `JOBID;CLUSTER`.
pub fn parse_submitted(stdout: &str) -> Result<(String, Option<String>), SlurmError> {
    let line = stdout.lines().map(str::trim).rfind(|l| !l.is_empty());
    let bad = || SlurmError::Output {
        program: "sbatch".into(),
        output: stdout.trim().to_string(),
    };
    let line = line.ok_or_else(bad)?;
    let (id, cluster) = match line.split_once(';') {
        Some((id, c)) => (id, Some(c.to_string()).filter(|c| !c.is_empty())),
        None => (line, None),
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(bad());
    }
    Ok((id.to_string(), cluster))
}

/// One job as `squeue -o '%i|%T|%r'` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub state: String,
    /// The pending reason (`Resources`, `Priority`, ...); `None` for "None".
    pub reason: Option<String>,
}

pub const SQUEUE_FORMAT: &str = "%i|%T|%r";

/// Parses `squeue -h -o '%i|%T|%r'` output: job id → state and reason.
pub fn parse_squeue(stdout: &str) -> HashMap<String, Queued> {
    stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.trim().splitn(3, '|');
            let (id, state, reason) = (f.next()?, f.next()?, f.next().unwrap_or(""));
            if id.is_empty() || state.is_empty() {
                return None;
            }
            let reason = reason.trim();
            Some((
                id.to_string(),
                Queued {
                    state: state.to_string(),
                    reason: (!reason.is_empty() && reason != "None" && reason != "(null)")
                        .then(|| reason.to_string()),
                },
            ))
        })
        .collect()
}

/// The fields of `scontrol show job` that say how a job ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobRecord {
    pub state: String,
    pub reason: Option<String>,
    /// `ExitCode=code:signal`.
    pub exit_code: Option<String>,
}

/// Parses `scontrol -o show job N` (one line of `Key=Value` pairs).
pub fn parse_scontrol(stdout: &str) -> Option<JobRecord> {
    let mut rec = JobRecord::default();
    for word in stdout.split_whitespace() {
        let Some((k, v)) = word.split_once('=') else {
            continue;
        };
        match k {
            "JobState" => rec.state = v.to_string(),
            "Reason" if v != "None" => rec.reason = Some(v.to_string()),
            "ExitCode" => rec.exit_code = Some(v.to_string()),
            _ => {}
        }
    }
    (!rec.state.is_empty()).then_some(rec)
}

/// Parses `sacct -n -P -X -o State,ExitCode,Reason` (one line per job).
pub fn parse_sacct(stdout: &str) -> Option<JobRecord> {
    let line = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut f = line.split('|');
    let state = f.next()?.split_whitespace().next()?.to_string();
    let exit_code = f.next().filter(|c| !c.is_empty()).map(str::to_string);
    let reason = f
        .next()
        .filter(|r| !r.is_empty() && *r != "None")
        .map(str::to_string);
    Some(JobRecord {
        state,
        reason,
        exit_code,
    })
}

/// `--time` for a run of `max_time_s`: whole minutes, rounded up.
pub fn time_limit_minutes(max_time_s: u64) -> u64 {
    max_time_s.div_ceil(60).max(1)
}

/// Quotes `s` for a POSIX shell: one word, nothing expanded.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The batch script: it only starts the supervisor on the run's spec file
/// (the prompt and everything else stay in the file, never in shell words).
pub fn batch_script(binary: &Path, spec_file: &Path, run_id: &str, work_order_id: &str) -> String {
    format!(
        "#!/bin/sh\n# agentgate run {run_id} of work order {work_order_id}\nexec {} __supervise --spec-file {}\n",
        shell_quote(&binary.to_string_lossy()),
        shell_quote(&spec_file.to_string_lossy())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_parsable_output() {
        assert_eq!(parse_submitted("42\n").unwrap(), ("42".into(), None));
        assert_eq!(
            parse_submitted("42;agentgate\n").unwrap(),
            ("42".into(), Some("agentgate".into()))
        );
        assert!(parse_submitted("").is_err());
        assert!(parse_submitted("Submitted batch job 42").is_err());
    }

    #[test]
    fn squeue_lines() {
        let m = parse_squeue("18|PENDING|Resources\n2|RUNNING|None\n\nbad\n");
        assert_eq!(m["18"].state, "PENDING");
        assert_eq!(m["18"].reason.as_deref(), Some("Resources"));
        assert_eq!(m["2"].reason, None);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn scontrol_record() {
        let r = parse_scontrol(
            "JobId=21 JobName=agentgate-x UserId=root(0) JobState=CANCELLED Reason=None Dependency=(null) ExitCode=0:15",
        )
        .unwrap();
        assert_eq!(r.state, "CANCELLED");
        assert_eq!(r.reason, None);
        assert_eq!(r.exit_code.as_deref(), Some("0:15"));
        assert_eq!(parse_scontrol(""), None);
    }

    #[test]
    fn sacct_line() {
        let r = parse_sacct("CANCELLED by 0|0:15|None\n").unwrap();
        assert_eq!(r.state, "CANCELLED");
        assert_eq!(r.exit_code.as_deref(), Some("0:15"));
        assert_eq!(r.reason, None);
        let r = parse_sacct("NODE_FAIL|0:0|NodeDown").unwrap();
        assert_eq!(r.reason.as_deref(), Some("NodeDown"));
        assert_eq!(parse_sacct(""), None);
    }

    #[test]
    fn time_limits_round_up() {
        assert_eq!(time_limit_minutes(1), 1);
        assert_eq!(time_limit_minutes(60), 1);
        assert_eq!(time_limit_minutes(61), 2);
        assert_eq!(time_limit_minutes(3600), 60);
    }

    #[test]
    fn script_quotes_paths() {
        let s = batch_script(
            Path::new("/opt/it's/agentgate"),
            Path::new("/r/runs/x/spec.json"),
            "x",
            "wo",
        );
        assert!(
            s.contains(
                r"exec '/opt/it'\''s/agentgate' __supervise --spec-file '/r/runs/x/spec.json'"
            ),
            "{s}"
        );
    }
}
