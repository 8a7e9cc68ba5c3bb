//! The WebSocket's messages: what a client sends (a subscription's
//! filters) and what it is sent, in AgentGate's shapes, and how an agent
//! event becomes one.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{Status, Timestamp};
use crate::service::agent_events::AgentEvent;

/// What a subscription wants beyond the lifecycle events.
#[derive(Debug, Clone, Copy)]
pub(super) struct Filters {
    pub(super) include_output: bool,
    pub(super) include_tool_calls: bool,
    pub(super) include_tool_results: bool,
}

impl Filters {
    /// Whether the subscription wants any of the run's agent events.
    pub(super) fn wants_agent_events(&self) -> bool {
        self.include_output || self.include_tool_calls || self.include_tool_results
    }
}

/// Server → client messages, in AgentGate's shapes.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub(super) enum Outgoing {
    SubscriptionConfirmed {
        work_order_id: String,
        timestamp: String,
    },
    UnsubscriptionConfirmed {
        work_order_id: String,
        timestamp: String,
    },
    Pong {
        timestamp: String,
    },
    Error {
        code: &'static str,
        message: String,
        timestamp: String,
    },
    WorkOrderCreated {
        work_order_id: String,
        task_prompt: String,
        status: Status,
        timestamp: String,
    },
    WorkOrderUpdated {
        work_order_id: String,
        status: Status,
        previous_status: Status,
        /// The landing this update is (`queue merge`); absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        merge: Option<crate::model::Merge>,
        timestamp: String,
    },
    RunStarted {
        work_order_id: String,
        run_id: String,
        run_number: u32,
        timestamp: String,
    },
    RunCompleted {
        work_order_id: String,
        run_id: String,
        timestamp: String,
    },
    RunFailed {
        work_order_id: String,
        run_id: String,
        error: String,
        iteration_number: u32,
        timestamp: String,
    },
    AgentToolCall {
        work_order_id: String,
        run_id: String,
        tool_use_id: String,
        tool: &'static str,
        input: Box<Value>,
        timestamp: String,
    },
    AgentToolResult {
        work_order_id: String,
        run_id: String,
        tool_use_id: String,
        success: bool,
        content_preview: String,
        content_length: usize,
        duration_ms: u64,
        timestamp: String,
    },
    AgentOutput {
        work_order_id: String,
        run_id: String,
        content: String,
        timestamp: String,
    },
}

pub(super) fn now() -> String {
    Timestamp::now().to_rfc3339()
}

pub(super) fn invalid(message: &str) -> Outgoing {
    Outgoing::Error {
        code: "INVALID_MESSAGE",
        message: message.to_string(),
        timestamp: now(),
    }
}
/// An agent event as the subscription's filters let it through.
pub(super) fn agent_message(id: &str, filters: &Filters, ev: AgentEvent) -> Option<Outgoing> {
    let work_order_id = id.to_string();
    match ev {
        AgentEvent::Output {
            run_id,
            content,
            at,
        } => filters.include_output.then(|| Outgoing::AgentOutput {
            work_order_id,
            run_id,
            content,
            timestamp: at.to_rfc3339(),
        }),
        AgentEvent::ToolCall {
            run_id,
            tool_use_id,
            tool,
            input,
            at,
        } => filters.include_tool_calls.then(|| Outgoing::AgentToolCall {
            work_order_id,
            run_id,
            tool_use_id,
            tool,
            input: Box::new(input),
            timestamp: at.to_rfc3339(),
        }),
        AgentEvent::ToolResult {
            run_id,
            tool_use_id,
            success,
            content_preview,
            content_length,
            duration_ms,
            at,
        } => filters
            .include_tool_results
            .then(|| Outgoing::AgentToolResult {
                work_order_id,
                run_id,
                tool_use_id,
                success,
                content_preview,
                content_length,
                duration_ms,
                timestamp: at.to_rfc3339(),
            }),
    }
}

/// The subscription's filters; `Err`: why they are invalid.
pub(super) fn parse_filters(v: Option<&Value>) -> Result<Filters, String> {
    let m = match v {
        None | Some(Value::Null) => {
            return Ok(Filters {
                include_output: true,
                include_tool_calls: true,
                include_tool_results: true,
            });
        }
        Some(Value::Object(m)) => m,
        Some(_) => return Err("filters must be an object".to_string()),
    };
    let flag = |m: &Map<String, Value>, k: &str| match m.get(k) {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("filters.{k} must be true or false")),
    };
    for k in ["includeFileChanges", "includeProgress"] {
        flag(m, k)?;
    }
    Ok(Filters {
        include_output: flag(m, "includeOutput")?,
        include_tool_calls: flag(m, "includeToolCalls")?,
        include_tool_results: flag(m, "includeToolResults")?,
    })
}
