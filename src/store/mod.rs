//! Durable storage: one pretty JSON file per work order
//! (`<root>/work-orders/<id>.json`), run records under `<root>/runs/<run-id>/`,
//! clones under `<root>/workspaces/<id>/`. Startup validation quarantines bad
//! files instead of refusing to start, and cleans orphans.

pub mod atomic;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::{Run, Status, WorkOrder, validate_id};
use atomic::{TEMP_PREFIX, sync_dir, write_atomic};

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
}

/// What startup validation found; shown in the log and in `queue health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageReport {
    pub quarantined: u32,
    pub orphan_runs_removed: u32,
    pub dangling_run_refs: u32,
    pub temp_files_removed: u32,
}

pub struct Loaded {
    pub orders: Vec<(WorkOrder, Map<String, Value>)>,
    pub report: StorageReport,
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
            fs::create_dir_all(&dir)
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
        write_atomic(&path, &bytes, 0o644).map_err(|source| StoreError::Write { path, source })
    }

    /// Creates `runs/<id>/` and writes its `run.json`.
    pub fn create_run(&self, run: &Run) -> Result<(), StoreError> {
        let dir = self.run_dir(&run.id);
        fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir { path: dir, source })?;
        self.save_run(run)
    }

    pub fn save_run(&self, run: &Run) -> Result<(), StoreError> {
        let path = self.run_dir(&run.id).join("run.json");
        let bytes = serde_json::to_vec_pretty(run).unwrap_or_default();
        write_atomic(&path, &bytes, 0o644).map_err(|source| StoreError::Write { path, source })
    }

    pub fn load_run(&self, run_id: &str) -> Option<Run> {
        validate_id(run_id).ok()?;
        let bytes = fs::read(self.run_dir(run_id).join("run.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Deletes a work order for good: its file, its runs (records and logs) and a
    /// clone the daemon made. Never a user's local directory.
    pub fn delete_work_order(&self, wo: &WorkOrder) -> Result<(), StoreError> {
        let path = self.work_order_path(&wo.id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Delete { path, source }),
        }
        let _ = sync_dir(&self.work_orders_dir());
        for run_id in &wo.run_ids {
            if validate_id(run_id).is_ok() {
                remove_tree(&self.run_dir(run_id))?;
            }
        }
        if wo.workspace_source.is_cloned() {
            remove_tree(&self.workspace_clone_dir(&wo.id))?;
        }
        Ok(())
    }

    /// Reads every work order, quarantining what cannot be trusted, removing temp
    /// files of interrupted writes and cleaning orphaned runs and references.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut report = StorageReport::default();
        let dir = self.work_orders_dir();
        let entries = fs::read_dir(&dir).map_err(|source| StoreError::Read {
            path: dir.clone(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                if fs::remove_file(entry.path()).is_ok() {
                    report.temp_files_removed += 1;
                }
                continue;
            }
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            files.push(entry.path());
        }

        let parsed = parse_parallel(&files);
        let mut orders = Vec::with_capacity(parsed.len());
        let mut quarantined_ids = HashSet::new();
        for (path, outcome) in files.iter().zip(parsed) {
            match outcome {
                Ok(pair) => orders.push(pair),
                Err(reason) => {
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    tracing::warn!(file = %path.display(), %reason, "quarantining work-order file");
                    self.quarantine(path, &reason)?;
                    quarantined_ids.insert(stem);
                    report.quarantined += 1;
                }
            }
        }

        self.clean_orphans(&mut orders, &quarantined_ids, &mut report)?;
        Ok(Loaded { orders, report })
    }

    fn quarantine(&self, path: &Path, reason: &str) -> Result<(), StoreError> {
        let qdir = self.quarantine_dir();
        fs::create_dir_all(&qdir).map_err(|source| StoreError::CreateDir {
            path: qdir.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unnamed".into());
        let mut target = qdir.join(&name);
        if target.exists() {
            target = qdir.join(format!("{name}.{}", chrono::Utc::now().timestamp_millis()));
        }
        let reason_path = PathBuf::from(format!("{}.reason", target.display()));
        write_atomic(&reason_path, format!("{reason}\n").as_bytes(), 0o644).map_err(|source| {
            StoreError::Write {
                path: reason_path.clone(),
                source,
            }
        })?;
        fs::rename(path, &target).map_err(|source| StoreError::Write {
            path: target.clone(),
            source,
        })?;
        let _ = sync_dir(&qdir);
        let _ = sync_dir(&self.work_orders_dir());
        Ok(())
    }

    fn clean_orphans(
        &self,
        orders: &mut [(WorkOrder, Map<String, Value>)],
        quarantined_ids: &HashSet<String>,
        report: &mut StorageReport,
    ) -> Result<(), StoreError> {
        let runs_dir = self.runs_dir();
        let mut existing_runs = HashSet::new();
        if let Ok(entries) = fs::read_dir(&runs_dir) {
            for e in entries.flatten() {
                existing_runs.insert(e.file_name().to_string_lossy().into_owned());
            }
        }
        let mut referenced = HashSet::new();
        for (wo, extra) in orders.iter_mut() {
            let before = wo.run_ids.len();
            wo.run_ids.retain(|r| existing_runs.contains(r));
            let mut dangling = (before - wo.run_ids.len()) as u32;
            if let Some(cur) = &wo.current_run_id
                && !existing_runs.contains(cur)
            {
                wo.current_run_id = None;
                if dangling == 0 {
                    dangling = 1;
                }
            }
            if dangling > 0 {
                extra.remove("runId");
                tracing::warn!(work_order = %wo.id, dangling, "removing references to missing runs");
                report.dangling_run_refs += dangling;
                self.save_work_order(wo, extra)?;
            }
            referenced.extend(wo.run_ids.iter().cloned());
        }
        for run_id in existing_runs {
            if referenced.contains(&run_id) {
                continue;
            }
            let owner = self.load_run(&run_id).map(|r| r.work_order_id);
            if let Some(owner) = &owner
                && quarantined_ids.contains(owner)
            {
                continue; // its work order is in quarantine, not gone
            }
            tracing::warn!(run = %run_id, work_order = ?owner, "removing orphaned run directory");
            remove_tree(&runs_dir.join(&run_id))?;
            report.orphan_runs_removed += 1;
        }
        Ok(())
    }
}

fn remove_tree(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Delete {
            path: path.to_path_buf(),
            source,
        }),
    }
}

type Parsed = Result<(WorkOrder, Map<String, Value>), String>;

/// Parses files on all cores: startup with 100,000 files must stay in seconds.
fn parse_parallel(files: &[PathBuf]) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if files.len() < 256 || threads == 1 {
        return files.iter().map(|p| parse_file(p)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|p| parse_file(p)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("parser thread panicked".to_string())])
            })
            .collect()
    })
}

fn parse_file(path: &Path) -> Parsed {
    let bytes = fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    let (wo, extra) =
        WorkOrder::from_json_slice(&bytes).map_err(|e| format!("invalid work order: {e}"))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if wo.id != stem {
        return Err(format!(
            "id {:?} does not match file name {stem:?}.json",
            wo.id
        ));
    }
    validate_id(&wo.id).map_err(|e| e.to_string())?;
    if wo.task_prompt.is_empty() && wo.status == Status::Queued {
        return Err("empty taskPrompt".to_string());
    }
    Ok((wo, extra))
}
