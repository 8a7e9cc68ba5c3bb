//! The MCP server: coding agents queue, watch and land work through
//! agentgate with the Model Context Protocol (the official Rust SDK, `rmcp`,
//! does the protocol). Two doors, one server: `agentgate mcp` on stdio (a
//! client of the daemon's socket, started by the agent's MCP configuration)
//! and `/mcp` on the HTTP shim (Streamable HTTP, behind the API key). Each
//! tool is one or two typed calls through `Backend` (`tools`); each work
//! order's transcript is a resource with updates while it runs
//! (`transcript`); the operator's `[mcp]` section limits what clients may do
//! (`settings`).

pub mod backend;
pub mod settings;
pub mod tools;
mod transcript;

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::model::*;
use rmcp::service::{RequestContext, RoleServer, SubscriptionContext};
use rmcp::{ErrorData as McpError, ServerHandler};

pub use backend::Backend;
pub use settings::{McpFile, McpSettings};

/// Told to every client at initialisation: how the tools fit together.
const INSTRUCTIONS: &str = "agentgate queues and supervises coding-agent work orders. \
Split a large task into independent work orders and `submit` each (with `worktree: true` \
in a git repository, so each gets a branch of its own), `wait` for them (progress is \
reported as each ends), read `logs` or `show` for what each did, review with `diff`, and \
land with `merge` where allowed. Work orders survive this session: their ids stay valid.";

/// One MCP session's server (stdio: the process; HTTP: one per session).
#[derive(Clone)]
pub struct McpServer {
    backend: Backend,
    settings: Arc<McpSettings>,
    /// Over stdio: the agent's working directory (relative paths).
    cwd: Option<PathBuf>,
    /// Over stdio: this process's session; over HTTP, read per request.
    session: Option<String>,
    subscriptions: transcript::Subscriptions,
}

impl McpServer {
    /// The stdio server of `agentgate mcp`: a client of the daemon's socket.
    pub fn stdio(socket: PathBuf, settings: McpSettings) -> McpServer {
        McpServer {
            backend: Backend::Socket(socket),
            settings: Arc::new(settings),
            cwd: std::env::current_dir().ok(),
            session: Some(nanoid::nanoid!(10, &ALPHABET)),
            subscriptions: transcript::Subscriptions::default(),
        }
    }

    /// A server inside the daemon (`/mcp`).
    pub fn daemon(service: crate::service::Service, settings: Arc<McpSettings>) -> McpServer {
        McpServer {
            backend: Backend::Daemon(service),
            settings,
            cwd: None,
            session: None,
            subscriptions: transcript::Subscriptions::default(),
        }
    }

    /// The label of this request's session: over stdio the process's own;
    /// over HTTP the `Mcp-Session-Id` of a 2025-era session, else (the
    /// sessionless 2026 protocol) the client's name.
    fn session_label(&self, ctx: &RequestContext<RoleServer>) -> String {
        if let Some(s) = &self.session {
            return format!("mcp-session:{s}");
        }
        let header = ctx
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map(|s| {
                s.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(40)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty());
        match header {
            Some(s) => format!("mcp-session:{s}"),
            None => format!(
                "mcp-session:{}",
                client_label(ctx).unwrap_or_else(|| "anonymous".into())
            ),
        }
    }
}

const ALPHABET: [char; 32] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'j',
    'k', 'm', 'n', 'p', 'q', 'r', 's', 't', 'v', 'w', 'x', 'y', 'z',
];

/// The client's name (from its initialize request or, in the 2026
/// protocol, the request's metadata) as a label.
fn client_label(ctx: &RequestContext<RoleServer>) -> Option<String> {
    ctx.client_info()
        .and_then(|info| settings::name_label(&info.name))
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(Implementation::new("agentgate", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = tools::all()
            .into_iter()
            .filter(|t| self.settings.allows(&t.name))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let session_label = self.session_label(&context);
        let client = client_label(&context);
        let call = tools::Call {
            backend: &self.backend,
            settings: &self.settings,
            session_label: &session_label,
            client_label: client.as_deref(),
            cwd: self.cwd.as_deref(),
        };
        let token = context.meta.get_progress_token();
        let peer = context.peer.clone();
        let progress = move |done: f64, total: f64, message: String| -> BoxFuture<'static, ()> {
            let (token, peer) = (token.clone(), peer.clone());
            Box::pin(async move {
                if let Some(token) = token {
                    let mut p = ProgressNotificationParam::new(token, done);
                    p.total = Some(total);
                    p.message = Some(message);
                    let _ = peer.notify_progress(p).await;
                }
            })
        };
        let run = tools::call(&call, &request.name, request.arguments, &progress);
        // A client's cancellation ends the call (a `wait` stops waiting).
        let result = tokio::select! {
            r = run => r,
            _ = context.ct.cancelled() => CallToolResult::error(vec![ContentBlock::text("canceled by the client")]),
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        transcript::list(&self.backend).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            transcript::template(),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        transcript::read(&self.backend, &request.uri)
            .await
            .map(Into::into)
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions
            .subscribe(&self.backend, request.uri, context.peer.clone())
            .await
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions.unsubscribe(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.supported_by(&self.get_info().capabilities))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        transcript::listen(&self.backend, context).await
    }
}

/// `agentgate mcp`: serves MCP on stdin/stdout until the client closes it.
pub async fn serve_stdio(socket: PathBuf, settings: McpSettings) -> Result<(), String> {
    use rmcp::ServiceExt;
    let server = McpServer::stdio(socket, settings);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP session failed to start: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("MCP session failed: {e}"))?;
    Ok(())
}
