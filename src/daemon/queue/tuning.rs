//! Live admission settings: pause, and `max_concurrent`, `stagger_delay`,
//! `min_memory` changed while the daemon runs (`queue pause|resume|config`).
//! Flags, env and the config file give the starting values; a change made at
//! run time is written to `<root>/queue-settings.json` (atomically, 0600) and
//! wins over them from then on, across restarts, until `queue config --reset`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Actor, io_block};
use crate::config::DaemonSettings;
use crate::service::{QueueConfig, ServiceError};
use crate::store::atomic::write_atomic;

/// The file, under the root.
pub const FILE: &str = "queue-settings.json";
/// Largest `max_concurrent` accepted at run time.
pub const MAX_CONCURRENT: u64 = 10_000;
/// Longest stagger delay accepted at run time (a day: more is surely a typo).
pub const MAX_STAGGER_MS: u64 = 86_400_000;
/// Largest `minMemoryBytes` (1 PiB): more than any machine has.
pub const MAX_MIN_MEMORY: u64 = 1 << 50;

/// What was changed at run time (absent: the configured value applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Overrides {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stagger_delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_memory_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TuningError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not valid ({message}); fix or delete it (it holds `queue pause` and `queue config` changes)"
    )]
    Parse { path: PathBuf, message: String },
}

impl Overrides {
    /// The persisted overrides of the root, if any were made.
    pub fn load(root: &Path) -> Result<Overrides, TuningError> {
        let path = root.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| TuningError::Parse {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Overrides::default()),
            Err(source) => Err(TuningError::Read { path, source }),
        }
    }

    fn save(&self, root: &Path) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        write_atomic(&root.join(FILE), &bytes, 0o600)
    }
}

/// The values admission uses now.
impl Actor {
    pub(super) fn paused(&self) -> bool {
        self.overrides.paused
    }

    pub(super) fn local_max_concurrent(&self) -> usize {
        self.overrides
            .max_concurrent
            .map_or(self.settings.max_concurrent, |n| n as usize)
    }

    pub(super) fn stagger_delay(&self) -> Duration {
        self.overrides
            .stagger_delay_ms
            .map_or(self.settings.stagger_delay, Duration::from_millis)
    }

    pub(super) fn min_memory(&self) -> u64 {
        self.overrides
            .min_memory_bytes
            .unwrap_or(self.settings.min_memory)
    }

    pub(super) fn queue_config(&self) -> QueueConfig {
        config_of(&self.settings, &self.overrides)
    }

    /// The run-time overrides in force.
    pub(crate) fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Puts `next` in force: written to the root first (nothing changes if
    /// that fails), then applied. Answers the settings now in force.
    pub(crate) fn replace_overrides(
        &mut self,
        next: Overrides,
    ) -> Result<QueueConfig, ServiceError> {
        if next != self.overrides {
            let root = self.settings.paths.root.clone();
            io_block(|| next.save(&root)).map_err(|e| {
                tracing::error!(error = %e, "cannot persist queue settings");
                ServiceError::internal(format!(
                    "cannot write {}: {e}; nothing was changed",
                    root.join(FILE).display()
                ))
            })?;
            if next.paused != self.overrides.paused {
                tracing::info!(
                    paused = next.paused,
                    "admission {}",
                    if next.paused { "paused" } else { "resumed" }
                );
            }
            self.overrides = next;
            tracing::info!(config = ?self.queue_config(), "queue settings changed");
        }
        Ok(self.queue_config())
    }
}

pub fn config_of(settings: &DaemonSettings, o: &Overrides) -> QueueConfig {
    let mut overrides = Vec::new();
    if o.max_concurrent.is_some() {
        overrides.push("maxConcurrent".to_string());
    }
    if o.stagger_delay_ms.is_some() {
        overrides.push("staggerDelayMs".to_string());
    }
    if o.min_memory_bytes.is_some() {
        overrides.push("minMemoryBytes".to_string());
    }
    let configured_stagger = settings.stagger_delay.as_millis().min(u64::MAX as u128) as u64;
    QueueConfig {
        paused: o.paused,
        max_concurrent: o.max_concurrent.unwrap_or(settings.max_concurrent as u64),
        stagger_delay_ms: o.stagger_delay_ms.unwrap_or(configured_stagger),
        min_memory_bytes: o.min_memory_bytes.unwrap_or(settings.min_memory),
        configured_max_concurrent: settings.max_concurrent as u64,
        configured_stagger_delay_ms: configured_stagger,
        configured_min_memory_bytes: settings.min_memory,
        overrides,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_round_trip_and_reject_garbage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Overrides::load(dir.path()).unwrap(), Overrides::default());
        let o = Overrides {
            paused: true,
            max_concurrent: Some(3),
            stagger_delay_ms: Some(0),
            min_memory_bytes: None,
        };
        o.save(dir.path()).unwrap();
        assert_eq!(Overrides::load(dir.path()).unwrap(), o);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.contains("\"maxConcurrent\": 3"), "{text}");
        assert!(!text.contains("minMemoryBytes"), "{text}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.path().join(FILE), "{\"maxConcurent\": 3}").unwrap();
        let e = Overrides::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("queue-settings.json is not valid"), "{e}");
    }
}
