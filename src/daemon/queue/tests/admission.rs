//! When queued work starts, in which order, and why it waits.

use super::fixtures::Harness;
use crate::model::Status;
use crate::service::{ConfigChange, ShowRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slot_starts_in_arrival_order_and_the_next_on_each_end() {
    let mut h = Harness::new(&["--max-concurrent", "1"]);
    let a = h.submit("a", &[], 0);
    let b = h.submit("b", &[], 0);
    let c = h.submit("c", &[], 0);
    assert_eq!(h.status(&a), Status::Running);
    assert_eq!(
        (h.status(&b), h.status(&c)),
        (Status::Queued, Status::Queued)
    );
    // Its start was durable before its gate opened.
    let run_a = h.run_of(&a);
    assert!(h.exec.gate_open(&run_a));
    let why = h.call(ShowRequest { id: c.clone() }).unwrap().queued_reason;
    assert_eq!(why.as_deref(), Some("1 ahead in queue"), "{why:?}");

    h.exec.end(&run_a, Some(0));
    h.pump();
    assert_eq!(h.status(&a), Status::Succeeded);
    assert_eq!(h.status(&b), Status::Running);
    h.exec.end(&h.run_of(&b), Some(0));
    h.pump();
    assert_eq!(h.exec.started_orders(), vec![a, b, c.clone()]);
    assert_eq!(h.status(&c), Status::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_priority_goes_first() {
    let mut h = Harness::new(&["--max-concurrent", "1"]);
    let a = h.submit("a", &[], 0);
    let low = h.submit("low", &[], 0);
    let high = h.submit("high", &[], 5);
    let why = h
        .call(ShowRequest { id: low.clone() })
        .unwrap()
        .queued_reason;
    assert!(
        why.as_deref().is_some_and(|w| w.contains("priority")),
        "{why:?}"
    );
    h.exec.end(&h.run_of(&a), Some(0));
    h.pump();
    assert_eq!(h.status(&high), Status::Running);
    assert_eq!(h.status(&low), Status::Queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_work_and_resume_starts_it() {
    let mut h = Harness::new(&[]);
    let paused = h
        .call(ConfigChange {
            paused: Some(true),
            ..ConfigChange::default()
        })
        .unwrap();
    assert!(paused.paused);
    let a = h.submit("a", &[], 0);
    assert_eq!(h.status(&a), Status::Queued);
    let why = h.call(ShowRequest { id: a.clone() }).unwrap().queued_reason;
    assert_eq!(why.as_deref(), Some("paused"));
    assert!(h.exec.run_ids().is_empty());
    h.call(ConfigChange {
        paused: Some(false),
        ..ConfigChange::default()
    })
    .unwrap();
    assert_eq!(h.status(&a), Status::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_the_executor_refuses_fails_the_work_order() {
    let mut h = Harness::new(&[]);
    h.exec.fail_starts("no room on the cluster");
    let a = h.submit("a", &[], 0);
    let wo = h.order(&a);
    assert_eq!(wo.status, Status::Failed);
    let error = wo.error.unwrap_or_default();
    assert!(error.contains("no room on the cluster"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_more() {
    let mut h = Harness::new(&["--max-concurrent", "1", "--max-queue-size", "1"]);
    h.submit("runs", &[], 0);
    h.submit("waits", &[], 0);
    let refused = h
        .call(crate::service::SubmitRequest {
            task_prompt: "one too many".into(),
            agent_type: Some("shell".into()),
            workspace_source: Some(crate::model::WorkspaceInput {
                kind: Some("local".into()),
                path: Some(h.dir.path().display().to_string()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        refused.message.contains("queue is full"),
        "{}",
        refused.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_priority_reorders_queued_work_only() {
    use crate::service::SetPriorityRequest;
    let mut h = Harness::new(&["--max-concurrent", "1"]);
    let a = h.submit("a", &[], 0);
    let first = h.submit("first", &[], 0);
    let second = h.submit("second", &[], 0);
    let wo = h
        .call(SetPriorityRequest {
            id: second.clone(),
            priority: 3,
        })
        .unwrap();
    assert_eq!(wo.priority, 3);
    // Durable: the stored file has it.
    let stored = std::fs::read_to_string(h.q.store.work_order_path(&second)).unwrap();
    assert!(stored.contains("\"priority\": 3"), "{stored}");
    let refused = h
        .call(SetPriorityRequest {
            id: a.clone(),
            priority: 9,
        })
        .unwrap_err();
    assert!(
        refused.message.contains("queued work only"),
        "{}",
        refused.message
    );
    h.exec.end(&h.run_of(&a), Some(0));
    h.pump();
    assert_eq!(h.status(&second), Status::Running);
    assert_eq!(h.status(&first), Status::Queued);
}
