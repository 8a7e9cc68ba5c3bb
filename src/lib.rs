//! agentgate: queue and supervise long-running coding-agent processes.
//!
//! Layout: `agent` (agents' output formats), `cli` (flags), `config` (settings and paths), `land` (a worktree's
//! diff, merge and discard with git), `model` (work orders,
//! statuses, workspace sources), `ops` (one module per operation: request,
//! checks, effect on the queue), `store` (durable files), `daemon` (queue actor,
//! health), `executor` (how runs are started, adopted, stopped and probed),
//! `supervisor` (the per-run supervising process), `sys` (/proc, pidfds,
//! cgroups), `service` (the one API both doors call), `rpc` (Unix-socket door),
//! `http` (AgentGate REST door), `client` (commands and rendering), `man`
//! (man pages).

pub mod agent;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod executor;
pub mod http;
pub mod land;
pub mod man;
pub mod mcp;
pub mod model;
pub mod ops;
pub mod rpc;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod supervisor;
pub mod sys;
