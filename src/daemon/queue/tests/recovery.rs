//! After a restart: running work is adopted, or gets its real end.

use serde_json::Map;

use super::fixtures::{Harness, Scripted};
use crate::executor::{Adopted, ExecHandle, ExecutorKind, RunEnd, RunExit};
use crate::model::Status;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_work_is_adopted_or_given_its_real_end() {
    let dir = tempfile::tempdir().unwrap();
    let live = Harness::running_order("liveorder001", "liverun0001", dir.path());
    let ended = Harness::running_order("endedorder01", "endedrun001", dir.path());
    let unknown = Harness::running_order("unknownorder", "unknownrun1", dir.path());
    let mut h = Harness::with_orders(
        dir,
        &[],
        vec![
            (live, Map::new()),
            (ended, Map::new()),
            (unknown, Map::new()),
        ],
    );
    // Loaded as they were: no follower hears of them, no hook fires again.
    assert!(h.changes().is_empty());
    let exec: Scripted = h.exec.clone();
    exec.script_adopt(
        "liverun0001",
        Adopted::Live(ExecHandle::new(
            ExecutorKind::Local,
            &serde_json::json!({"scripted": "liverun0001"}),
        )),
    );
    let mut end = RunEnd::lost(String::new());
    end.reason = crate::executor::EndReason::Exited;
    end.exit = Some(RunExit::Code(0));
    end.error = None;
    exec.script_adopt("endedrun001", Adopted::Ended(end));

    h.q.recover().await;
    h.pump();
    assert_eq!(h.status("liveorder001"), Status::Running);
    assert_eq!(h.status("endedorder01"), Status::Succeeded);
    // No trace of a run this executor started: not left running forever.
    assert!(h.status("unknownorder").is_terminal());
    // The adopted run's events are followed as before the restart.
    exec.end("liverun0001", Some(2));
    h.pump();
    let wo = h.order("liveorder001");
    assert_eq!((wo.status, wo.exit_code), (Status::Failed, Some(2)));
}
