//! Understanding what coding agents print: their structured output formats
//! (today Claude Code's stream-json), turned into a readable transcript and
//! the agent's own result.

pub mod login;
pub mod stream_json;
