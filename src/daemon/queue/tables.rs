//! The two tables every work order is in: by id (`Entries`) and by creation
//! time (`ByCreated`). Both are keyed by the work order they hold, not by a
//! copy of its id: at 100,000 work orders the copies (two strings each, and
//! B-tree nodes five times larger) cost ~18 MiB.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::model::{SharedWorkOrder, Timestamp};

pub(super) struct Entry {
    pub(super) wo: Arc<SharedWorkOrder>,
    /// Unknown fields from older data, written back unchanged: kept as
    /// compact JSON text (a parsed map costs several times more, and is
    /// needed only to rewrite the file), `None` when there are none or when
    /// they are only on disk (`extra_on_disk`).
    pub(super) extra: Option<Box<str>>,
    /// Its slot in the stats index.
    pub(super) stats_slot: u32,
    /// The unknown fields are in the work order's file only, read back when
    /// it is rewritten: an ended work order from older data is rarely
    /// written again, and 100,000 of AgentGate's (`policies`,
    /// `gatePlanSource`, ...) held their ~200 bytes each for nothing.
    pub(super) extra_on_disk: bool,
}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // As the `str` it borrows as: lookups by `&str` find it.
        self.wo.id.as_str().hash(h);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.wo.id == other.wo.id
    }
}

impl Eq for Entry {}

impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        &self.wo.id
    }
}

/// Work orders by id.
pub(super) struct Entries(HashSet<Entry>);

impl Entries {
    pub(super) fn with_capacity(n: usize) -> Entries {
        Entries(HashSet::with_capacity(n))
    }
    pub(super) fn get(&self, id: &str) -> Option<&Entry> {
        self.0.get(id)
    }
    pub(super) fn contains_key(&self, id: &str) -> bool {
        self.0.contains(id)
    }
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
    pub(super) fn values(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter()
    }
    /// Adds or replaces (same id) an entry.
    pub(super) fn insert(&mut self, e: Entry) {
        self.0.replace(e);
    }
    pub(super) fn remove(&mut self, id: &str) -> Option<Entry> {
        self.0.take(id)
    }
}

/// A work order in creation-time order: (createdAt, id).
struct Created(Arc<SharedWorkOrder>);

/// What `ByCreated` is ordered by, for its elements and for lookups by key.
trait CreatedKey {
    fn key(&self) -> (Timestamp, &str);
}

impl CreatedKey for Created {
    fn key(&self) -> (Timestamp, &str) {
        (self.0.created_at, &self.0.id)
    }
}

impl CreatedKey for (Timestamp, &str) {
    fn key(&self) -> (Timestamp, &str) {
        (self.0, self.1)
    }
}

impl PartialEq for dyn CreatedKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for dyn CreatedKey + '_ {}
impl PartialOrd for dyn CreatedKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for dyn CreatedKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialEq for Created {
    fn eq(&self, other: &Created) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Created {}
impl PartialOrd for Created {
    fn partial_cmp(&self, other: &Created) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Created {
    fn cmp(&self, other: &Created) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl<'a> Borrow<dyn CreatedKey + 'a> for Created {
    fn borrow(&self) -> &(dyn CreatedKey + 'a) {
        self
    }
}

/// Every work order by creation time (oldest first); shares the `Arc` with
/// `Entries`, so a listing walks one set and copies pointers.
#[derive(Default)]
pub(super) struct ByCreated(BTreeSet<Created>);

impl ByCreated {
    /// Adds or replaces (same creation time and id) a work order.
    pub(super) fn insert(&mut self, wo: Arc<SharedWorkOrder>) {
        self.0.replace(Created(wo));
    }
    pub(super) fn remove(&mut self, created_at: Timestamp, id: &str) {
        self.0.remove(&(created_at, id) as &dyn CreatedKey);
    }
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
    pub(super) fn values(&self) -> impl DoubleEndedIterator<Item = &Arc<SharedWorkOrder>> {
        self.0.iter().map(|c| &c.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WorkOrder, WorkspaceSource};

    fn wo(id: &str, t: i64) -> Arc<SharedWorkOrder> {
        Arc::new(SharedWorkOrder::new(WorkOrder::new_queued(
            id.into(),
            "p".into(),
            "shell".into(),
            WorkspaceSource::Local { path: "/".into() },
            60,
            1,
            Timestamp(t),
        )))
    }

    #[test]
    fn tables_find_replace_and_remove_by_key() {
        let mut by = ByCreated::default();
        for (id, t) in [("b", 2), ("a", 2), ("c", 1)] {
            by.insert(wo(id, t));
        }
        let order: Vec<&str> = by.values().map(|w| w.id.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
        by.insert(wo("a", 2));
        assert_eq!(by.len(), 3);
        by.remove(Timestamp(2), "a");
        by.remove(Timestamp(9), "c");
        let order: Vec<&str> = by.values().rev().map(|w| w.id.as_str()).collect();
        assert_eq!(order, ["b", "c"]);

        let mut e = Entries::with_capacity(2);
        e.insert(Entry {
            wo: wo("x", 1),
            extra: None,
            stats_slot: 0,
            extra_on_disk: false,
        });
        e.insert(Entry {
            wo: wo("x", 5),
            extra: Some("{}".into()),
            stats_slot: 0,
            extra_on_disk: false,
        });
        assert_eq!(e.len(), 1);
        assert!(e.contains_key("x") && !e.contains_key("y"));
        assert_eq!(e.get("x").map(|x| x.wo.created_at), Some(Timestamp(5)));
        assert!(e.remove("x").is_some() && e.len() == 0);
    }
}
