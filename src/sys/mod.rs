//! Low-level operating-system helpers shared by the daemon, the executors and
//! the per-run supervisor: /proc readers, pidfds, cgroups. Nothing here knows
//! about work orders.

pub mod cgroup;
pub mod mem;
pub mod pidfd;
pub mod proc;
