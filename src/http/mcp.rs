//! `/mcp`: the MCP server (`crate::mcp`) over Streamable HTTP, behind the
//! API key like every route of the API (the `front` checks it first). Each
//! 2025-era session gets a server of its own; 2026 clients are served
//! without sessions. Streams end when the daemon begins to shut down.

use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::mcp::McpServer;

pub type McpService = StreamableHttpService<McpServer, LocalSessionManager>;

pub fn service(st: &AppState) -> McpService {
    let stop = CancellationToken::new();
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        let (mut shutdown, stop) = (st.shutdown.clone(), stop.clone());
        rt.spawn(async move {
            shutdown.deadline().await;
            stop.cancel();
        });
    }
    // The Host check guards servers without credentials against DNS
    // rebinding; this one needs the API key, and may be served off loopback.
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_cancellation_token(stop);
    let (service, settings) = (st.service.clone(), st.mcp.clone());
    StreamableHttpService::new(
        move || Ok(McpServer::daemon(service.clone(), Arc::clone(&settings))),
        Default::default(),
        config,
    )
}
