//! What a work order asks of its confinement (`submit --sandbox`,
//! `--no-network`, `--allow-path`, `--forbid`; AgentGate's `policies`), and
//! what a run actually got. The mechanism is `crate::sandbox`.

use serde::{Deserialize, Serialize};

/// `workspace`: the run may write only in its workspace (and what the
/// agent needs) and cannot read others' credentials; `off`: unconfined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    Workspace,
    Off,
}

impl SandboxMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::Workspace => "workspace",
            SandboxMode::Off => "off",
        }
    }
}

impl std::str::FromStr for SandboxMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "workspace" => Ok(SandboxMode::Workspace),
            "off" => Ok(SandboxMode::Off),
            other => Err(format!("sandbox must be workspace or off, not {other:?}")),
        }
    }
}

/// A work order's own choices; unset ones come from its agent type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxRequest {
    /// `None`: the agent type's default.
    #[serde(default)]
    pub mode: Option<SandboxMode>,
    /// `Some(false)`: a network of its own with only loopback.
    #[serde(default)]
    pub network: Option<bool>,
    /// More places it may write (absolute paths).
    #[serde(default)]
    pub allowed_paths: Vec<String>,
    /// Globs of files that must not be in the workspace when the run ends
    /// (AgentGate's `policies.forbiddenPatterns`): a run leaving one fails.
    #[serde(default)]
    pub forbidden_patterns: Vec<String>,
}

impl SandboxRequest {
    pub fn is_empty(&self) -> bool {
        *self == SandboxRequest::default()
    }
}
