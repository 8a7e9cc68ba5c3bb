//! The domain model: work orders, their statuses and the one checked transition
//! function, workspace sources, IDs, timestamps and unit parsing.

pub mod agent;
pub mod executor;
pub mod id;
pub mod ranges;
pub mod sandbox;
pub mod status;
pub mod time;
pub mod units;
pub mod work_order;
pub mod workspace;

pub use agent::{AgentResult, Changes, Merge, Worktree};
pub use executor::{ExecHandle, ExecutorKind};
pub use id::{new_id, validate_id};
pub use sandbox::{SandboxMode, SandboxRequest};
pub use status::{ResultKind, Status};
pub use time::Timestamp;
pub use work_order::{Run, SharedWorkOrder, WorkOrder};
pub use workspace::{WorkspaceInput, WorkspaceSource};

/// Errors the model raises for input it cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("invalid id {0:?}: ids are 1-64 characters from [A-Za-z0-9_-]")]
    InvalidId(String),
    #[error("cannot move work order from {from} to {to}")]
    Transition { from: Status, to: Status },
    #[error("{0}")]
    Workspace(String),
    #[error("{0}")]
    Unit(String),
}
