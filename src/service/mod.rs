//! The one service both front doors (RPC server, HTTP shim) call. Every
//! operation is a message to the queue actor, which alone owns the state.

pub mod error;
pub mod types;

pub use error::{ErrorCode, ServiceError};
pub use types::*;

use tokio::sync::{broadcast, mpsc, oneshot};

use std::path::PathBuf;

use crate::model::{Run, Status, WorkOrder, validate_id};
use crate::store::Store;

pub type Reply<T> = oneshot::Sender<Result<T, ServiceError>>;

/// What a front door can ask of the actor.
#[derive(Debug)]
pub enum Command {
    Submit(SubmitRequest, Reply<WorkOrder>),
    List(ListQuery, Reply<ListPage>),
    Show(String, Reply<WorkOrderDetail>),
    GetRun(String, Reply<Run>),
    Cancel(String, Reply<CancelOutcome>),
    Kill(KillRequest, Reply<KillOutcome>),
    /// Resolves, stops (all at once, with their grace) and removes.
    Purge(PurgeRequest, Reply<PurgeOutcome>),
    Health(Reply<Health>),
    Start(String, Reply<StartOutcome>),
    Shutdown(ShutdownRequest, Reply<()>),
}

/// Published by the actor whenever a work order's status changes (or it is
/// purged: `status` None), so followers (`logs --follow`, `wait`) need no polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub id: String,
    pub status: Option<Status>,
}

#[derive(Clone)]
pub struct Service {
    tx: mpsc::Sender<Command>,
    changes: broadcast::Sender<StatusChange>,
    /// The store's layout, for reading run logs (read-only; the actor alone writes).
    store: Option<Store>,
}

impl Service {
    pub fn new(tx: mpsc::Sender<Command>, changes: broadcast::Sender<StatusChange>) -> Service {
        Service {
            tx,
            changes,
            store: None,
        }
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

    /// Status changes from now on. Subscribe before reading the current state,
    /// so no change can fall between the two.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.changes.subscribe()
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ServiceError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| ServiceError::unavailable("the daemon is shutting down"))?;
        rx.await
            .map_err(|_| ServiceError::unavailable("the daemon is shutting down"))?
    }

    pub async fn submit(&self, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
        self.call(|r| Command::Submit(req, r)).await
    }
    pub async fn list(&self, q: ListQuery) -> Result<ListPage, ServiceError> {
        self.call(|r| Command::List(q, r)).await
    }
    pub async fn show(&self, id: String) -> Result<WorkOrderDetail, ServiceError> {
        self.call(|r| Command::Show(id, r)).await
    }
    pub async fn get_run(&self, id: String) -> Result<Run, ServiceError> {
        self.call(|r| Command::GetRun(id, r)).await
    }
    pub async fn cancel(&self, id: String) -> Result<CancelOutcome, ServiceError> {
        self.call(|r| Command::Cancel(id, r)).await
    }
    pub async fn kill(&self, req: KillRequest) -> Result<KillOutcome, ServiceError> {
        self.call(|r| Command::Kill(req, r)).await
    }
    pub async fn health(&self) -> Result<Health, ServiceError> {
        self.call(Command::Health).await
    }
    pub async fn start(&self, id: String) -> Result<StartOutcome, ServiceError> {
        self.call(|r| Command::Start(id, r)).await
    }
    pub async fn shutdown(&self, req: ShutdownRequest) -> Result<(), ServiceError> {
        self.call(|r| Command::Shutdown(req, r)).await
    }

    /// Purge: one actor command resolves the set, stops whatever is still
    /// running (all at once) and removes them all.
    pub async fn purge(&self, req: PurgeRequest) -> Result<PurgeOutcome, ServiceError> {
        self.call(|r| Command::Purge(req, r)).await
    }
}
