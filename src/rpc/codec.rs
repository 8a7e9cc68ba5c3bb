//! The wire format, in one place: 4-byte big-endian length frames (16 MiB
//! max) carrying bincode 2 (serde API). Swapping bincode out means changing
//! this module only.
//!
//! Frames are read incrementally: a declared length reserves nothing (unlike
//! `LengthDelimitedCodec`, which reserves it at once, so 60 connections each
//! declaring 15 MiB and sending one byte held 900 MiB). The read buffer grows
//! only with the bytes that actually arrive, and is let go after a big frame.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::codec::{Decoder, Encoder};

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot encode message: {0}")]
    Encode(String),
    #[error("malformed frame: {0}")]
    Decode(String),
}

/// Length of a frame's header: the payload's length, big-endian.
const HEADER: usize = 4;
/// A buffer left bigger than this once empty is given back (a big frame
/// must not pin its memory for the rest of a long connection).
const KEEP_CAPACITY: usize = 64 * 1024;

/// The framing both sides use; see the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct FrameCodec;

pub fn framing() -> FrameCodec {
    FrameCodec
}

/// A frame larger than `MAX_FRAME`: declared by the peer, or about to be sent.
fn too_big(len: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit"),
    )
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        let Some(header) = src.get(..HEADER) else {
            return Ok(None);
        };
        let mut len = [0u8; HEADER];
        len.copy_from_slice(header);
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME {
            return Err(too_big(len));
        }
        // Not whole yet: wait for more, reserving nothing for it.
        if src.len() < HEADER + len {
            return Ok(None);
        }
        src.advance(HEADER);
        let frame = src.split_to(len);
        if src.is_empty() && src.capacity() > KEEP_CAPACITY {
            *src = BytesMut::new();
        }
        Ok(Some(frame))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        if item.len() > MAX_FRAME {
            return Err(too_big(item.len()));
        }
        // What a big reply left behind goes before the next one is written.
        if dst.is_empty() && dst.capacity() > KEEP_CAPACITY {
            *dst = BytesMut::new();
        }
        dst.reserve(HEADER + item.len());
        dst.put_u32(item.len() as u32);
        dst.extend_from_slice(&item);
        Ok(())
    }
}

fn config() -> impl bincode::config::Config {
    // The limit stops a hostile length prefix inside a frame from allocating.
    bincode::config::standard().with_limit::<MAX_FRAME>()
}

pub fn encode<T: Serialize>(value: &T) -> Result<Bytes, CodecError> {
    let bytes = bincode::serde::encode_to_vec(value, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    if bytes.len() > MAX_FRAME {
        return Err(CodecError::Encode(format!(
            "message of {} bytes exceeds the {MAX_FRAME}-byte frame limit",
            bytes.len()
        )));
    }
    Ok(Bytes::from(bytes))
}

/// Decodes one whole frame; trailing bytes are an error.
pub fn decode<T: DeserializeOwned>(frame: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(frame, config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != frame.len() {
        return Err(CodecError::Decode(format!(
            "{} unexpected trailing bytes",
            frame.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_reserves_nothing() {
        let mut codec = FrameCodec;
        let mut buf = BytesMut::new();
        buf.put_u32(15 << 20);
        buf.put_u8(7);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() < 1024, "reserved {}", buf.capacity());
        let mut big = BytesMut::new();
        big.put_u32(MAX_FRAME as u32 + 1);
        assert!(codec.decode(&mut big).is_err());
    }

    #[test]
    fn frames_split_and_join() {
        let mut codec = FrameCodec;
        let mut wire = BytesMut::new();
        for payload in [&b"one"[..], b"", &[9u8; 100_000][..]] {
            codec
                .encode(Bytes::copy_from_slice(payload), &mut wire)
                .unwrap();
        }
        // Byte by byte, then what is left at once.
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in wire.split_to(10).iter() {
            buf.put_u8(*b);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        buf.extend_from_slice(&wire);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            got.push(f);
        }
        assert_eq!(got.len(), 3);
        assert_eq!(&got[0][..], b"one");
        assert!(got[1].is_empty());
        assert_eq!(got[2].len(), 100_000);
        assert!(buf.is_empty());
    }
}
