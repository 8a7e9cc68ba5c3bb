//! `agentgate mcp`: the MCP server on stdio, for coding agents.

use clap::Args;

#[derive(Debug, Args, Clone)]
#[command(
    long_about = "Serve the Model Context Protocol on stdin/stdout, so a coding agent can \
queue, watch and land work through agentgate: tools submit, list, show, logs, wait, cancel, kill, \
continue, diff, merge and stats, and each work order's transcript as a resource \
(agentgate://work-orders/ID/transcript) with updates while it runs.\n\n\
It talks to the running daemon over its socket and starts nothing itself: while the daemon is down, \
every tool answers with an error saying so. Relative paths given to `submit` are taken from this \
process's working directory (the agent's).\n\n\
Add it to an agent:\n  \
claude mcp add agentgate -- agentgate mcp\n  \
codex mcp add agentgate -- agentgate mcp\n  \
gemini mcp add agentgate agentgate mcp\n\n\
The operator limits clients in the config file's [mcp] section: `allow` (the tools they may call; \
default all but kill and merge), `max_active` (work orders one session may have queued or running; \
default 10) and `labels` (stamped on what they submit, with the client's name; default [\"mcp\"]). \
The daemon serves the same server over Streamable HTTP at /mcp on its HTTP address, behind the API key."
)]
pub struct McpArgs {}
