//! Fuzz target: see `checks::rpc_frames`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rpc_frames(data));
