//! Framed RPC over the Unix socket: `proto` (the messages), `codec` (the only
//! module that knows the byte format), `server` and `client`.

pub mod client;
pub mod codec;
pub mod proto;
pub mod server;
