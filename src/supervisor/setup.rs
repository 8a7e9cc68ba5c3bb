//! Setup before the agent (`--setup`, an agent type's `setup`, a fresh
//! worktree's `.agentgate/setup`): the agent's command line is wrapped in a
//! small shell script that runs the setup in the workspace first — its
//! output to the run's stderr, each line marked `[setup]` (so a structured
//! stdout stays the agent's alone) — records its exit code in the run
//! directory and starts the agent (`exec`, same process) only if it
//! succeeded. The supervisor reads the code back when the run ends.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::Supervisor;
use crate::executor::files::SETUP_EXIT;

/// How many of the setup's last lines a failure quotes.
const TAIL_LINES: usize = 5;

const WRAPPER: &str = r#"command -v "$1" >/dev/null 2>&1 || { printf 'cannot start %s: not found\n' "$1" >&2; exit 127; }
printf '[setup] $ %s\n' "$AGENTGATE_SETUP" >&2
{ sh -c "$AGENTGATE_SETUP" </dev/null 2>&1; echo $? > "$AGENTGATE_SETUP_EXIT"; } | while IFS= read -r l || [ -n "$l" ]; do printf '[setup] %s\n' "$l"; done >&2
c=$(cat "$AGENTGATE_SETUP_EXIT" 2>/dev/null)
if [ "$c" != 0 ]; then printf '[setup] failed with exit code %s: the agent was not started\n' "${c:-?}" >&2; exit "${c:-1}"; fi
unset AGENTGATE_SETUP AGENTGATE_SETUP_EXIT
exec "$@""#;

/// The agent's command line, run after the setup.
pub fn wrap(argv: Vec<String>) -> Vec<String> {
    let mut out = vec![
        "sh".to_string(),
        "-c".to_string(),
        WRAPPER.to_string(),
        "agentgate-setup".to_string(),
    ];
    out.extend(argv);
    out
}

/// The wrapper's variables.
pub fn env(cmd: &str, run_dir: &Path) -> Vec<(String, String)> {
    vec![
        ("AGENTGATE_SETUP".into(), cmd.to_string()),
        (
            "AGENTGATE_SETUP_EXIT".into(),
            run_dir.join(SETUP_EXIT).to_string_lossy().into_owned(),
        ),
    ]
}

impl Supervisor {
    /// The setup to run in `dir` before the agent, if any.
    pub(super) fn setup_command(&self, dir: &Path) -> Option<String> {
        let setup = self.spec.setup.as_ref()?;
        if let Some(c) = &setup.command {
            return Some(c.clone());
        }
        let script = dir.join(".agentgate").join("setup");
        let executable = std::fs::metadata(&script)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        executable.then(|| "./.agentgate/setup".to_string())
    }

    /// Why the run failed, when its setup did: `None` when it succeeded
    /// (or there was none).
    pub(super) fn setup_failure(&self) -> Option<String> {
        let cmd = self.setup.as_ref()?;
        let code = std::fs::read_to_string(self.dir.join(SETUP_EXIT)).ok()?;
        let code = code.trim();
        if code == "0" {
            return None;
        }
        let log = std::fs::read(&self.spec.stderr).unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = log
            .lines()
            .filter_map(|l| l.strip_prefix("[setup] "))
            .filter(|l| !l.starts_with("$ ") && !l.starts_with("failed with exit code"))
            .collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n  ");
        let mut why =
            format!("setup `{cmd}` failed with exit code {code}; the agent was not started");
        if !tail.is_empty() {
            why.push_str(":\n  ");
            why.push_str(&tail);
        }
        Some(why)
    }
}
