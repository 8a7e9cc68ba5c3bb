//! The submit journal: a submit is answered once its record is durable, its
//! file follows on the tick, a crash before that loses nothing, and a purge
//! leaves no record that could bring a deleted work order back.

use super::fixtures::Harness;
use crate::model::Status;
use crate::service::{CancelRequest, PurgeRequest};
use crate::store::journal;

fn journal_records(h: &Harness) -> usize {
    let bytes = std::fs::read(h.q.store.journal_path()).expect("journal file");
    journal::records(&bytes).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_is_durable_in_the_journal_before_its_file_is_written() {
    let mut h = Harness::new(&["--no-auto-process"]);
    let id = h.submit("a", &[], 0);
    let file = h.q.store.work_order_path(&id);
    assert!(!file.exists(), "the file is written after the answer");
    assert_eq!(journal_records(&h), 1);
    // The daemon dies here: the next start writes the file from the journal.
    let loaded = h.q.store.load().expect("load");
    assert_eq!(loaded.report.journal_replayed, 1);
    let (wo, _) = loaded
        .orders
        .iter()
        .find(|(w, _)| w.id == id)
        .expect("replayed work order loaded");
    assert_eq!((wo.status, wo.task_prompt.as_str()), (Status::Queued, "a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tick_writes_the_files_and_empties_the_journal() {
    let mut h = Harness::new(&["--no-auto-process"]);
    let a = h.submit("a", &[], 0);
    let b = h.submit("b", &[], 0);
    assert_eq!(journal_records(&h), 2);
    h.q.retry_unpersisted();
    for id in [&a, &b] {
        assert!(h.q.store.work_order_path(id).exists(), "{id} written");
    }
    assert_eq!(journal_records(&h), 0, "emptied once every file is written");
    // Started at once (a free slot): stored running, through the journal too.
    let mut h = Harness::new(&[]);
    let c = h.submit("c", &[], 0);
    assert_eq!(h.status(&c), Status::Running);
    let loaded = h.q.store.load().expect("load");
    let (wo, _) = loaded.orders.iter().find(|(w, _)| w.id == c).expect("c");
    assert_eq!(wo.status, Status::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_work_order_never_comes_back_from_the_journal() {
    let mut h = Harness::new(&["--no-auto-process"]);
    let keep = h.submit("keep", &[], 0);
    let gone = h.submit("gone", &[], 0);
    h.call(CancelRequest { id: gone.clone() }).expect("cancel");
    let out = h
        .call(PurgeRequest {
            ids: vec![gone.clone()],
            ..Default::default()
        })
        .expect("purge");
    assert_eq!(out.deleted_count, 1);
    assert_eq!(
        journal_records(&h),
        0,
        "emptied before the file was deleted"
    );
    // A crash now: only what is still held comes back.
    let loaded = h.q.store.load().expect("load");
    let ids: Vec<&str> = loaded.orders.iter().map(|(w, _)| w.id.as_str()).collect();
    assert_eq!(ids, vec![keep.as_str()]);
}
