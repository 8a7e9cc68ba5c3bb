//! Agent types (`[agents.NAME]` and the built-in ones) and hooks
//! (`[[hooks]]`), as written in the config file and resolved.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, dur};
use crate::executor::ExecutorKind;
use crate::model::Status;
use crate::model::units::parse_size;

/// One agent type: the command line (placeholders `{prompt}`, `{workspace}`,
/// `{work_order_id}`, `{run_id}` substituted per argument), extra env, and an
/// optional memory limit for each of its runs (enforced through the run's
/// cgroup where the host has a memory cgroup).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "size_opt")]
    pub memory_max: Option<u64>,
    /// Where this agent type's runs execute, instead of the daemon's default.
    #[serde(default)]
    pub executor: Option<ExecutorKind>,
    /// How its stdout is read [default: text].
    #[serde(default)]
    pub output: OutputFormat,
    /// The command line that resumes an earlier session (`queue continue`);
    /// `{session_id}` names it. Without one the type cannot continue.
    #[serde(default)]
    pub resume_command: Option<Vec<String>>,
    /// How the prompt reaches the agent besides placeholders: `stdin` makes
    /// it the agent's standard input [default: arg].
    #[serde(default)]
    pub prompt_via: PromptVia,
    /// A shell command run in a fresh worktree or clone before the agent
    /// (e.g. `npm ci`) [default: the repository's `.agentgate/setup`, if
    /// executable].
    #[serde(default)]
    pub setup: Option<String>,
    /// Confinement of its runs [default: `workspace` for the built-in coding
    /// agents, `off` for `shell` and configured types].
    #[serde(default)]
    pub sandbox: Option<crate::model::SandboxMode>,
    /// Where a confined run of it may write besides its workspace: the
    /// agent's own state (`~/.claude/`), `~` for the home directory; a
    /// directory (ending in `/`) is made if missing.
    #[serde(default)]
    pub sandbox_write: Vec<String>,
}

/// How an agent's stdout is read: the readers live in `crate::agent`.
pub use crate::agent::Format as OutputFormat;

/// How the prompt reaches an agent besides `{prompt}`/`{prompt_file}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    #[default]
    Arg,
    Stdin,
}

/// `[[hooks]]`: something to run when a work order ends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// Statuses it runs for [default: succeeded, failed, canceled].
    #[serde(default)]
    pub on: Vec<Status>,
    /// A command, with the work order's facts in `AGENTGATE_*` variables.
    #[serde(default)]
    pub command: Vec<String>,
    /// A URL the work order JSON is POSTed to.
    pub webhook: Option<String>,
    /// Killed after this long [default: 30s].
    pub timeout: Option<String>,
}

/// A hook, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub on: Vec<Status>,
    pub command: Vec<String>,
    pub webhook: Option<String>,
    pub timeout: Duration,
}

fn size_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| match parse_size(&s) {
        Ok(0) => Err(format!("memory_max {s:?} must be more than 0")),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("memory_max {s:?}: {e}")),
    })
    .transpose()
    .map_err(serde::de::Error::custom)
}

/// Every agent type names a program.
pub(super) fn check_agents(agents: &BTreeMap<String, AgentConfig>) -> Result<(), ConfigError> {
    for (name, agent) in agents {
        if agent.command.is_empty() {
            return Err(ConfigError::Value {
                name: format!("agents.{name}.command"),
                message: "must name a program".into(),
            });
        }
    }
    Ok(())
}

/// `[[hooks]]`, checked, with their defaults.
pub(super) fn resolve_hooks(hooks: &[HookConfig]) -> Result<Vec<Hook>, ConfigError> {
    let mut out = Vec::new();
    for (i, h) in hooks.iter().enumerate() {
        let name = format!("hooks[{i}]");
        if h.command.is_empty() && h.webhook.is_none() {
            return Err(ConfigError::Value {
                name,
                message: "needs a command or a webhook".into(),
            });
        }
        if let Some(url) = &h.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Value {
                name: format!("{name}.webhook"),
                message: format!("{url:?}: expected an http:// or https:// URL"),
            });
        }
        let timeout = match &h.timeout {
            Some(t) => dur(t).map_err(|message| ConfigError::Value {
                name: format!("{name}.timeout"),
                message,
            })?,
            None => Duration::from_secs(30),
        };
        out.push(Hook {
            on: if h.on.is_empty() {
                vec![Status::Succeeded, Status::Failed, Status::Canceled]
            } else {
                h.on.clone()
            },
            command: h.command.clone(),
            webhook: h.webhook.clone(),
            timeout,
        });
    }
    Ok(out)
}

/// The built-in agents, overridden by any of the same name in the config.
pub fn with_builtin_agents(
    mut configured: BTreeMap<String, AgentConfig>,
) -> BTreeMap<String, AgentConfig> {
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let stream = [
        "--output-format",
        "stream-json",
        "--verbose",
        // No --max-turns: AgentGate's iterations are not Claude's turns (see model::agent).
        "--dangerously-skip-permissions",
    ];
    let claude = AgentConfig {
        command: words(&[&["claude", "-p", "{prompt}"][..], &stream[..]].concat()),
        env: BTreeMap::new(),
        memory_max: None,
        executor: None,
        output: OutputFormat::ClaudeStreamJson,
        resume_command: Some(words(
            &[
                &["claude", "-p", "{prompt}", "--resume", "{session_id}"][..],
                &stream[..],
            ]
            .concat(),
        )),
        prompt_via: PromptVia::Arg,
        setup: None,
        sandbox: Some(crate::model::SandboxMode::Workspace),
        sandbox_write: words(&[
            "~/.claude/",
            "~/.claude.json",
            "~/.claude.json.backup",
            "~/.cache/",
            "~/.npm/",
        ]),
    };
    // Codex CLI's non-interactive mode. It refuses to run outside a git
    // repository unless told; approvals and its own sandbox are off as
    // `--dangerously-skip-permissions` is for Claude (we confine the run).
    let codex_flags = [
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
    ];
    let codex = AgentConfig {
        command: words(&[&["codex", "exec"][..], &codex_flags[..], &["{prompt}"][..]].concat()),
        output: OutputFormat::CodexJson,
        resume_command: Some(words(
            &[
                &["codex", "exec"][..],
                &codex_flags[..],
                &["resume", "{session_id}", "{prompt}"][..],
            ]
            .concat(),
        )),
        sandbox_write: words(&["~/.codex/", "~/.cache/", "~/.npm/"]),
        ..claude.clone()
    };
    // Gemini CLI's headless mode; `--yolo` approves its tools unattended.
    let gemini_flags = ["--output-format", "stream-json", "--yolo"];
    let gemini = AgentConfig {
        command: words(&[&["gemini", "-p", "{prompt}"][..], &gemini_flags[..]].concat()),
        output: OutputFormat::GeminiStreamJson,
        resume_command: Some(words(
            &[
                &["gemini", "--resume", "{session_id}", "-p", "{prompt}"][..],
                &gemini_flags[..],
            ]
            .concat(),
        )),
        sandbox_write: words(&["~/.gemini/", "~/.cache/", "~/.npm/"]),
        ..claude.clone()
    };
    let shell = AgentConfig {
        command: words(&["sh", "-c", "{prompt}"]),
        output: OutputFormat::Text,
        resume_command: None,
        sandbox: Some(crate::model::SandboxMode::Off),
        sandbox_write: Vec::new(),
        ..claude.clone()
    };
    for (name, agent) in [
        ("claude-code-subscription", claude.clone()),
        ("claude-code-api", claude.clone()),
        ("claude-agent-sdk", claude),
        ("codex", codex),
        ("gemini", gemini),
        ("shell", shell),
    ] {
        configured.entry(name.to_string()).or_insert(agent);
    }
    configured
}
