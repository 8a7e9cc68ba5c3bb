//! `submit`'s confinement flags (see `crate::sandbox`).

use clap::Args;

#[derive(Debug, Args, Clone, Default)]
pub struct SandboxArgs {
    /// Confinement: `workspace` (it may write only in its workspace, its run directory, a private TMPDIR and its agent's own state, and cannot read ~/.ssh, ~/.aws, the daemon's root or other work orders' workspaces) or `off` [default: the agent type's: workspace for claude, codex and gemini, off for shell]
    #[arg(long, value_name = "MODE", value_parser = ["workspace", "off"])]
    pub sandbox: Option<String>,
    /// A confined run gets a network of its own with only loopback
    #[arg(long)]
    pub no_network: bool,
    /// A confined run may also write here (repeatable) [default: none]
    #[arg(long = "allow-path", value_name = "PATH")]
    pub allow_path: Vec<std::path::PathBuf>,
    /// The run fails if it leaves a file matching this glob in its workspace, e.g. '**/.env' (repeatable; AgentGate's forbiddenPatterns) [default: none]
    #[arg(long = "forbid", value_name = "GLOB")]
    pub forbid: Vec<String>,
}

impl SandboxArgs {
    /// The request's part (`None` when no flag was given).
    pub fn request(&self) -> Result<Option<crate::model::SandboxRequest>, String> {
        let mode = self
            .sandbox
            .as_deref()
            .map(str::parse::<crate::model::SandboxMode>)
            .transpose()?;
        let mut allowed_paths = Vec::new();
        for p in &self.allow_path {
            let abs =
                std::path::absolute(p).map_err(|e| format!("--allow-path {}: {e}", p.display()))?;
            allowed_paths.push(abs.to_string_lossy().into_owned());
        }
        let r = crate::model::SandboxRequest {
            mode,
            network: self.no_network.then_some(false),
            allowed_paths,
            forbidden_patterns: self.forbid.clone(),
        };
        Ok((!r.is_empty()).then_some(r))
    }
}
