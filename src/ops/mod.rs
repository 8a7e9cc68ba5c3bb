//! Operations: one module per thing a client can ask of the daemon. Each
//! holds its request type, what it checks before it reaches the queue
//! (`validate`, no state needed) and its effect on queue state (`apply`, run
//! inside the queue actor, which alone owns the state). Every door reaches an
//! operation through one typed call, `Service::call(request)`:
//!
//! - RPC: one line in the table of `rpc::proto` (`rpc_table!`), which makes
//!   the wire variant, the dispatch and the CLI's typed `Client::run`;
//! - HTTP: one route in `http::routes` (a handler of AgentGate's shape, or
//!   `http::ops::get_query` / `post_json` for our own routes);
//! - CLI: `Client::run(request)` in the command's module under `client`.
//!
//! Adding an operation is a new module here plus those lines (see the
//! README's development section; `stats` is the worked example).

pub mod cancel;
pub mod config;
pub mod continue_session;
pub mod dashboard;
pub mod diff;
pub mod discard;
pub mod get_run;
pub mod health;
pub mod kill;
pub mod list;
pub mod list_runs;
pub mod merge;
pub mod position;
pub mod purge;
pub mod push;
pub mod resolve;
pub mod restart;
pub mod set_priority;
pub mod show;
pub mod shutdown;
pub mod start;
pub mod stats;
pub mod submit;

pub use cancel::CancelRequest;
pub use config::ConfigChange;
pub use continue_session::ContinueRequest;
pub use dashboard::{DashboardLogin, DashboardLogoutAll, DashboardToken};
pub use diff::{DiffRequest, DiffStatRequest};
pub use discard::DiscardRequest;
pub use get_run::GetRunRequest;
pub use health::HealthRequest;
pub use kill::KillRequest;
pub use list::ListQuery;
pub use list_runs::RunQuery;
pub use merge::{MergeOutcome, MergeRequest};
pub use position::PositionRequest;
pub use purge::PurgeRequest;
pub use push::PushRequest;
pub use resolve::ResolveRequest;
pub use restart::RestartRequest;
pub use set_priority::SetPriorityRequest;
pub use show::ShowRequest;
pub use shutdown::ShutdownRequest;
pub use start::StartRequest;
pub use stats::{StatsGroup, StatsQuery, StatsReport, StatsRow};
pub use submit::SubmitRequest;

use crate::service::{Reply, ServiceError};

/// The queue state an operation acts on (the queue actor).
pub type Queue = crate::daemon::queue::Actor;

/// An operation as the actor receives it: its effect, ready to run.
pub type Job = Box<dyn FnOnce(&mut Queue) + Send>;

/// One operation. Its request type implements it.
pub trait Operation: Send + Sized + 'static {
    /// What the operation answers.
    type Output: Send + 'static;

    /// Checks that need no queue state (field ranges, forms), run in the
    /// door's task before the request reaches the actor.
    fn validate(&self) -> Result<(), ServiceError> {
        Ok(())
    }

    /// The effect on queue state, in the actor. Answers through `reply` at
    /// once, or later (a stop answers once the run has ended); follow-up
    /// steps (scheduling, notifications) come after the answer, explicitly.
    fn apply(self, queue: &mut Queue, reply: Reply<Self::Output>);
}

/// The job that runs `op` in the actor, answering on `reply`.
pub fn job<O: Operation>(op: O, reply: Reply<O::Output>) -> Job {
    Box::new(move |queue: &mut Queue| op.apply(queue, reply))
}
