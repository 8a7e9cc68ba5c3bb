//! Startup cleanup: run directories whose work order is gone, and references
//! to runs that do not exist.

use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

use super::atomic::{TEMP_PREFIX, sync_dir};
use super::load::{io_threads, par_map, remove_temp_files};
use super::{LoadedExtra, StorageReport, Store, remove_tree};
use crate::model::{WorkOrder, validate_id};

impl Store {
    /// Drops references to runs that do not exist and removes run directories
    /// whose work order is gone. A run is kept when a work order references it,
    /// when it belongs to a quarantined work order (the file may be repaired), or
    /// when it is an older AgentGate run of a work order that still exists.
    pub(super) fn clean_orphans(
        &self,
        orders: &mut [(WorkOrder, LoadedExtra)],
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
                let drop_run_id = |extra: &mut Map<String, Value>| {
                    if extra
                        .get("runId")
                        .and_then(Value::as_str)
                        .is_some_and(|r| !existing_runs.contains(r))
                    {
                        extra.remove("runId");
                    }
                };
                if let LoadedExtra::Map(m) = extra {
                    drop_run_id(m);
                }
                tracing::warn!(work_order = %wo.id, runs = ?missing, "removing references to missing runs");
                report.dangling_run_refs += missing.len() as u32;
                if let Err(e) = self.save_loaded_work_order(wo, extra, drop_run_id) {
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

pub(super) struct Quarantined {
    pub(super) id: String,
    pub(super) raw: Vec<u8>,
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
