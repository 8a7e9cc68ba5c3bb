//! The one service both front doors (RPC server, HTTP shim) call. Every
//! operation is a message to the queue actor, which alone owns the state.

pub mod agent_events;
pub mod api;
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

use tokio::sync::{broadcast, mpsc, oneshot};

use std::path::PathBuf;

use crate::model::{Run, WorkOrder, validate_id};
use crate::store::Store;

pub type Reply<T> = oneshot::Sender<Result<T, ServiceError>>;

/// What a front door can ask of the actor.
#[derive(Debug)]
pub enum Command {
    Submit(SubmitRequest, Reply<WorkOrder>),
    Continue(ContinueRequest, Reply<WorkOrder>),
    List(ListQuery, Reply<ListPage>),
    Show(String, Reply<WorkOrderDetail>),
    GetRun(String, Reply<Run>),
    Cancel(String, Reply<CancelOutcome>),
    Kill(KillRequest, Reply<KillOutcome>),
    /// Resolves, stops (all at once, with their grace) and removes.
    Purge(PurgeRequest, Reply<PurgeOutcome>),
    Health(Reply<Health>),
    /// The page's runs (live ones as held; the rest for the service to read).
    ListRuns(RunQuery, Reply<(Vec<RunRef>, RunPage)>),
    Position(String, Reply<QueuePosition>),
    Start(String, Reply<StartOutcome>),
    Shutdown(ShutdownRequest, Reply<()>),
    /// Typed ids (prefixes, `--last`) to full ids, all or none.
    Resolve(ResolveRequest, Reply<Vec<String>>),
    Restart(RestartRequest, Reply<WorkOrder>),
    SetPriority(SetPriorityRequest, Reply<WorkOrder>),
    /// Pause, resume, change live settings (an empty change reads them).
    Config(ConfigChange, Reply<QueueConfig>),
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
    pub async fn continue_session(&self, req: ContinueRequest) -> Result<WorkOrder, ServiceError> {
        self.call(|r| Command::Continue(req, r)).await
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
    pub async fn position(&self, id: String) -> Result<QueuePosition, ServiceError> {
        self.call(|r| Command::Position(id, r)).await
    }

    /// Runs, newest first; records of runs that are not live are read from
    /// disk here, off the actor.
    pub async fn list_runs(&self, q: RunQuery) -> Result<RunPage, ServiceError> {
        let (refs, mut page) = self.call(|r| Command::ListRuns(q, r)).await?;
        let store = self.store.clone();
        page.items = tokio::task::spawn_blocking(move || {
            refs.into_iter()
                .map(|r| match r {
                    RunRef::Live(run) => run,
                    // The record, else what the work order says of it.
                    RunRef::Stored(known) => store
                        .as_ref()
                        .and_then(|s| s.load_run(&known.id))
                        .unwrap_or(known),
                })
                .collect()
        })
        .await
        .map_err(|e| ServiceError::internal(format!("reading run records: {e}")))?;
        Ok(page)
    }
    pub async fn start(&self, id: String) -> Result<StartOutcome, ServiceError> {
        self.call(|r| Command::Start(id, r)).await
    }
    pub async fn shutdown(&self, req: ShutdownRequest) -> Result<(), ServiceError> {
        self.call(|r| Command::Shutdown(req, r)).await
    }
    pub async fn resolve(&self, req: ResolveRequest) -> Result<Vec<String>, ServiceError> {
        self.call(|r| Command::Resolve(req, r)).await
    }
    pub async fn restart(&self, req: RestartRequest) -> Result<WorkOrder, ServiceError> {
        self.call(|r| Command::Restart(req, r)).await
    }
    pub async fn set_priority(&self, req: SetPriorityRequest) -> Result<WorkOrder, ServiceError> {
        self.call(|r| Command::SetPriority(req, r)).await
    }
    pub async fn config(&self, change: ConfigChange) -> Result<QueueConfig, ServiceError> {
        self.call(|r| Command::Config(change, r)).await
    }

    /// Purge: one actor command resolves the set, stops whatever is still
    /// running (all at once) and removes them all.
    pub async fn purge(&self, req: PurgeRequest) -> Result<PurgeOutcome, ServiceError> {
        self.call(|r| Command::Purge(req, r)).await
    }
}
