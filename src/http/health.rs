//! The health routes (no key): `/health`, `/health/live`, `/health/ready`,
//! in AgentGate's shapes. Where AgentGate reports machinery this daemon does
//! not have (spawn trees, CI, sandboxes, the Agent SDK driver), the values
//! say so — `none`, `false`, `0` — rather than copying AgentGate's defaults.

use std::time::Instant as StdInstant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use crate::config::DaemonSettings;
use crate::model::Timestamp;
use crate::model::work_order::DEFAULT_MAX_TIME;

/// What `/health` reports that does not change while the daemon runs.
pub struct Facts {
    /// `ANTHROPIC_API_KEY` is set for the daemon and passed on to runs.
    anthropic_key_passed_on: bool,
    /// `landlock` where this host can confine runs, else `none`.
    sandbox_provider: &'static str,
}

impl Facts {
    pub fn new(settings: &DaemonSettings) -> Facts {
        let name = "ANTHROPIC_API_KEY";
        let set = std::env::var_os(name).is_some_and(|v| !v.is_empty());
        Facts {
            anthropic_key_passed_on: set
                && !crate::executor::env::withheld(name.as_ref(), &settings.env_remove),
            sandbox_provider: match &settings.sandbox_support {
                Some(s) if s.applied_abi().is_some() => "landlock",
                _ => "none",
            },
        }
    }
}

/// AgentGate's configuration limits.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsJson {
    /// Runs at once (the live setting).
    max_concurrent_runs: u64,
    /// Always 0: work orders here spawn no child work orders.
    max_spawn_depth: u64,
    /// Always 0 (no children).
    max_children_per_parent: u64,
    /// Always 1: a work order is a tree of one.
    max_tree_size: u64,
    /// `maxTime` of a work order that names none.
    default_timeout_seconds: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CiConfigJson {
    /// Always false: the daemon watches no CI.
    enabled: bool,
    /// Always false.
    wait_by_default: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkConfigJson {
    /// Always false: runs are plain processes (no Agent SDK sandbox).
    enable_sandbox: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxConfigJson {
    /// `landlock` where this host can confine runs (`sandbox = "workspace"`),
    /// else `none`.
    provider: String,
    /// Always `host`: agents share the host's network.
    network_mode: String,
}

#[derive(Serialize, ToSchema)]
pub struct HealthConfigJson {
    ci: CiConfigJson,
    sdk: SdkConfigJson,
    sandbox: SandboxConfigJson,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkDriverJson {
    /// `ANTHROPIC_API_KEY` is set in the daemon's environment and passed on
    /// to runs (not removed by `env_remove`).
    api_key_set: bool,
    /// Always false.
    sandbox_enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DriversJson {
    sdk: SdkDriverJson,
}

/// AgentGate's sandbox system status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxStatusJson {
    /// `landlock` where this host can confine runs, else `none`.
    provider: String,
    /// Always false: the daemon uses no container runtime.
    docker_available: bool,
    /// Always 0.
    active_sandboxes: u64,
    /// Always null.
    #[schema(value_type = Option<String>)]
    last_cleanup: Option<String>,
    /// Always null.
    #[schema(value_type = Option<String>)]
    last_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RootHealthJson {
    /// ok, or shutting_down.
    status: String,
    version: String,
    /// The queue's health status.
    queue: String,
    #[schema(format = DateTime)]
    timestamp: String,
    limits: LimitsJson,
    config: HealthConfigJson,
    drivers: DriversJson,
    sandbox: SandboxStatusJson,
}

/// The daemon is up (no key).
#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Up", body = Envelope<RootHealthJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ))]
pub async fn health_root(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let h = match st.service.call(crate::service::HealthRequest).await {
        Ok(h) => h,
        Err(e) => return service_error(&rid, e),
    };
    let data = RootHealthJson {
        status: if h.shutting_down {
            "shutting_down"
        } else {
            "ok"
        }
        .into(),
        version: env!("CARGO_PKG_VERSION").into(),
        queue: h.status,
        timestamp: Timestamp::now().to_rfc3339(),
        limits: LimitsJson {
            max_concurrent_runs: h.max_concurrent,
            max_spawn_depth: 0,
            max_children_per_parent: 0,
            max_tree_size: 1,
            default_timeout_seconds: DEFAULT_MAX_TIME,
        },
        config: HealthConfigJson {
            ci: CiConfigJson {
                enabled: false,
                wait_by_default: false,
            },
            sdk: SdkConfigJson {
                enable_sandbox: false,
            },
            sandbox: SandboxConfigJson {
                provider: st.facts.sandbox_provider.to_string(),
                network_mode: "host".into(),
            },
        },
        drivers: DriversJson {
            sdk: SdkDriverJson {
                api_key_set: st.facts.anthropic_key_passed_on,
                sandbox_enabled: false,
            },
        },
        sandbox: SandboxStatusJson {
            provider: st.facts.sandbox_provider.to_string(),
            docker_available: false,
            active_sandboxes: 0,
            last_cleanup: None,
            last_error: None,
        },
    };
    ok(&rid, StatusCode::OK, json!(data))
}

/// AgentGate's liveness (`alive`, `timestamp`) and ours (`status`).
#[derive(Serialize, ToSchema)]
pub struct LiveJson {
    alive: bool,
    #[schema(format = DateTime)]
    timestamp: String,
    /// Always `alive`.
    status: String,
}

/// Liveness (no key): answers while the process serves at all.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Envelope<LiveJson>)))]
pub async fn health_live(RequestId(rid): RequestId) -> Response {
    let data = LiveJson {
        alive: true,
        timestamp: Timestamp::now().to_rfc3339(),
        status: "alive".into(),
    };
    ok(&rid, StatusCode::OK, json!(data))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckJson {
    name: String,
    healthy: bool,
    message: String,
    /// How long the check took: the daemon's answer to a health query,
    /// which also reports the executors.
    latency_ms: u64,
}

/// AgentGate's readiness (`ready`, `checks`, `timestamp`) and ours (`status`).
#[derive(Serialize, ToSchema)]
pub struct ReadyJson {
    ready: bool,
    checks: Vec<CheckJson>,
    #[schema(format = DateTime)]
    timestamp: String,
    /// ready, or not_ready.
    status: String,
}

/// Readiness (no key): 503 (success envelope) while shutting down.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Envelope<ReadyJson>),
        (status = 503, description = "Shutting down", body = Envelope<ReadyJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ))]
pub async fn health_ready(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let asked = StdInstant::now();
    // No answer: the actor is gone, shutting down.
    let h = st.service.call(crate::service::HealthRequest).await.ok();
    let latency_ms = asked.elapsed().as_millis() as u64;
    let serving = h.as_ref().is_some_and(|h| !h.shutting_down);
    let mut checks = vec![CheckJson {
        name: "daemon".into(),
        healthy: serving,
        message: if serving {
            "accepting work".into()
        } else {
            "the daemon is shutting down".into()
        },
        latency_ms,
    }];
    if let Some(h) = &h {
        for e in &h.executors {
            checks.push(CheckJson {
                name: format!("executor:{}", e.name),
                healthy: e.healthy,
                message: e.detail.clone(),
                latency_ms,
            });
        }
    }
    let data = ReadyJson {
        ready: serving,
        checks,
        timestamp: Timestamp::now().to_rfc3339(),
        status: if serving { "ready" } else { "not_ready" }.into(),
    };
    let status = if serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    ok(&rid, status, json!(data))
}
