//! New work orders enter the queue: a fresh id, the queue-size limit, and
//! either one durable write as queued or, free to start at once, one as
//! running. What a new work order is checked against is its operation's
//! (`ops::submit`, `ops::continue_session`, `ops::restart`).

use super::Actor;
use crate::model::{WorkOrder, new_id};
use crate::service::ServiceError;

impl Actor {
    /// A new id no held work order has.
    pub(crate) fn new_work_order_id(&self) -> String {
        let mut id = new_id();
        while self.entries.contains_key(&id) {
            id = new_id();
        }
        id
    }

    /// A new work order (built by `ops::submit`, continue or restart) goes to
    /// the queue, or straight to a free slot; refused if the queue is full.
    pub(crate) fn admit_new(&mut self, wo: WorkOrder) -> Result<WorkOrder, ServiceError> {
        let max_queue = self.settings.max_queue_size;
        let waiting = self.waiting.len();
        if max_queue > 0 && waiting as u64 >= max_queue {
            return Err(ServiceError::unavailable(format!(
                "the queue is full: {waiting} work orders waiting (max_queue_size {max_queue}); wait for some to start, cancel some, or raise --max-queue-size"
            )));
        }
        tracing::info!(work_order = %wo.id, agent = %wo.agent_type, parent = ?wo.more.parent_id, after = ?wo.more.depends_on, priority = wo.priority, "submitted");
        // Free to start, a free slot and nobody ahead: store it already
        // running, one durable write on the submit-to-running path instead of two.
        if self.may_start_at_once(&wo) {
            let id = wo.id.clone();
            self.begin_run(wo, false)?;
            return self.get(&id).cloned();
        }
        self.commit(wo.clone())?;
        Ok(wo)
    }
}
