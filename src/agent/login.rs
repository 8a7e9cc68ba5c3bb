//! How the built-in Claude Code agent types sign in. They run the same
//! command; what differs is the environment Claude gets, since Claude Code
//! prefers an `ANTHROPIC_API_KEY` in its environment over a subscription
//! login (and bills the key):
//!
//! - `claude-code-subscription` runs without the daemon's `ANTHROPIC_API_KEY`,
//!   so Claude uses the login of `claude` (`claude /login`) of the daemon's
//!   user, whatever the daemon's environment holds;
//! - `claude-code-api` bills an API key: `ANTHROPIC_API_KEY` must reach the run
//!   (the daemon's environment, the agent type's `env`, or `--env`), and a
//!   work order without one is refused at submit (and fails at start) with a
//!   message naming it, rather than falling back to a login;
//! - `claude-agent-sdk` leaves the choice to Claude (a key if one is set, else
//!   the login).
//!
//! A variable given explicitly (the agent type's `env`, the work order's
//! `--env`) is the user's choice and always passes.

use crate::config::AgentConfig;
use crate::model::WorkOrder;

/// The variable Claude Code bills when it is set.
pub const API_KEY: &str = "ANTHROPIC_API_KEY";

/// The agent type that signs in with the subscription login.
pub const SUBSCRIPTION_TYPE: &str = "claude-code-subscription";
/// The agent type that signs in with an API key.
pub const API_TYPE: &str = "claude-code-api";

/// Variables to withhold from a run of `agent_type` besides the `env_remove`
/// setting.
pub fn withheld(agent_type: &str) -> &'static [&'static str] {
    if agent_type == SUBSCRIPTION_TYPE {
        &[API_KEY]
    } else {
        &[]
    }
}

/// Why a run of this work order cannot sign in, if it cannot: an
/// `claude-code-api` one with no `ANTHROPIC_API_KEY` to reach it.
/// `env_remove`: the daemon's setting (a key it withholds does not reach).
pub fn missing(
    wo_agent_type: &str,
    agent: &AgentConfig,
    wo_env: &[(&str, &str)],
    env_remove: &[String],
) -> Option<String> {
    if wo_agent_type != API_TYPE {
        return None;
    }
    let set = |v: &str| !v.trim().is_empty();
    let given = agent.env.get(API_KEY).is_some_and(|v| set(v))
        || wo_env.iter().any(|(k, v)| *k == API_KEY && set(v));
    let inherited = std::env::var(API_KEY).is_ok_and(|v| set(&v))
        && !crate::executor::env::withheld(std::ffi::OsStr::new(API_KEY), env_remove);
    (!given && !inherited).then(|| {
        format!(
            "agent type {API_TYPE} signs in with an API key, and {API_KEY} is not set: set it in the daemon's environment, in [agents.{API_TYPE}] env, or with --env {API_KEY}=...; or use --agent {SUBSCRIPTION_TYPE} (the login of `claude`)"
        )
    })
}

/// `missing` for a work order.
pub fn missing_for(wo: &WorkOrder, agent: &AgentConfig, env_remove: &[String]) -> Option<String> {
    let env: Vec<(&str, &str)> = wo
        .more
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    missing(&wo.agent_type, agent, &env, env_remove)
}
