//! The one service both front doors (RPC server, HTTP shim) call. Every
//! operation (`ops`) is a message to the queue actor, which alone owns the
//! state; `Service::call` is the one typed way in.

pub mod agent_events;
pub mod api;
pub mod dashboard;
pub mod doors;
pub mod error;
pub mod events;
pub mod follow;
pub mod ids;
pub mod logs;
pub mod types;

pub use api::{ListPageJson, NOT_DURABLE, run_json};
pub use error::{ErrorCode, ServiceError};
pub use events::{QueueEvent, StatusChange};
pub use types::*;

pub use crate::ops::{
    CancelRequest, ConfigChange, ContinueRequest, DiffRequest, DiffStatRequest, DiscardRequest,
    GetRunRequest, HealthRequest, KillRequest, ListQuery, MergeRequest, Operation, PositionRequest,
    PurgeRequest, PushRequest, ResolveRequest, RestartRequest, RunQuery, SetPriorityRequest,
    ShowRequest, ShutdownRequest, StartRequest, StatsQuery, StatsReport, SubmitRequest,
};

use tokio::sync::{broadcast, mpsc, oneshot};

use std::path::PathBuf;

use crate::model::validate_id;
use crate::store::Store;

pub type Reply<T> = oneshot::Sender<Result<T, ServiceError>>;

/// What a front door sends the actor: an operation's effect (see `ops`).
pub type Command = crate::ops::Job;

#[derive(Clone)]
pub struct Service {
    tx: mpsc::Sender<Command>,
    changes: broadcast::Sender<StatusChange>,
    /// The store's layout, for reading run logs (read-only; the actor alone writes).
    store: Option<Store>,
    /// Dashboard sessions, shared with the actor (which mints the logins).
    dashboard: std::sync::Arc<dashboard::DashboardSessions>,
}

impl Service {
    pub fn new(tx: mpsc::Sender<Command>, changes: broadcast::Sender<StatusChange>) -> Service {
        Service {
            tx,
            changes,
            store: None,
            dashboard: std::sync::Arc::new(dashboard::DashboardSessions::new(
                std::time::Duration::from_secs(12 * 3600),
            )),
        }
    }

    /// Shares the actor's dashboard sessions (see `dashboard`).
    pub fn with_dashboard(
        mut self,
        sessions: std::sync::Arc<dashboard::DashboardSessions>,
    ) -> Service {
        self.dashboard = sessions;
        self
    }

    /// Dashboard sessions, checked by the HTTP door on each request.
    pub fn dashboard(&self) -> &dashboard::DashboardSessions {
        &self.dashboard
    }

    /// Lets this service read run logs from `store` (`queue logs`).
    pub fn with_store(mut self, store: Store) -> Service {
        self.store = Some(store);
        self
    }

    /// `<root>/runs/<run-id>/stdout.log` (or `stderr.log`) of a run, after
    /// checking the run id; an error when this service has no store.
    pub fn log_path(&self, run_id: &str, stderr: bool) -> Result<PathBuf, ServiceError> {
        validate_id(run_id).map_err(|e| ServiceError::bad_request("runId", e.to_string()))?;
        match &self.store {
            Some(store) => Ok(store.log_path(run_id, stderr)),
            None => Err(ServiceError::unavailable(
                "this daemon does not serve run logs",
            )),
        }
    }

    /// `<root>/runs/<run-id>/`, after checking the run id.
    pub fn run_dir(&self, run_id: &str) -> Result<PathBuf, ServiceError> {
        validate_id(run_id).map_err(|e| ServiceError::bad_request("runId", e.to_string()))?;
        match &self.store {
            Some(store) => Ok(store.run_dir(run_id)),
            None => Err(ServiceError::unavailable(
                "this daemon does not serve run logs",
            )),
        }
    }

    /// Status changes from now on. Subscribe before reading the current state,
    /// so no change can fall between the two.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.changes.subscribe()
    }

    /// The one typed call every door makes: checks `op`, runs its effect in
    /// the queue actor and returns its answer.
    pub async fn call<O: Operation>(&self, op: O) -> Result<O::Output, ServiceError> {
        op.validate()?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(crate::ops::job(op, reply))
            .await
            .map_err(|_| ServiceError::unavailable("the daemon is shutting down"))?;
        rx.await
            .map_err(|_| ServiceError::unavailable("the daemon is shutting down"))?
    }
}
