//! Unit tests of the queue core, in-process against a scripted executor (no
//! process, no timer, no sleep): admission, dependencies, run lifecycle,
//! purge, recovery after a restart and stale detection. The black-box tests
//! through the real binary are in `tests/`.

mod admission;
mod deps;
mod fixtures;
mod journal;
mod lifecycle;
mod purge;
mod recovery;
mod stale;
