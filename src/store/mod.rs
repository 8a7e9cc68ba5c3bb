//! Durable storage: one pretty JSON file per work order
//! (`<root>/work-orders/<id>.json`), run records under `<root>/runs/<run-id>/`,
//! clones under `<root>/workspaces/<id>/`. Startup validation quarantines bad
//! files instead of refusing to start, and cleans orphans.

pub mod atomic;
pub mod private;
pub mod profiles;
pub mod trash;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

use crate::model::{Run, Status, WorkOrder, validate_id};
use atomic::{TEMP_PREFIX, sync_dir, write_atomic};
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

    /// Reads every work order, quarantining what cannot be trusted, removing temp
    /// files of interrupted writes and cleaning orphaned runs and references.
    ///
    /// Only an unreadable `work-orders/` directory is an error: a bad file, a
    /// failed quarantine move or a failed cleanup is logged and never stops the
    /// daemon from starting. Validation never deletes a work-order file.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut report = StorageReport::default();
        report.temp_files_removed += remove_temp_files(&self.root);
        report.temp_files_removed += remove_temp_files(&self.quarantine_dir());
        let dir = self.work_orders_dir();
        let entries = fs::read_dir(&dir).map_err(|source| StoreError::Read {
            path: dir.clone(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) {
                if remove_temp(&entry.path()) {
                    report.temp_files_removed += 1;
                }
                continue;
            }
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            files.push((entry.ino(), entry.path()));
        }
        // Inode order is close to on-disk order: a cold start reads less randomly.
        files.sort_unstable();
        let files: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
        if report.temp_files_removed > 0 {
            let _ = sync_dir(&dir);
        }

        // Opened relative to the directory: no path walk per file.
        let dir_fd = fs::File::open(&dir).ok();
        let parsed = par_map(
            &files,
            io_threads(),
            |p: &PathBuf| parse_file(dir_fd.as_ref(), p),
            |_| {
                Err(Rejected {
                    // Quarantined, not retried here: a file that crashes the
                    // parser must not crash the daemon at every start.
                    reason: "the parser panicked on this file".into(),
                    raw: Vec::new(),
                    transient: false,
                })
            },
        );
        let mut orders = Vec::with_capacity(parsed.len());
        let mut quarantined = Vec::new();
        for (path, outcome) in files.iter().zip(parsed) {
            // Once more, alone, before deciding the file itself is bad.
            let outcome = match outcome {
                Err(r) if r.transient => parse_file(None, path),
                other => other,
            };
            match outcome {
                Ok(checked) => {
                    if !checked.notes.is_empty() {
                        // Clamped, not quarantined: the file is rewritten
                        // with the values the daemon uses, the old ones logged.
                        tracing::warn!(file = %path.display(), changes = %checked.notes.join("; "), "numbers out of range in a work-order file; clamped");
                        report.clamped += 1;
                        if let Err(e) = self.save_work_order(&checked.work_order, &checked.extra) {
                            tracing::error!(file = %path.display(), error = %e, "cannot rewrite the clamped work order");
                        }
                    }
                    orders.push((checked.work_order, checked.extra));
                }
                Err(rejected) if rejected.transient => {
                    // Not the file's fault: left in place, loaded next start;
                    // its runs are kept like those of a quarantined file.
                    tracing::error!(file = %path.display(), reason = %rejected.reason, "cannot read work-order file now; skipping it");
                    quarantined.push(Quarantined {
                        id: file_stem(path),
                        raw: Vec::new(),
                    });
                }
                Err(rejected) => {
                    let stem = file_stem(path);
                    tracing::warn!(file = %path.display(), reason = %rejected.reason, "quarantining work-order file");
                    match self.quarantine(path, &rejected.reason) {
                        Ok(()) => report.quarantined += 1,
                        // Left in place and not loaded; tried again next start.
                        Err(e) => {
                            tracing::error!(file = %path.display(), error = %e, "cannot quarantine work-order file; skipping it")
                        }
                    }
                    quarantined.push(Quarantined {
                        id: stem,
                        raw: rejected.raw,
                    });
                }
            }
        }

        self.clean_orphans(&mut orders, &quarantined, &mut report);
        Ok(Loaded { orders, report })
    }

    /// Moves a rejected file into `.quarantine/` (never deletes it), next to a
    /// `<name>.reason` file saying why.
    fn quarantine(&self, path: &Path, reason: &str) -> Result<(), StoreError> {
        let qdir = self.quarantine_dir();
        private::ensure_dir(&qdir).map_err(|source| StoreError::CreateDir {
            path: qdir.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unnamed".into());
        let mut target = qdir.join(&name);
        let mut n = 1;
        while fs::symlink_metadata(&target).is_ok() {
            // An earlier file of the same name is already there: keep both.
            target = qdir.join(format!("{name}.{n}"));
            n += 1;
        }
        let reason_path = PathBuf::from(format!("{}.reason", target.display()));
        let text = format!(
            "{reason}\nquarantined from {} at {}\n",
            path.display(),
            crate::model::Timestamp::now()
        );
        write_atomic(&reason_path, text.as_bytes(), FILE_MODE).map_err(|source| {
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

    /// Drops references to runs that do not exist and removes run directories
    /// whose work order is gone. A run is kept when a work order references it,
    /// when it belongs to a quarantined work order (the file may be repaired), or
    /// when it is an older AgentGate run of a work order that still exists.
    fn clean_orphans(
        &self,
        orders: &mut [(WorkOrder, Map<String, Value>)],
        quarantined: &[Quarantined],
        report: &mut StorageReport,
    ) {
        let runs_dir = self.runs_dir();
        let mut existing_runs = HashSet::new();
        match fs::read_dir(&runs_dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    // Only directories with a valid id are runs; leave anything else be.
                    if validate_id(&name).is_ok() && e.file_type().is_ok_and(|t| t.is_dir()) {
                        existing_runs.insert(name);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::error!(dir = %runs_dir.display(), error = %e, "cannot list runs; orphan cleanup skipped");
                return;
            }
        }

        let mut referenced = HashSet::new();
        let mut loaded_ids = HashSet::with_capacity(orders.len());
        for (wo, extra) in orders.iter_mut() {
            loaded_ids.insert(wo.id.clone());
            let mut missing: Vec<String> = wo
                .run_ids
                .iter()
                .chain(wo.current_run_id.iter())
                .filter(|r| !existing_runs.contains(*r))
                .cloned()
                .collect();
            missing.sort();
            missing.dedup();
            if !missing.is_empty() {
                wo.run_ids.retain(|r| existing_runs.contains(r));
                if wo
                    .current_run_id
                    .as_ref()
                    .is_some_and(|r| !existing_runs.contains(r))
                {
                    wo.current_run_id = None;
                }
                if extra
                    .get("runId")
                    .and_then(Value::as_str)
                    .is_some_and(|r| !existing_runs.contains(r))
                {
                    extra.remove("runId");
                }
                tracing::warn!(work_order = %wo.id, runs = ?missing, "removing references to missing runs");
                report.dangling_run_refs += missing.len() as u32;
                if let Err(e) = self.save_work_order(wo, extra) {
                    // Memory is clean; the file is cleaned again next start.
                    tracing::error!(work_order = %wo.id, error = %e, "cannot save cleaned work order");
                }
            }
            referenced.extend(wo.run_ids.iter().cloned());
        }

        let all_runs: Vec<String> = existing_runs.into_iter().collect();
        let verdicts = par_map(
            &all_runs,
            io_threads(),
            |run_id| {
                let dir = runs_dir.join(run_id);
                let temps = remove_temp_files(&dir);
                if referenced.contains(run_id) {
                    return (temps, None);
                }
                (temps, Some(run_owner(&dir.join("run.json"))))
            },
            |_| (0, None),
        );
        // Files quarantined at earlier starts count too (read only if needed).
        let mut earlier: Option<Vec<Quarantined>> = None;
        for (run_id, (temps, owner)) in all_runs.iter().zip(verdicts) {
            report.temp_files_removed += temps;
            let Some(owner) = owner else { continue };
            let earlier = earlier.get_or_insert_with(|| self.quarantined_files());
            let in_quarantine = quarantined.iter().chain(earlier.iter()).any(|q| {
                owner.work_order_id.as_deref() == Some(q.id.as_str())
                    || contains(&q.raw, run_id.as_bytes())
            });
            if in_quarantine {
                continue; // its work order is in quarantine, not gone
            }
            let owner_exists = owner
                .work_order_id
                .as_ref()
                .is_some_and(|id| loaded_ids.contains(id));
            if owner_exists && owner.legacy {
                continue; // an earlier AgentGate run of a work order that exists
            }
            tracing::warn!(run = %run_id, work_order = ?owner.work_order_id, "removing orphaned run directory");
            match remove_tree(&runs_dir.join(run_id)) {
                Ok(()) => report.orphan_runs_removed += 1,
                Err(e) => tracing::error!(run = %run_id, error = %e, "cannot remove orphaned run"),
            }
        }
        if report.orphan_runs_removed > 0 {
            let _ = sync_dir(&runs_dir);
        }
    }
}

impl Store {
    /// The work-order files in `.quarantine/` (their id from the file name, and
    /// their first bytes), to recognise runs that belong to them.
    fn quarantined_files(&self) -> Vec<Quarantined> {
        use std::io::Read;
        let Ok(entries) = fs::read_dir(self.quarantine_dir()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".reason") || name.starts_with(TEMP_PREFIX) {
                    return None;
                }
                let (id, _) = name.split_once(".json")?;
                let mut raw = Vec::new();
                let _ = fs::File::open(e.path())
                    .and_then(|f| f.take(QUARANTINE_SCAN_BYTES).read_to_end(&mut raw));
                Some(Quarantined {
                    id: id.to_string(),
                    raw,
                })
            })
            .collect()
    }
}

/// How much of each quarantined file is searched for run ids.
const QUARANTINE_SCAN_BYTES: u64 = 4 * 1024 * 1024;

/// A file validation rejected, and its bytes (to recognise its runs).
struct Rejected {
    reason: String,
    raw: Vec<u8>,
    /// Reading failed for want of a resource (file descriptors, memory), not
    /// because of the file: try again rather than quarantine.
    transient: bool,
}

struct Quarantined {
    id: String,
    raw: Vec<u8>,
}

/// Who a run directory belongs to, from its `run.json`.
struct RunOwner {
    work_order_id: Option<String>,
    /// Not a record this daemon wrote (an AgentGate run: `state`, not `status`).
    legacy: bool,
}

fn run_owner(path: &Path) -> RunOwner {
    let value: Option<Value> = fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(value) = value else {
        return RunOwner {
            work_order_id: None,
            legacy: false,
        };
    };
    let work_order_id = value
        .get("workOrderId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let legacy = value.get("status").is_none();
    RunOwner {
        work_order_id,
        legacy,
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn remove_temp(path: &Path) -> bool {
    match fs::remove_file(path) {
        Ok(()) => {
            tracing::info!(file = %path.display(), "removed temp file of an interrupted write");
            true
        }
        Err(_) => false,
    }
}

/// Removes temp files an interrupted `write_atomic` left in `dir`.
fn remove_temp_files(dir: &Path) -> u32 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) && remove_temp(&e.path()) {
            removed += 1;
        }
    }
    removed
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

type Parsed = Result<crate::model::work_order::Checked, Rejected>;

/// Workers for startup's file reads: more than the cores. With a cold page
/// cache the reads wait on the disk, and more of them in flight finish sooner
/// (100,000 files on 2 cores: ~5 s with 2 workers, under 2 s with 16); with a
/// warm cache the extra threads cost nothing measurable.
fn io_threads() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores * 8).clamp(8, 32)
}

/// Maps `f` over `items` on `threads` workers taking small batches in turn
/// (startup with 100,000 files must stay in seconds); results keep the order
/// of `items`. A panicking worker yields `on_panic` for the batches it held.
fn par_map<T, R, F, P>(items: &[T], threads: usize, f: F, on_panic: P) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    P: Fn(&T) -> R,
{
    const BATCH: usize = 64;
    if items.len() < 4 * BATCH || threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let batches = items.len().div_ceil(BATCH);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let mut done: Vec<Option<Vec<R>>> = std::iter::repeat_with(|| None).take(batches).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(batches))
            .map(|_| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if b >= batches {
                            return mine;
                        }
                        let part = &items[b * BATCH..((b + 1) * BATCH).min(items.len())];
                        mine.push((b, part.iter().map(f).collect::<Vec<R>>()));
                    }
                })
            })
            .collect();
        for w in workers {
            // A worker that panicked loses its batches: they stay `None`.
            for (b, results) in w.join().unwrap_or_default() {
                done[b] = Some(results);
            }
        }
    });
    let mut out = Vec::with_capacity(items.len());
    for (b, results) in done.into_iter().enumerate() {
        match results {
            Some(r) => out.extend(r),
            None => out.extend(
                items[b * BATCH..((b + 1) * BATCH).min(items.len())]
                    .iter()
                    .map(&on_panic),
            ),
        }
    }
    out
}

/// Reads a whole file; relative to `dir` when given (saves a path walk and a
/// stat per file: startup reads every work order).
fn read_file(dir: Option<&fs::File>, path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let (Some(dir), Some(name)) = (dir, path.file_name()) else {
        return fs::read(path);
    };
    let fd = nix::fcntl::openat(
        dir,
        name,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(io::Error::from)?;
    // Plain reads until EOF: `read_to_end` on a `File` would stat it first.
    let mut file = fs::File::from(fd);
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn parse_file(dir: Option<&fs::File>, path: &Path) -> Parsed {
    let raw = read_file(dir, path).map_err(|e| Rejected {
        reason: format!("unreadable: {e}"),
        raw: Vec::new(),
        transient: matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::EAGAIN | libc::EINTR)
        ),
    })?;
    let reject = |reason: String, raw: Vec<u8>| Rejected {
        reason,
        raw,
        transient: false,
    };
    let checked = match WorkOrder::from_json_slice_checked(&raw) {
        Ok(c) => c,
        Err(reason) => return Err(reject(reason, raw)),
    };
    let wo = &checked.work_order;
    let stem = file_stem(path);
    if wo.id != stem {
        return Err(reject(
            format!("id {:?} does not match file name {stem:?}.json", wo.id),
            raw,
        ));
    }
    if let Err(e) = validate_id(&wo.id) {
        return Err(reject(e.to_string(), raw));
    }
    if wo.task_prompt.trim().is_empty() && wo.status == Status::Queued {
        return Err(reject("queued with an empty taskPrompt".into(), raw));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order_and_survives_a_panicking_worker() {
        let items: Vec<u32> = (0..5000).collect();
        let out = par_map(&items, 7, |i| i * 2, |_| u32::MAX);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let out = par_map(
            &items,
            3,
            |i| {
                assert_ne!(*i, 1234, "worker dies");
                *i
            },
            |_| u32::MAX,
        );
        assert_eq!(out.len(), items.len());
        assert_eq!(out[1234], u32::MAX);
        assert_eq!(out[4999], 4999);
    }

    #[test]
    fn quarantine_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::open(d.path()).unwrap();
        for round in 0..3 {
            std::fs::write(store.work_order_path("bad"), format!("{{{round}")).unwrap();
            let loaded = store.load().unwrap();
            assert_eq!(loaded.report.quarantined, 1);
            assert!(loaded.orders.is_empty());
        }
        let q = store.quarantine_dir();
        assert_eq!(std::fs::read(q.join("bad.json")).unwrap(), b"{0");
        assert_eq!(std::fs::read(q.join("bad.json.1")).unwrap(), b"{1");
        assert_eq!(std::fs::read(q.join("bad.json.2")).unwrap(), b"{2");
        let reason = std::fs::read_to_string(q.join("bad.json.2.reason")).unwrap();
        assert!(reason.starts_with("not valid JSON"), "{reason}");
    }
}
