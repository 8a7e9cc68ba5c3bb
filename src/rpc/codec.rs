//! The wire format, in one place: 4-byte big-endian length frames
//! (`LengthDelimitedCodec`, 16 MiB max) carrying bincode 2 (serde API). Swapping
//! bincode out means changing this module only.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::codec::LengthDelimitedCodec;

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot encode message: {0}")]
    Encode(String),
    #[error("malformed frame: {0}")]
    Decode(String),
}

pub fn framing() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(MAX_FRAME)
        .new_codec()
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
