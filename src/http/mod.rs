//! The HTTP shim: AgentGate's REST API (`/api/v1/...`) as a thin door onto the
//! same service the RPC server uses. Parsing and envelopes live here; every
//! decision is the service's.

mod auth;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::DaemonSettings;
use crate::service::Service;

pub struct HttpHandle {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves until stopped. Refuses a non-loopback address unless
/// an API key was configured explicitly.
pub async fn start(
    addr: &str,
    settings: &DaemonSettings,
    service: Service,
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
    let app = routes::router(routes::AppState {
        service,
        key: Arc::new(key.value),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    tracing::info!(addr = %bound, "HTTP shim listening");
    Ok(HttpHandle {
        addr: bound,
        stop,
        task,
    })
}
