//! Dependencies (`submit --after`): a work order starts only once every work
//! order it names has succeeded. When one of those fails or is canceled, the
//! dependent is canceled (`result: dependency_failed`), and its own
//! dependents after it: each a transition of its own, persisted and hooked
//! like any other.
//!
//! Cycles cannot be made through the API: only existing work orders can be
//! named, and a new work order's id is fresh, so nothing can name it yet.
//! Files written by hand (or by other tools) can hold one; the daemon cancels
//! such a cycle when it loads the root instead of letting it wait forever.

use std::collections::{HashMap, HashSet};

use super::{Actor, queue_key};
use crate::model::{ResultKind, Status, Timestamp, WorkOrder, validate_id};
use crate::service::ServiceError;

/// Most work orders one may wait for.
const MAX_DEPENDENCIES: usize = 64;

/// Whether a work order was canceled because a dependency ended, not by a
/// request of its own (a cancel or kill of it then is no error: `queue
/// cancel A B`, B after A).
pub(crate) fn canceled_by_dependency(wo: &WorkOrder) -> bool {
    wo.status == Status::Canceled && wo.result == Some(ResultKind::DependencyFailed)
}

impl Actor {
    /// What `wo` still waits for: dependencies that exist and have not
    /// succeeded. One that is gone was purged after it ended; had it failed,
    /// its dependents would have been canceled then, so it counts as met.
    pub(crate) fn unmet_dependencies<'a>(&self, wo: &'a WorkOrder) -> Vec<&'a str> {
        wo.more
            .depends_on
            .iter()
            .filter(|d| {
                self.entries
                    .get(d.as_str())
                    .is_some_and(|e| e.wo.status != Status::Succeeded)
            })
            .map(String::as_str)
            .collect()
    }

    /// Checks the dependencies a new work order names: existing work orders
    /// that can still succeed. Returns them without duplicates.
    pub(crate) fn check_dependencies(&self, deps: &[String]) -> Result<Vec<String>, ServiceError> {
        let mut out: Vec<String> = Vec::with_capacity(deps.len());
        for d in deps {
            validate_id(d).map_err(|e| ServiceError::bad_request("dependsOn", e.to_string()))?;
            let Some(e) = self.entries.get(d) else {
                return Err(ServiceError::bad_request(
                    "dependsOn",
                    format!("no work order {d:?} to wait for"),
                ));
            };
            if matches!(e.wo.status, Status::Failed | Status::Canceled) {
                return Err(ServiceError::bad_request(
                    "dependsOn",
                    format!(
                        "work order {d} already {}, so it will never succeed; restart it (`agentgate queue restart {d}`) and wait for the new one",
                        e.wo.status
                    ),
                ));
            }
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
        if out.len() > MAX_DEPENDENCIES {
            return Err(ServiceError::bad_request(
                "dependsOn",
                format!("too many dependencies: at most {MAX_DEPENDENCIES}"),
            ));
        }
        Ok(out)
    }

    /// `wo`'s status just changed: its dependents may start (it succeeded),
    /// or must be canceled (it failed or was canceled).
    pub(super) fn dependency_settled(&mut self, wo: &WorkOrder) {
        match wo.status {
            Status::Succeeded => self.release_dependents(&wo.id),
            Status::Failed | Status::Canceled if self.waiting.dependents.contains_key(&wo.id) => {
                self.waiting.doomed.push_back(wo.id.clone());
            }
            _ => {}
        }
    }

    /// Dependents of `id` whose every dependency has now succeeded become
    /// ready to start.
    fn release_dependents(&mut self, id: &str) {
        let Some(waiting) = self.waiting.dependents.remove(id) else {
            return;
        };
        for d in waiting {
            let Some(wo) = self.entries.get(&d).map(|e| e.wo.clone()) else {
                continue;
            };
            let key = queue_key(&wo);
            if wo.status != Status::Queued
                || !self.waiting.blocked.contains(&key)
                || !self.unmet_dependencies(&wo).is_empty()
            {
                continue;
            }
            self.waiting.blocked.remove(&key);
            let kind = self.executor_of(&wo);
            self.waiting.ready.entry(kind).or_default().insert(key);
        }
    }

    /// Cancels the queued dependents of every work order that failed or was
    /// canceled, and theirs in turn. Runs after each commit; a commit made
    /// here only adds to the list it works off.
    pub(super) fn cancel_doomed_dependents(&mut self) {
        if self.waiting.cascading {
            return;
        }
        self.waiting.cascading = true;
        while let Some(dep) = self.waiting.doomed.pop_front() {
            let cause = match self.entries.get(&dep) {
                Some(e) => cause_of(&e.wo),
                None => format!("dependency {dep} is gone"),
            };
            for d in self.waiting.dependents.remove(&dep).unwrap_or_default() {
                self.cancel_for_dependency(&d, cause.clone());
            }
        }
        self.waiting.cascading = false;
    }

    /// Ends a queued work order whose dependency cannot succeed.
    fn cancel_for_dependency(&mut self, id: &str, error: String) {
        let Some(mut wo) = self.copy_of(id) else {
            return;
        };
        if wo.status != Status::Queued {
            return;
        }
        match wo.finish(
            Status::Canceled,
            ResultKind::DependencyFailed,
            None,
            None,
            Some(error.clone()),
            Timestamp::now(),
        ) {
            Ok(()) => {
                tracing::info!(work_order = %id, error = %error, "canceled: a dependency cannot succeed");
                // A consequence of a fact (the dependency ended): memory
                // follows it even if the write fails.
                self.commit_event(wo);
            }
            Err(e) => tracing::error!(work_order = %id, error = %e, "cannot cancel dependent"),
        }
    }

    /// After loading: finishes cancellations a crash interrupted (a
    /// dependency ended, its dependents still queued) and cancels cycles.
    pub(super) fn repair_dependencies(&mut self) {
        let ended: Vec<String> = self
            .waiting
            .dependents
            .keys()
            .filter(|d| {
                self.entries
                    .get(d.as_str())
                    .is_some_and(|e| matches!(e.wo.status, Status::Failed | Status::Canceled))
            })
            .cloned()
            .collect();
        self.waiting.doomed.extend(ended);
        self.cancel_doomed_dependents();
        for cycle in self.dependency_cycles() {
            let path = cycle
                .iter()
                .chain(cycle.first())
                .cloned()
                .collect::<Vec<_>>()
                .join(" -> ");
            tracing::warn!(cycle = %path, "work orders wait for each other; canceling them");
            // Every member says it was in the cycle; their other dependents
            // follow once all of them are canceled.
            self.waiting.cascading = true;
            for id in &cycle {
                self.cancel_for_dependency(id, format!("dependency cycle: {path}"));
            }
            self.waiting.cascading = false;
            self.cancel_doomed_dependents();
        }
    }

    /// Cycles among queued work orders waiting for each other (each cycle
    /// once, in dependency order).
    fn dependency_cycles(&self) -> Vec<Vec<String>> {
        let waiting: HashMap<&str, Vec<&str>> = self
            .waiting
            .blocked
            .iter()
            .filter_map(|(_, _, id)| self.entries.get(id))
            .map(|e| (e.wo.id.as_str(), self.unmet_dependencies(&e.wo)))
            .collect();
        find_cycles(&waiting)
    }
}

/// Why a dependent of `dep` is canceled, naming the work order at the root
/// of a chain of cancellations so the message stays short.
fn cause_of(dep: &WorkOrder) -> String {
    let verb = match dep.status {
        Status::Canceled => "was canceled",
        _ => "failed",
    };
    match (dep.result, dep.error.as_deref()) {
        (Some(ResultKind::DependencyFailed), Some(e)) => {
            let root = e.split_once(" was canceled: ").map_or(e, |(_, root)| root);
            format!("dependency {} {verb}: {root}", dep.id)
        }
        _ => format!("dependency {} {verb}", dep.id),
    }
}

/// Every cycle of the graph `edges` (node -> the nodes it waits for), each
/// once. Iterative depth-first search: deep chains cannot overflow the stack.
fn find_cycles(edges: &HashMap<&str, Vec<&str>>) -> Vec<Vec<String>> {
    let mut done: HashSet<&str> = HashSet::new();
    let mut cycles = Vec::new();
    let mut starts: Vec<&str> = edges.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        if done.contains(start) {
            continue;
        }
        // (node, next edge to follow); `path` mirrors the stack's nodes.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        let mut on_path: HashSet<&str> = HashSet::from([start]);
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            let succ = edges.get(node).and_then(|s| s.get(*next)).copied();
            *next += 1;
            match succ {
                None => {
                    stack.pop();
                    on_path.remove(node);
                    done.insert(node);
                }
                Some(s) if on_path.contains(s) => {
                    let from = stack.iter().position(|(n, _)| *n == s).unwrap_or(0);
                    cycles.push(stack[from..].iter().map(|(n, _)| n.to_string()).collect());
                }
                Some(s) if done.contains(s) || !edges.contains_key(s) => {}
                Some(s) => {
                    on_path.insert(s);
                    stack.push((s, 0));
                }
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(pairs: &[(&'a str, &[&'a str])]) -> HashMap<&'a str, Vec<&'a str>> {
        pairs.iter().map(|(n, s)| (*n, s.to_vec())).collect()
    }

    #[test]
    fn cycles_are_found_once_each() {
        let g = graph(&[("a", &["b"]), ("b", &["a"]), ("c", &["a"]), ("d", &[])]);
        assert_eq!(
            find_cycles(&g),
            vec![vec!["a".to_string(), "b".to_string()]]
        );
        let g = graph(&[("x", &["x"])]);
        assert_eq!(find_cycles(&g), vec![vec!["x".to_string()]]);
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        assert!(find_cycles(&g).is_empty());
        let g = graph(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a", "d"]),
            ("d", &["e"]),
            ("e", &["d"]),
        ]);
        let mut found = find_cycles(&g);
        found.sort();
        assert_eq!(
            found,
            vec![
                vec!["a".to_string(), "b".into(), "c".into()],
                vec!["d".to_string(), "e".into()]
            ]
        );
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let names: Vec<String> = (0..100_000).map(|i| format!("n{i}")).collect();
        let mut g: HashMap<&str, Vec<&str>> = HashMap::new();
        for w in names.windows(2) {
            g.insert(&w[0], vec![&w[1]]);
        }
        assert!(find_cycles(&g).is_empty());
    }

    #[test]
    fn causes_name_the_root() {
        let mut a = WorkOrder::new_queued(
            "A".into(),
            "p".into(),
            "shell".into(),
            crate::model::WorkspaceSource::Local { path: "/".into() },
            1,
            1,
            Timestamp(1),
        );
        a.status = Status::Failed;
        assert_eq!(cause_of(&a), "dependency A failed");
        let mut b = a.clone();
        b.id = "B".into();
        b.status = Status::Canceled;
        b.result = Some(ResultKind::DependencyFailed);
        b.error = Some(cause_of(&a));
        assert_eq!(
            cause_of(&b),
            "dependency B was canceled: dependency A failed"
        );
        let mut c = b.clone();
        c.id = "C".into();
        c.error = Some(cause_of(&b));
        assert_eq!(
            cause_of(&c),
            "dependency C was canceled: dependency A failed"
        );
        let mut d = b.clone();
        d.id = "D".into();
        d.error = Some("dependency cycle: D -> E -> D".into());
        assert_eq!(
            cause_of(&d),
            "dependency D was canceled: dependency cycle: D -> E -> D"
        );
    }
}
