//! `agentgate dashboard`: a one-time login token for the dashboard, and
//! `--logout-all`. Asked over the socket only (whose peer is the daemon's
//! user), so holding the socket is what lets a browser in; the HTTP door
//! has no route that mints a token.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::Reply;
use crate::service::dashboard::TOKEN_TTL;

/// A new one-time login token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardLogin {}

/// The token and how long it can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardToken {
    pub token: String,
    pub expires_in_seconds: u64,
}

impl Operation for DashboardLogin {
    type Output = DashboardToken;

    fn apply(self, q: &mut Queue, reply: Reply<DashboardToken>) {
        let token = q.dashboard().mint(std::time::Instant::now());
        let _ = reply.send(Ok(DashboardToken {
            token,
            expires_in_seconds: TOKEN_TTL.as_secs(),
        }));
    }
}

/// Ends every dashboard session (and voids unused tokens); answers how many
/// sessions ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardLogoutAll {}

impl Operation for DashboardLogoutAll {
    type Output = u64;

    fn apply(self, q: &mut Queue, reply: Reply<u64>) {
        let ended = q.dashboard().end_all();
        tracing::info!(sessions = ended, "dashboard sessions ended");
        let _ = reply.send(Ok(ended as u64));
    }
}
