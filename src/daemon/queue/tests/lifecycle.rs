//! A run from start to its one terminal state: exits, cancel, kill.

use super::fixtures::Harness;
use crate::model::{ResultKind, Status};
use crate::service::{CancelRequest, KillRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exit_code_decides_the_status() {
    let mut h = Harness::new(&[]);
    let ok = h.submit("ok", &[], 0);
    let bad = h.submit("bad", &[], 0);
    h.exec.agent_started(&h.run_of(&ok));
    h.exec.end(&h.run_of(&ok), Some(0));
    h.exec.end(&h.run_of(&bad), Some(3));
    h.pump();
    assert_eq!(h.status(&ok), Status::Succeeded);
    let wo = h.order(&bad);
    assert_eq!((wo.status, wo.exit_code), (Status::Failed, Some(3)));
    // Every change was broadcast, in order, once it was in place.
    let seen: Vec<_> = h
        .changes()
        .into_iter()
        .filter(|(id, _)| *id == ok)
        .collect();
    let statuses: Vec<_> = seen.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        statuses.first(),
        Some(&Some(Status::Running)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&Some(Status::Succeeded)),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_running_one_answers_once_its_run_has_ended() {
    let mut h = Harness::new(&[]);
    let a = h.submit("a", &[], 0);
    let run = h.run_of(&a);
    h.exec.agent_started(&run);
    h.pump();
    let mut answer = h.call_later(CancelRequest { id: a.clone() });
    assert!(answer.try_recv().is_err(), "answered before the run ended");
    assert_eq!(h.exec.stops().len(), 1);
    assert_eq!(h.exec.stops()[0].0, run);
    h.exec.end(&run, None);
    h.pump();
    let out = answer.try_recv().expect("answered").expect("canceled");
    assert!(out.was_running && out.killed, "{out:?}");
    assert_eq!(h.status(&a), Status::Canceled);
    // Before its agent started, nothing was stopped: it says so.
    let b = h.submit("b", &[], 0);
    let run_b = h.run_of(&b);
    let mut answer = h.call_later(CancelRequest { id: b.clone() });
    h.exec.end(&run_b, None);
    h.pump();
    let out = answer.try_recv().expect("answered").expect("canceled");
    assert!(out.was_running && !out.killed, "{out:?}");
    // A late exit of the same run changes nothing.
    h.exec.end(&run, Some(0));
    h.pump();
    assert_eq!(h.status(&a), Status::Canceled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_queued_one_means_it_never_starts() {
    let mut h = Harness::new(&["--max-concurrent", "1"]);
    let a = h.submit("a", &[], 0);
    let b = h.submit("b", &[], 0);
    let out = h.call(CancelRequest { id: b.clone() }).unwrap();
    assert!(!out.was_running);
    assert_eq!(h.status(&b), Status::Canceled);
    h.exec.end(&h.run_of(&a), Some(0));
    h.pump();
    assert_eq!(h.exec.started_orders(), vec![a]);
    // Twice is a refusal naming the state.
    let again = h.call(CancelRequest { id: b }).unwrap_err();
    assert!(
        again.message.contains("already canceled"),
        "{}",
        again.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_with_force_asks_for_no_grace() {
    let mut h = Harness::new(&[]);
    let a = h.submit("a", &[], 0);
    let run = h.run_of(&a);
    let mut answer = h.call_later(KillRequest {
        id: a.clone(),
        force: true,
        grace_ms: None,
        reason: Some("runaway".into()),
    });
    let stops = h.exec.stops();
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1.grace_ms, 0, "{:?}", stops[0].1);
    h.exec.end(&run, None);
    h.pump();
    let out = answer.try_recv().expect("answered").expect("killed");
    assert!(out.success);
    let wo = h.order(&a);
    assert_eq!(wo.status, Status::Canceled);
    assert_eq!(wo.result, Some(ResultKind::Killed));
}
