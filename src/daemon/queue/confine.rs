//! How a run is confined (`crate::sandbox`): which mode a work order gets,
//! the plan its supervisor applies, and what `queue show` says it got.

use super::Actor;
use crate::config::AgentConfig;
use crate::executor::files::Workspace;
use crate::model::{SandboxMode, WorkOrder};
use crate::sandbox::Plan;

/// How a work order's runs are confined: its own choice, else the daemon's
/// (`--sandbox`), else its agent type's, else off.
pub(crate) fn sandbox_mode(
    wo: &WorkOrder,
    agent: &AgentConfig,
    daemon: Option<SandboxMode>,
) -> SandboxMode {
    wo.more
        .sandbox
        .as_ref()
        .and_then(|s| s.mode)
        .or(daemon)
        .or(agent.sandbox)
        .unwrap_or(SandboxMode::Off)
}

impl Actor {
    /// The confinement of a run of `wo` in `ws` (`None`: unconfined), or why
    /// this host cannot give the one asked for.
    pub(super) fn sandbox_plan(
        &self,
        wo: &WorkOrder,
        agent: &AgentConfig,
        ws: &Workspace,
        run_dir: &std::path::Path,
    ) -> Result<Option<Plan>, String> {
        if sandbox_mode(wo, agent, self.settings.sandbox) != SandboxMode::Workspace {
            return Ok(None);
        }
        // The API key may live outside the root.
        let hide: Vec<String> = (self.settings.sandbox_hide.iter().cloned())
            .chain((self.settings.api_key_file.iter()).map(|p| p.to_string_lossy().into_owned()))
            .collect();
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let plan = crate::sandbox::plan::for_run(&crate::sandbox::plan::Inputs {
            home: home.as_deref(),
            root: &self.settings.paths.root,
            workspace: ws,
            run_dir,
            agent_writes: &agent.sandbox_write,
            hide: &hide,
            request: wo.more.sandbox.as_deref(),
            landlock: self.settings.sandbox_landlock,
        });
        let netns = (self.settings.sandbox_support.as_ref()).is_none_or(|s| s.network_namespaces);
        if !plan.network && !netns {
            return Err("cannot cut the run off the network: this host does not let a process have a network namespace of its own (user namespaces disabled?); allow the network, or run it unconfined with `--sandbox off`".into());
        }
        Ok(Some(plan))
    }

    /// What a starting run of `wo` gets, in a line (`queue show`).
    pub(super) fn sandbox_applied(&self, wo: &WorkOrder) -> Option<String> {
        let agent = self.settings.agents.get(&wo.agent_type)?;
        if sandbox_mode(wo, agent, self.settings.sandbox) == SandboxMode::Off {
            return Some("off".into());
        }
        let network = wo
            .more
            .sandbox
            .as_ref()
            .and_then(|s| s.network)
            .unwrap_or(true);
        let abi = (self.settings.sandbox_support.as_ref()).and_then(|s| s.applied_abi());
        let fs = abi.map_or("landlock".to_string(), |v| format!("landlock v{v}"));
        Some(format!(
            "workspace ({fs}, {})",
            if network { "network on" } else { "network off" }
        ))
    }
}
