//! Executors as the model sees them: which one runs a run (a name), and the
//! opaque handle it persists to find the run again. Both belong to
//! `executor`, which alone reads what is inside.

pub use crate::executor::{ExecHandle, ExecutorKind};
