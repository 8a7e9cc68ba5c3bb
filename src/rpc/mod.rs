//! Framed RPC over the Unix socket: `proto` (the messages), `codec` (the only
//! module that knows the byte format), `server` and `client`, and `follow` (the
//! streaming `logs` and `wait` requests).

pub mod client;
pub mod codec;
pub mod follow;
pub mod proto;
pub mod server;
