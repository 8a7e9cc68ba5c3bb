//! The properties the fuzz targets check, shared with the ordinary test
//! suite (`tests/fuzz_regressions.rs` replays every seed and every input a
//! fuzzer ever found through them).

// Each fuzz target uses one of these.
#![allow(dead_code)]

use agentgate::model::units::{format_duration, format_size, parse_duration, parse_size};
use agentgate::model::{SharedWorkOrder, WorkOrder, WorkspaceInput, WorkspaceSource};
use agentgate::rpc::codec::{FrameCodec, decode, encode};
use agentgate::rpc::proto::{ClientFrame, ServerFrame};
use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// Bytes from a client (the first byte: how many arrive at a time) through
/// the frame decoder, each frame decoded as the daemon decodes requests and
/// the CLI answers. Nothing panics or allocates from a declared length;
/// what decodes encodes back to the same message.
pub fn rpc_frames(data: &[u8]) {
    let Some((&step, wire)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut codec = FrameCodec;
    let mut buf = BytesMut::new();
    for piece in wire.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => frame_round_trips(&frame),
                Ok(None) => break,
                Err(_) => return, // the connection is closed
            }
        }
        // Only what arrived is held, never a declared length.
        assert!(buf.capacity() <= wire.len().max(8 * 1024) * 2 + 64);
    }
}

/// What decodes encodes, and decodes again to the same encoding. Compared
/// as bytes, not values: a decoded float may be NaN, which equals nothing.
fn frame_round_trips(frame: &[u8]) {
    if let Ok(msg) = decode::<ClientFrame>(frame) {
        let again = encode(&msg).expect("a decoded request encodes");
        let back = decode::<ClientFrame>(&again).expect("round trip");
        assert_eq!(encode(&back).expect("encodes again"), again);
    }
    if let Ok(msg) = decode::<ServerFrame>(frame) {
        let again = encode(&msg).expect("a decoded answer encodes");
        let back = decode::<ServerFrame>(&again).expect("round trip");
        assert_eq!(encode(&back).expect("encodes again"), again);
    }
}

/// The work-order file loader: a file is rejected with a reason or loaded
/// with its numbers in range; what loads is written back and loads again to
/// the same work order, with nothing left to clamp.
pub fn work_order_file(data: &[u8]) {
    let Ok(checked) = WorkOrder::from_json_slice_checked(data) else {
        return;
    };
    let wo = &checked.work_order;
    assert!((1..=604_800).contains(&wo.max_time));
    assert!((1..=10_000).contains(&wo.max_iterations));
    let written = wo.to_json_pretty_with(&checked.extra);
    let again = WorkOrder::from_json_slice_checked(&written)
        .unwrap_or_else(|e| panic!("rewritten file does not load: {e}"));
    assert_eq!(&again.work_order, wo);
    assert!(again.notes.is_empty(), "clamped twice: {:?}", again.notes);
    let shared = SharedWorkOrder::new(wo.clone());
    let api: serde_json::Value = serde_json::from_str(&shared.api_json()).expect("api json");
    assert_eq!(api, wo.to_json());
}

/// Duration and size parsing (flags, config, `--max-time`) on any text.
pub fn units(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(text) {
        let _ = format_duration(d);
    }
    if let Ok(n) = parse_size(text) {
        assert!(!format_size(n).is_empty());
    }
}

/// Workspace-source normalisation (submit's `workspaceSource`, stored
/// sources of older data): accepted or refused with a reason; what is
/// accepted is stored and reads back as the same source.
pub fn workspace_source(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(input) = serde_json::from_value::<WorkspaceInput>(value.clone()) {
        for owner in [None, Some("acme")] {
            if let Ok(source) = input.normalise(owner) {
                let stored = source.to_json();
                let back = WorkspaceSource::from_stored_json(&stored)
                    .unwrap_or_else(|e| panic!("stored source does not read back: {e}"));
                assert_eq!(back, source, "stored as {stored}");
                let _ = source.describe();
            }
        }
    }
    if let Ok(source) = WorkspaceSource::from_stored_json(&value) {
        let _ = source.to_json();
        let _ = source.describe();
    }
}

/// The submit journal's reader (what a start replays): whatever the bytes,
/// the records it returns lie within them, back to back from offset 0, and
/// reading just the bytes they span gives the same records.
pub fn journal(data: &[u8]) {
    use agentgate::store::journal::{RECORD_HEADER, records};
    let found = records(data);
    let mut at = 0usize;
    for payload in &found {
        let start = at + RECORD_HEADER;
        assert_eq!(&data[start..start + payload.len()], *payload);
        at = start + payload.len();
    }
    assert!(at <= data.len());
    assert_eq!(records(&data[..at]), found);
}
