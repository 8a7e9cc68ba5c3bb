//! Durable storage: one pretty JSON file per work order
//! (`<root>/work-orders/<id>.json`), run records under `<root>/runs/<run-id>/`,
//! clones under `<root>/workspaces/<id>/`. Startup validation quarantines bad
//! files instead of refusing to start, and cleans orphans.

pub mod atomic;
pub mod journal;
pub mod private;
pub mod profiles;
pub mod trash;

mod load;
mod orphans;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::{Run, WorkOrder, validate_id};
use atomic::{sync_dir, write_atomic};
use private::FILE_MODE;
pub use trash::Trash;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot delete {path}: {source}")]
    Delete { path: PathBuf, source: io::Error },
    #[error("cannot create directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot read the kept fields of {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
}

/// What startup validation found; shown in the log and in `queue health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageReport {
    pub quarantined: u32,
    pub orphan_runs_removed: u32,
    pub dangling_run_refs: u32,
    pub temp_files_removed: u32,
    /// Work orders whose out-of-range numbers were clamped on load.
    #[serde(default)]
    pub clamped: u32,
    /// Terminal work orders removed by retention since the daemon started.
    #[serde(default)]
    pub retention_purged: u64,
    /// Work orders whose file was written from the submit journal at start
    /// (the daemon had stopped between answering and writing their file).
    #[serde(default)]
    pub journal_replayed: u32,
    /// New work orders durable in the submit journal whose own file is not
    /// written yet (written behind the answer, within a second).
    #[serde(default)]
    pub journaled: u64,
}

pub struct Loaded {
    pub orders: Vec<(WorkOrder, LoadedExtra)>,
    pub report: StorageReport,
}

/// The fields a loaded work order's file has that this daemon does not
/// model, as the loader hands them on.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadedExtra {
    /// Parsed (none: an empty map).
    Map(Map<String, Value>),
    /// Left in the file (an ended work order's, with nothing clamped): read
    /// back with `Store::load_extra` when the file is rewritten. 100,000 of
    /// AgentGate's ended work orders parsed theirs into ~60 MiB of maps.
    OnDisk,
}

impl From<Map<String, Value>> for LoadedExtra {
    fn from(m: Map<String, Value>) -> LoadedExtra {
        LoadedExtra::Map(m)
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Creates the layout under `root` if missing.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let store = Store {
            root: root.to_path_buf(),
        };
        for dir in [
            store.root.clone(),
            store.work_orders_dir(),
            store.runs_dir(),
            store.workspaces_dir(),
        ] {
            private::ensure_dir(&dir)
                .map_err(|source| StoreError::CreateDir { path: dir, source })?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn work_orders_dir(&self) -> PathBuf {
        self.root.join("work-orders")
    }
    pub fn quarantine_dir(&self) -> PathBuf {
        self.work_orders_dir().join(".quarantine")
    }
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }
    pub fn workspaces_dir(&self) -> PathBuf {
        self.root.join("workspaces")
    }
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.runs_dir().join(run_id)
    }
    pub fn workspace_clone_dir(&self, id: &str) -> PathBuf {
        self.workspaces_dir().join(id)
    }
    pub fn work_order_path(&self, id: &str) -> PathBuf {
        self.work_orders_dir().join(format!("{id}.json"))
    }
    pub fn log_path(&self, run_id: &str, stderr: bool) -> PathBuf {
        self.run_dir(run_id)
            .join(if stderr { "stderr.log" } else { "stdout.log" })
    }
    pub fn heartbeat_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("heartbeat")
    }

    pub fn save_work_order(
        &self,
        wo: &WorkOrder,
        extra: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let path = self.work_order_path(&wo.id);
        let bytes = wo.to_json_pretty_with(extra);
        write_atomic(&path, &bytes, FILE_MODE).map_err(|source| StoreError::Write { path, source })
    }

    /// The fields this daemon does not model (and the stored forms of known
    /// ones it keeps, see `WorkOrder::from_json_slice`) of a work order's
    /// file: an ended work order holds them only on disk, and a rewrite reads
    /// them back here. A file that is gone has none left to keep; one that
    /// cannot be read or parsed is an error, so a rewrite never drops them.
    pub fn load_extra(&self, id: &str) -> Result<Map<String, Value>, StoreError> {
        let path = self.work_order_path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(source) => return Err(StoreError::Read { path, source }),
        };
        WorkOrder::from_json_slice(&bytes)
            .map(|(_, extra)| extra)
            .map_err(|reason| StoreError::Parse { path, reason })
    }

    /// Writes a loaded work order with its unknown fields, read back from
    /// its file first when they were left there.
    pub fn save_loaded_work_order(
        &self,
        wo: &WorkOrder,
        extra: &LoadedExtra,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<(), StoreError> {
        let mut map = match extra {
            LoadedExtra::Map(m) => m.clone(),
            LoadedExtra::OnDisk => self.load_extra(&wo.id)?,
        };
        change(&mut map);
        self.save_work_order(wo, &map)
    }

    /// Writes `run.json`, keeping fields of the record it replaces that this
    /// daemon does not model (an AgentGate run's `iteration`, `snapshotIds`, ...).
    pub fn save_run(&self, run: &Run) -> Result<(), StoreError> {
        // The run's executor may not have made its directory yet.
        let dir = self.run_dir(&run.id);
        private::ensure_dir(&dir).map_err(|source| StoreError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join("run.json");
        let previous = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok());
        let first = previous.is_none();
        let bytes = run.to_stored_json(previous);
        write_atomic(&path, &bytes, FILE_MODE)
            .map_err(|source| StoreError::Write { path, source })?;
        // The run's directory (made by us or by its supervisor) is durable
        // only once `runs/` is synced: done with the run's first record.
        if first {
            let _ = sync_dir(&self.runs_dir());
        }
        Ok(())
    }

    /// A run record (this daemon's or an AgentGate one), if it exists and parses.
    pub fn load_run(&self, run_id: &str) -> Option<Run> {
        validate_id(run_id).ok()?;
        let bytes = fs::read(self.run_dir(run_id).join("run.json")).ok()?;
        Run::from_stored_json(&bytes).ok()
    }

    /// Deletes a work order for good: its file (durably), then its runs
    /// (records and logs) and a clone the daemon made, which are moved into
    /// the trash at once and deleted in the background. Never a user's local
    /// directory.
    pub fn delete_work_order(&self, wo: &WorkOrder, trash: &Trash) -> Result<(), StoreError> {
        let path = self.work_order_path(&wo.id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Delete { path, source }),
        }
        let _ = sync_dir(&self.work_orders_dir());
        let mut doomed: Vec<PathBuf> = wo
            .run_ids
            .iter()
            .filter(|r| validate_id(r).is_ok())
            .map(|r| self.run_dir(r))
            .collect();
        if wo.workspace_source.is_cloned() {
            doomed.push(self.workspace_clone_dir(&wo.id));
        }
        for dir in doomed {
            if let Err(e) = trash.put(&dir) {
                // No trash thread: the orphan cleanup of the next start
                // removes what is left.
                tracing::warn!(path = %dir.display(), error = %e, "cannot hand purged files to the trash");
            }
        }
        Ok(())
    }
}

pub(super) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn remove_tree(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Delete {
            path: path.to_path_buf(),
            source,
        }),
    }
}
