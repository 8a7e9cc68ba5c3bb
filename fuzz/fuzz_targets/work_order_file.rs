//! Fuzz target: see `checks::work_order_file`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::work_order_file(data));
