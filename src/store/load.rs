//! Startup: reads every work-order file in parallel, validates it and
//! quarantines what cannot be trusted.

use std::fs;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

use super::atomic::{TEMP_PREFIX, sync_dir, write_atomic};
use super::orphans::Quarantined;
use super::private::FILE_MODE;
use super::{Loaded, LoadedExtra, StorageReport, Store, StoreError, file_stem, private};
use crate::model::{Status, WorkOrder, validate_id};

impl Store {
    /// Reads every work order, quarantining what cannot be trusted, removing temp
    /// files of interrupted writes and cleaning orphaned runs and references.
    ///
    /// Only an unreadable `work-orders/` directory is an error: a bad file, a
    /// failed quarantine move or a failed cleanup is logged and never stops the
    /// daemon from starting. Validation never deletes a work-order file.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut report = StorageReport::default();
        // First: a journaled work order's run must not look like an orphan.
        let replayed = self.replay_journal()?;
        report.journal_replayed = replayed.written;
        report.quarantined += replayed.quarantined;
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
                        if let Err(e) =
                            self.save_loaded_work_order(&checked.work_order, &checked.extra, |_| {})
                        {
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
}

/// A file validation rejected, and its bytes (to recognise its runs).
struct Rejected {
    reason: String,
    raw: Vec<u8>,
    /// Reading failed for want of a resource (file descriptors, memory), not
    /// because of the file: try again rather than quarantine.
    transient: bool,
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
pub(super) fn remove_temp_files(dir: &Path) -> u32 {
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

type Parsed = Result<Read, Rejected>;

/// A work order read from its file, in the form it is held.
struct Read {
    work_order: WorkOrder,
    extra: LoadedExtra,
    /// What had to be clamped (see `Checked`).
    notes: Vec<String>,
}

/// What is kept of a parsed file, made compact on the loader's thread as
/// soon as the parse's temporaries are freed: the work order is copied into
/// the space they leave (the next file's parse reuses the original's), and an
/// ended one's unknown fields are left in the file (`LoadedExtra::OnDisk`).
/// Loaded otherwise, 100,000 AgentGate work orders left the daemon at the
/// loader's high-water mark, ~260 MiB, with a live heap of half that.
fn compact(checked: crate::model::work_order::Checked) -> Read {
    let crate::model::work_order::Checked {
        work_order,
        extra,
        notes,
    } = checked;
    let extra = if notes.is_empty() && work_order.status.is_terminal() && !extra.is_empty() {
        drop(extra);
        LoadedExtra::OnDisk
    } else {
        LoadedExtra::Map(extra)
    };
    Read {
        work_order: work_order.clone(),
        extra,
        notes,
    }
}

/// Workers for startup's file reads: more than the cores. With a cold page
/// cache the reads wait on the disk, and more of them in flight finish sooner
/// (100,000 files on 2 cores: ~5 s with 2 workers, under 2 s with 16); with a
/// warm cache the extra threads cost nothing measurable.
pub(super) fn io_threads() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores * 8).clamp(8, 32)
}

/// Maps `f` over `items` on up to `threads` scoped threads, one contiguous
/// chunk each (startup with 100,000 files must stay in seconds); results keep
/// the order of `items`. A chunk whose thread panicked yields `on_panic` for
/// each of its items.
pub(super) fn par_map<T, R, F, P>(items: &[T], threads: usize, f: F, on_panic: P) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    P: Fn(&T) -> R,
{
    // Below this a thread costs more than the reads it would share.
    const MIN_CHUNK: usize = 64;
    if items.len() < 4 * MIN_CHUNK || threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads).max(MIN_CHUNK);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                (
                    part,
                    s.spawn(move || part.iter().map(f).collect::<Vec<R>>()),
                )
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (part, handle) in handles {
            match handle.join() {
                Ok(results) => out.extend(results),
                Err(_) => out.extend(part.iter().map(&on_panic)),
            }
        }
        out
    })
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
    drop(raw);
    Ok(compact(checked))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ended AgentGate work order: its unknown fields are left in the
    /// file at load, and every rewrite (here the cleanup of a run that is
    /// gone) reads them back, so none is lost.
    #[test]
    fn ended_work_orders_keep_unknown_fields_on_disk_through_rewrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/agentgate-root/work-orders/agGithubFailed01.json");
        let orig: serde_json::Value =
            serde_json::from_slice(&fs::read(&fixture).expect("fixture")).expect("json");
        fs::copy(&fixture, store.work_order_path("agGithubFailed01")).expect("copy");
        // Its run directory is missing: the loader drops the reference and
        // rewrites the file.
        let loaded = store.load().expect("load");
        assert_eq!(loaded.report.dangling_run_refs, 1);
        let (wo, extra) = &loaded.orders[0];
        assert_eq!(*extra, LoadedExtra::OnDisk);
        assert_eq!(wo.current_run_id, None);
        let path = store.work_order_path("agGithubFailed01");
        let now: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("rewritten")).expect("json");
        for k in [
            "policies",
            "gatePlanSource",
            "maxWallClockSeconds",
            "waitForCI",
        ] {
            assert_eq!(now[k], orig[k], "{k} kept: {now}");
        }
        assert!(now.get("runId").is_none(), "{now}");
        // Read back for the next rewrite, as they are in the file.
        let kept = store.load_extra("agGithubFailed01").expect("extra");
        assert_eq!(kept["policies"], orig["policies"]);
        assert_eq!(kept["waitForCI"], true);
        // A file that cannot be parsed is never overwritten without them.
        fs::write(&path, b"{not json").expect("write");
        assert!(matches!(
            store.save_loaded_work_order(wo, extra, |_| {}),
            Err(StoreError::Parse { .. })
        ));
        assert_eq!(fs::read(&path).expect("read"), b"{not json");
        // One that is gone has nothing left to keep.
        fs::remove_file(&path).expect("rm");
        store
            .save_loaded_work_order(wo, extra, |_| {})
            .expect("save");
        assert!(path.exists());
    }

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
