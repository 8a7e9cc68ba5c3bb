//! Statuses, the transition rules between them, and why a work order ended.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::ModelError;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
    /// Read from older AgentGate data only; running-like, never produced here.
    WaitingForChildren,
    /// Read from older AgentGate data only; running-like, never produced here.
    Integrating,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Canceled,
        Status::WaitingForChildren,
        Status::Integrating,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::WaitingForChildren => "waiting_for_children",
            Status::Integrating => "integrating",
        }
    }

    /// The status as the HTTP API and `--json` show it: one of the five that
    /// AgentGate's clients can render (its dashboard fails on any other), so
    /// the legacy running-like statuses read as `running`.
    pub fn api(self) -> Status {
        match self {
            Status::WaitingForChildren | Status::Integrating => Status::Running,
            other => other,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Canceled)
    }

    /// The one place that decides which status changes are allowed.
    pub fn check_transition(self, to: Status) -> Result<(), ModelError> {
        use Status::*;
        let ok = match (self, to) {
            (Queued, Running | Canceled | Failed) => true,
            (Running | WaitingForChildren | Integrating, Succeeded | Failed | Canceled) => true,
            // A retry: only through an explicit `queue start`.
            (Failed, Running) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ModelError::Transition { from: self, to })
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?}; expected one of: queued, running, succeeded, failed, canceled"
                )
            })
    }
}

/// Why a work order ended (like systemd's `Result=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    Exited,
    Signaled,
    Timeout,
    Killed,
    Canceled,
    Stale,
    Interrupted,
    SpawnFailed,
    /// Canceled before it ran: a work order it waited for (`--after`) failed
    /// or was canceled.
    DependencyFailed,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Exited => "exited",
            ResultKind::Signaled => "signaled",
            ResultKind::Timeout => "timeout",
            ResultKind::Killed => "killed",
            ResultKind::Canceled => "canceled",
            ResultKind::Stale => "stale",
            ResultKind::Interrupted => "interrupted",
            ResultKind::SpawnFailed => "spawn_failed",
            ResultKind::DependencyFailed => "dependency_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn transitions() {
        assert!(Queued.check_transition(Running).is_ok());
        assert!(Queued.check_transition(Canceled).is_ok());
        assert!(Running.check_transition(Succeeded).is_ok());
        assert!(Failed.check_transition(Running).is_ok());
        assert!(WaitingForChildren.check_transition(Canceled).is_ok());
        for t in [Succeeded, Failed, Canceled] {
            for to in Status::ALL {
                if !(t == Failed && to == Running) {
                    assert!(t.check_transition(to).is_err(), "{t} -> {to}");
                }
            }
        }
        assert!(Queued.check_transition(Succeeded).is_err());
        assert!(Running.check_transition(Queued).is_err());
    }

    #[test]
    fn api_status_is_one_of_the_five() {
        for s in Status::ALL {
            assert!(Status::ALL[..5].contains(&s.api()), "{s}");
        }
        assert_eq!(Integrating.api(), Running);
        assert_eq!(Canceled.api(), Canceled);
    }

    #[test]
    fn parse_status() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        }
        assert!("done".parse::<Status>().is_err());
    }
}
