//! `queue pause|resume|config` and `/api/v1/queue/pause|resume|config`:
//! admission settings of the running daemon, persisted in the root.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::daemon::queue::tuning::{MAX_CONCURRENT, MAX_MIN_MEMORY, MAX_STAGGER_MS, Overrides};
use crate::service::{QueueConfig, Reply, ServiceError};

/// A change to the running daemon's admission (`queue pause|resume|config`);
/// `None` leaves a setting as it is. Changes are persisted in the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub paused: Option<bool>,
    pub max_concurrent: Option<u64>,
    pub stagger_delay_ms: Option<u64>,
    pub min_memory_bytes: Option<u64>,
    /// Drop the persisted overrides (back to flags, env and config file).
    pub reset: bool,
}

impl ConfigChange {
    /// The overrides once this change is made to `current`.
    fn applied_to(&self, current: &Overrides) -> Overrides {
        let mut next = if self.reset {
            // A reset drops the limits; a pause stays what it was.
            Overrides {
                paused: current.paused,
                ..Overrides::default()
            }
        } else {
            current.clone()
        };
        if let Some(p) = self.paused {
            next.paused = p;
        }
        if let Some(n) = self.max_concurrent {
            next.max_concurrent = Some(n);
        }
        if let Some(ms) = self.stagger_delay_ms {
            next.stagger_delay_ms = Some(ms);
        }
        if let Some(b) = self.min_memory_bytes {
            next.min_memory_bytes = Some(b);
        }
        next
    }
}

impl Operation for ConfigChange {
    type Output = QueueConfig;

    fn validate(&self) -> Result<(), ServiceError> {
        if let Some(n) = self.max_concurrent
            && !(1..=MAX_CONCURRENT).contains(&n)
        {
            return Err(ServiceError::bad_request(
                "maxConcurrent",
                format!("max concurrent {n} is out of range: 1 to {MAX_CONCURRENT}"),
            ));
        }
        if let Some(ms) = self.stagger_delay_ms
            && ms > MAX_STAGGER_MS
        {
            return Err(ServiceError::bad_request(
                "staggerDelayMs",
                format!("stagger delay {ms} ms is too long: at most {MAX_STAGGER_MS} ms (1 day)"),
            ));
        }
        if let Some(b) = self.min_memory_bytes
            && b > MAX_MIN_MEMORY
        {
            return Err(ServiceError::bad_request(
                "minMemoryBytes",
                format!(
                    "minimum memory {b} bytes is out of range: at most {MAX_MIN_MEMORY} (1 PiB)"
                ),
            ));
        }
        Ok(())
    }

    fn apply(self, q: &mut Queue, reply: Reply<QueueConfig>) {
        // Written first, in effect only once it is on disk.
        let next = self.applied_to(q.overrides());
        let _ = reply.send(q.replace_overrides(next));
        // A resume or a higher limit may let queued work start now.
        q.schedule();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_keeps_the_pause_and_drops_the_limits() {
        let current = Overrides {
            paused: true,
            max_concurrent: Some(4),
            stagger_delay_ms: Some(10),
            min_memory_bytes: None,
        };
        let reset = ConfigChange {
            reset: true,
            ..ConfigChange::default()
        };
        assert_eq!(
            reset.applied_to(&current),
            Overrides {
                paused: true,
                ..Overrides::default()
            }
        );
        let change = ConfigChange {
            paused: Some(false),
            min_memory_bytes: Some(1),
            ..ConfigChange::default()
        };
        let next = change.applied_to(&current);
        assert_eq!(
            (next.paused, next.max_concurrent, next.min_memory_bytes),
            (false, Some(4), Some(1))
        );
        let too_many = ConfigChange {
            max_concurrent: Some(MAX_CONCURRENT + 1),
            ..ConfigChange::default()
        };
        assert!(too_many.validate().is_err());
    }
}
