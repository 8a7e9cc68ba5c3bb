//! The stale detector: no activity for the threshold stops the run as stale;
//! any change of its counters is activity.

use std::time::Duration;

use tokio::time::Instant;

use super::fixtures::Harness;
use crate::executor::Activity;
use crate::model::{ResultKind, Status};

fn activity(output_bytes: u64) -> Activity {
    Activity {
        output_bytes,
        ..Activity::default()
    }
}

/// One round of probes, answered.
fn check(h: &mut Harness) {
    h.q.stale_check();
    h.pump_until("the probes to come back", |h| !h.q.stale.probing);
}

/// The run was last active this long ago.
fn idle_for(h: &mut Harness, id: &str, d: Duration) {
    let live = h.q.runs.live.get_mut(id).expect("live");
    live.last_activity = Instant::now().checked_sub(d).expect("an earlier instant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_idle_past_the_threshold_is_stopped_as_stale() {
    let mut h = Harness::new(&["--stale-threshold", "10m"]);
    let a = h.submit("a", &[], 0);
    let run = h.run_of(&a);
    h.exec.agent_started(&run);
    h.exec.set_activity(&run, Some(activity(10)));
    check(&mut h);
    assert!(h.exec.stops().is_empty());
    // Same counters, and the last change long ago.
    idle_for(&mut h, &a, Duration::from_secs(11 * 60));
    check(&mut h);
    assert_eq!(h.exec.stops().len(), 1, "no stop for an idle run");
    h.exec.end(&run, None);
    h.pump();
    let wo = h.order(&a);
    assert_eq!(
        (wo.status, wo.result),
        (Status::Failed, Some(ResultKind::Stale))
    );
    assert!(wo.error.unwrap_or_default().contains("no activity"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_counters_are_activity() {
    let mut h = Harness::new(&["--stale-threshold", "10m"]);
    let a = h.submit("a", &[], 0);
    let run = h.run_of(&a);
    h.exec.set_activity(&run, Some(activity(10)));
    check(&mut h);
    idle_for(&mut h, &a, Duration::from_secs(11 * 60));
    // New output since: active again, not stale.
    h.exec.set_activity(&run, Some(activity(20)));
    check(&mut h);
    assert!(h.exec.stops().is_empty());
    assert_eq!(h.status(&a), Status::Running);
}
