//! The body of `POST /api/v1/work-orders`, parsed by its own derive (so the
//! OpenAPI schema is the parser), and made into the service's request:
//! AgentGate's `harness` limits and `policies` read into ours.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::model::WorkspaceInput;
use crate::service::SubmitRequest;

/// The body `POST /api/v1/work-orders` takes: parsed by this very derive
/// (so the OpenAPI schema is the parser). AgentGate's `harness` is read for
/// its limits.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmitBody {
    task_prompt: String,
    #[serde(default, deserialize_with = "workspace_input")]
    #[schema(value_type = Object)]
    workspace_source: Option<WorkspaceInput>,
    /// shell, claude-code-subscription, ... or one from the config.
    agent_type: Option<String>,
    /// Seconds, 1-604800 (default 3600).
    max_time: Option<u64>,
    max_iterations: Option<u32>,
    harness: Option<Harness>,
    /// Variables for this work order's agent only (names: letters, digits,
    /// `_`; none starting with `AGENTGATE_`).
    env: Option<std::collections::BTreeMap<String, String>>,
    /// Run in a git worktree of its own (the source must be a local git
    /// repository); absent: the daemon's default.
    worktree: Option<bool>,
    /// Work order ids that must succeed first (if one fails or is canceled,
    /// this one is canceled: `dependency_failed`).
    depends_on: Option<Vec<String>>,
    /// Higher starts first (default 0); FIFO within a priority.
    #[schema(minimum = -2147483648, maximum = 2147483647)]
    priority: Option<i32>,
    /// Free-form tags (`?label=` filters on them).
    labels: Option<Vec<String>>,
    /// A shell command run in the workspace before the agent (e.g. `npm ci`);
    /// if it fails, the work order fails and the agent never starts.
    setup: Option<String>,
    /// Confinement of its runs: `workspace` (writes only in its workspace,
    /// no access to others' credentials) or `off`; absent: its agent type's.
    sandbox: Option<crate::model::SandboxMode>,
    /// AgentGate's policies: `networkAllowed: false` cuts the confined run
    /// off the network (loopback only), `allowedPaths` may also be written,
    /// `forbiddenPatterns` (globs) must not be left in the workspace.
    policies: Option<Policies>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policies {
    network_allowed: Option<bool>,
    allowed_paths: Option<Vec<String>>,
    forbidden_patterns: Option<Vec<String>>,
}

/// `workspaceSource`: any failure names the field and every accepted form
/// (whatever was wrong inside it).
fn workspace_input<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<WorkspaceInput>, D::Error> {
    use serde::de::Error;
    let forms = crate::model::workspace::ACCEPTED_FORMS;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("invalid workspaceSource: {e}; {forms}"))),
        Some(_) => Err(D::Error::custom(format!(
            "workspaceSource must be an object; {forms}"
        ))),
    }
}

/// AgentGate's harness options; `loopStrategy.maxIterations` (else
/// `baseIterations`) sets `maxIterations`, `limits.maxWallClockSeconds` sets
/// `maxTime`. Other options are accepted and ignored.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Harness {
    loop_strategy: Option<LoopStrategy>,
    limits: Option<HarnessLimits>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoopStrategy {
    max_iterations: Option<u32>,
    base_iterations: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessLimits {
    max_wall_clock_seconds: Option<u64>,
}

impl SubmitBody {
    /// The service's request: the harness's loop strategy and wall-clock
    /// limit over the top-level fields.
    pub(super) fn into_request(self) -> SubmitRequest {
        let harness = self.harness.unwrap_or(Harness {
            loop_strategy: None,
            limits: None,
        });
        let max_iterations = harness
            .loop_strategy
            .and_then(|ls| ls.max_iterations.or(ls.base_iterations))
            .or(self.max_iterations);
        let max_time = harness
            .limits
            .and_then(|l| l.max_wall_clock_seconds)
            .or(self.max_time);
        SubmitRequest {
            task_prompt: self.task_prompt,
            agent_type: self.agent_type,
            workspace_source: self.workspace_source,
            max_time,
            max_iterations,
            env: self.env.unwrap_or_default(),
            worktree: self.worktree,
            depends_on: self.depends_on.unwrap_or_default(),
            priority: self.priority.unwrap_or(0),
            labels: self.labels.unwrap_or_default(),
            setup: self.setup,
            sandbox: {
                let p = self.policies;
                Some(crate::model::SandboxRequest {
                    mode: self.sandbox,
                    network: p.as_ref().and_then(|p| p.network_allowed),
                    allowed_paths: p
                        .as_ref()
                        .and_then(|p| p.allowed_paths.clone())
                        .unwrap_or_default(),
                    forbidden_patterns: p.and_then(|p| p.forbidden_patterns).unwrap_or_default(),
                })
            },
        }
    }
}
