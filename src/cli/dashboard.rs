//! `agentgate dashboard`: a login link for the dashboard the daemon serves.

use clap::Args;

#[derive(Debug, Args, Clone)]
#[command(
    long_about = "Print a link that logs a browser into the dashboard the daemon serves on its HTTP \
address: the queue live, each work order's transcript, diff and actions, a submit form, health and \
usage.\n\n\
The link holds a one-time token that works once, within 2 minutes; the browser exchanges it for a \
session cookie (HttpOnly, SameSite=Strict) and the link stops working. The API key never reaches the \
page. A session ends when the daemon stops, after it is unused for the daemon's --dashboard-idle \
(default 12h), or with --logout-all.\n\n\
Examples:\n  \
agentgate dashboard            # print the link\n  \
agentgate dashboard --open     # and open it in the default browser ($BROWSER, else xdg-open)\n  \
agentgate dashboard --logout-all"
)]
pub struct DashboardArgs {
    /// Also open the link in the default browser ($BROWSER, else xdg-open or open)
    #[arg(long, conflicts_with = "logout_all")]
    pub open: bool,
    /// End every dashboard session (and void unused links) instead
    #[arg(long)]
    pub logout_all: bool,
    /// Print the answer as JSON ({"url", "expiresInSeconds"} or {"sessionsEnded"})
    #[arg(long)]
    pub json: bool,
}
