//! The HTTP shim: AgentGate's REST API (`/api/v1/...`), its WebSocket (`/ws`)
//! and run event stream (SSE), as a thin door onto the same service the RPC
//! server uses. Parsing, envelopes and protocol framing live here; every
//! decision is the service's.
//!
//! `server` serves connections (limits, timeouts, shutdown), `front` is what
//! every request passes first (request id, CORS, key, body), `routes` /
//! `queue` / `runs` / `compat` / `profiles` / `health` are the REST routes,
//! `ws` and `sse` the live streams, `openapi` the document generated from the
//! routes' types.

mod auth;
mod compat;
mod cors;
mod dashboard;
mod envelope;
mod followup;
mod front;
mod health;
mod land;
mod mcp;
mod openapi;
mod ops;
mod parse;
mod profiles;
mod queue;
mod routes;
mod runs;
mod server;
mod sse;
mod submit_body;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::config::DaemonSettings;
use crate::service::Service;
use crate::service::doors::{Door, Shutdown};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub key: Arc<String>,
    pub cors: Arc<cors::Origins>,
    /// How long a client may take to send a request body.
    pub timeout: Duration,
    /// Becomes the deadline for in-flight work when shutdown begins; the
    /// WebSocket and SSE streams close on it.
    pub shutdown: Shutdown,
    /// WebSocket sessions, waited for (briefly) at shutdown.
    pub sessions: TaskTracker,
    /// Harness profiles, stored under the root.
    pub profiles: Arc<crate::store::profiles::ProfileStore>,
    /// What `/health` reports that is fixed at start.
    pub facts: Arc<health::Facts>,
    /// What clients of `/mcp` may do.
    pub mcp: Arc<crate::mcp::McpSettings>,
    /// The dashboard's cookie.
    pub dashboard: Arc<dashboard::Site>,
}

pub struct HttpHandle {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpHandle {
    /// Once the door's shutdown has begun: returns when every connection is
    /// closed (in-flight requests finish until its deadline).
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves until stopped. Refuses a non-loopback address unless
/// an API key was configured explicitly.
pub async fn start(
    addr: &str,
    settings: &DaemonSettings,
    service: Service,
    shutdown: Shutdown,
) -> Result<HttpHandle, String> {
    let sock: SocketAddr = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| format!("invalid --http address {addr:?}: {e} (use HOST:PORT, e.g. 127.0.0.1:3001, or `off`)"))?
        .next()
        .ok_or_else(|| format!("--http address {addr:?} resolves to nothing"))?;
    // Off loopback only with a key the user configured (a generated key is
    // not even created then).
    let loopback = sock.ip().is_loopback();
    let key = match auth::load_key(settings, loopback)? {
        Some(k) if loopback || k.explicit => k,
        _ => {
            return Err(format!(
                "refusing to serve HTTP on non-loopback address {sock} without an API key; set --api-key-file or AGENTGATE_API_KEY"
            ));
        }
    };
    let listener = TcpListener::bind(sock)
        .await
        .map_err(|e| format!("cannot bind HTTP address {sock}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read bound HTTP address: {e}"))?;
    let door = Door::new(
        server::effective_cap(settings.http_max_connections),
        shutdown.clone(),
    );
    let sessions = TaskTracker::new();
    let app = routes::router(AppState {
        service,
        key: Arc::new(key.value),
        cors: Arc::new(cors::Origins::new(&settings.cors_origins)),
        timeout: settings.http_timeout,
        shutdown,
        sessions: sessions.clone(),
        profiles: Arc::new(crate::store::profiles::ProfileStore::new(
            &settings.paths.root,
        )),
        facts: Arc::new(health::Facts::new(settings)),
        mcp: Arc::new(settings.mcp.clone()),
        dashboard: Arc::new(dashboard::Site::new(bound.port())),
    });
    let limits = server::Limits {
        header_timeout: settings.http_timeout,
    };
    let max_connections = door.max_connections();
    let task = tokio::spawn(async move {
        server::serve(listener, app, limits, door).await;
        sessions.close();
        let _ = tokio::time::timeout(Duration::from_millis(500), sessions.wait()).await;
    });
    tracing::info!(
        addr = %bound,
        max_connections,
        timeout_ms = limits.header_timeout.as_millis() as u64,
        "HTTP shim listening"
    );
    Ok(HttpHandle { addr: bound, task })
}
