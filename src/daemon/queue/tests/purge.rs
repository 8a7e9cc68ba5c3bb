//! Purge: what ended is removed at once, what runs is stopped first.

use super::fixtures::Harness;
use crate::service::PurgeRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_stops_what_runs_then_removes_everything_named() {
    let mut h = Harness::new(&[]);
    let done = h.submit("done", &[], 0);
    h.exec.end(&h.run_of(&done), Some(0));
    h.pump();
    let running = h.submit("running", &[], 0);
    let run = h.run_of(&running);
    let file = h.q.store.work_order_path(&done);
    assert!(file.exists());

    let dry = h
        .call(PurgeRequest {
            ids: vec![done.clone(), running.clone()],
            dry_run: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(dry.deleted_count, 0);
    assert!(h.q.get(&done).is_ok());

    let mut answer = h.call_later(PurgeRequest {
        ids: vec![done.clone(), running.clone()],
        ..Default::default()
    });
    assert!(answer.try_recv().is_err(), "answered while a run was live");
    assert_eq!(h.exec.stops().len(), 1);
    h.exec.end(&run, None);
    h.pump();
    let out = answer.try_recv().expect("answered").expect("purged");
    assert_eq!(out.deleted_count, 2);
    assert!(h.q.get(&done).is_err() && h.q.get(&running).is_err());
    assert!(!file.exists(), "{} left behind", file.display());
}
