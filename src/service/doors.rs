//! What both front doors (the RPC socket, the HTTP shim) share: one cap on
//! open connections each, and one shutdown. As in tokio's mini-redis
//! (`Listener` with a semaphore, a shutdown signal, a wait for every
//! connection), but with a deadline: at shutdown a door stops accepting,
//! closes connections with nothing in flight at once, lets requests in
//! flight finish until the deadline, then drops whatever is left.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

/// Starts the shutdown of every door made from it.
pub struct ShutdownTrigger(watch::Sender<Option<Instant>>);

/// The shutdown signal a door, each connection and each stream (WebSocket,
/// SSE) watch: `None` while serving, then the deadline for work in flight.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<Option<Instant>>);

/// A trigger and the signal it drives.
pub fn shutdown() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(None);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Every door stops accepting; work in flight may go on until `deadline`.
    pub fn begin(&self, deadline: Instant) {
        let _ = self.0.send(Some(deadline));
    }
}

impl Shutdown {
    /// Shutdown has begun (its deadline), without waiting.
    pub fn deadline_now(&self) -> Option<Instant> {
        *self.0.borrow()
    }

    /// Waits until shutdown begins; its deadline (now, if the trigger is gone).
    pub async fn deadline(&mut self) -> Instant {
        loop {
            if let Some(d) = *self.0.borrow_and_update() {
                return d;
            }
            if self.0.changed().await.is_err() {
                return Instant::now();
            }
        }
    }
}

/// A connection's place under a door's cap; clones share it (an HTTP
/// connection upgraded to a WebSocket keeps its place through the session).
#[derive(Clone)]
pub struct ConnPermit(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// One door's connections: at most `max` open, each a tracked task, all
/// ending with the door's shutdown.
#[derive(Clone)]
pub struct Door {
    slots: Arc<Semaphore>,
    max: usize,
    tracker: TaskTracker,
    shutdown: Shutdown,
}

impl Door {
    pub fn new(max_connections: usize, shutdown: Shutdown) -> Door {
        let max = max_connections.max(1);
        Door {
            slots: Arc::new(Semaphore::new(max)),
            max,
            tracker: TaskTracker::new(),
            shutdown,
        }
    }

    pub fn max_connections(&self) -> usize {
        self.max
    }

    /// A place for one more connection, or `None` when the door is full.
    pub fn admit(&self) -> Option<ConnPermit> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| ConnPermit(Arc::new(p)))
    }

    /// Serves one connection (or stream) as a task the shutdown waits for.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// The signal connections watch.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// After accepting has stopped: waits for every connection, at most until
    /// `deadline` (and a short backstop past it).
    pub async fn drain(&self, deadline: Instant) {
        self.tracker.close();
        let backstop = deadline + std::time::Duration::from_millis(200);
        let _ = tokio::time::timeout_at(backstop, self.tracker.wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn cap_and_drain() {
        let (trigger, signal) = shutdown();
        let door = Door::new(2, signal);
        let a = door.admit().expect("first");
        let b = door.admit().expect("second");
        assert!(door.admit().is_none(), "over the cap");
        let a2 = a.clone();
        drop(a);
        assert!(door.admit().is_none(), "a clone keeps the place");
        drop(a2);
        assert!(door.admit().is_some(), "place given back");
        drop(b);

        // A connection that ends when shutdown begins, and one that ignores it.
        let mut s = door.shutdown();
        door.spawn(async move {
            s.deadline().await;
        });
        door.spawn(std::future::pending());
        let deadline = Instant::now() + Duration::from_millis(50);
        trigger.begin(deadline);
        let started = Instant::now();
        door.drain(deadline).await;
        // The stubborn one was dropped at the backstop, not waited for.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(door.shutdown().deadline_now(), Some(deadline));
    }
}
