//! `--after`: waiting for dependencies, starting on success, cascading failure.

use super::fixtures::Harness;
use crate::model::{ResultKind, Status};
use crate::service::{ShowRequest, SubmitRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependent_waits_then_starts_when_its_dependency_succeeds() {
    let mut h = Harness::new(&[]);
    let a = h.submit("a", &[], 0);
    let b = h.submit("b", &[&a], 0);
    assert_eq!(h.status(&b), Status::Queued);
    let why = h.call(ShowRequest { id: b.clone() }).unwrap().queued_reason;
    assert!(why.as_deref().is_some_and(|w| w.contains(&a)), "{why:?}");
    h.exec.end(&h.run_of(&a), Some(0));
    h.pump();
    assert_eq!(h.status(&b), Status::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_cancels_the_whole_chain_behind_it() {
    let mut h = Harness::new(&[]);
    let a = h.submit("a", &[], 0);
    let b = h.submit("b", &[&a], 0);
    let c = h.submit("c", &[&b], 0);
    h.exec.end(&h.run_of(&a), Some(1));
    h.pump();
    assert_eq!(h.status(&a), Status::Failed);
    for id in [&b, &c] {
        let wo = h.order(id);
        assert_eq!(wo.status, Status::Canceled, "{id}");
        assert_eq!(wo.result, Some(ResultKind::DependencyFailed), "{id}");
    }
    // Neither ever reached the executor.
    assert_eq!(h.exec.started_orders(), vec![a]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_dependencies_are_refused() {
    let mut h = Harness::new(&[]);
    let e = h
        .call(SubmitRequest {
            task_prompt: "x".into(),
            agent_type: Some("shell".into()),
            workspace_source: Some(crate::model::WorkspaceInput {
                kind: Some("local".into()),
                path: Some(h.dir.path().display().to_string()),
                ..Default::default()
            }),
            depends_on: vec!["nosuchorder1".into()],
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.message.contains("nosuchorder1"), "{}", e.message);
    assert!(h.exec.run_ids().is_empty());
}
