//! `agentgate dashboard`: asks the daemon for a one-time login token over
//! the socket and prints the dashboard's link with it (in the fragment, which
//! browsers never send to a server); `--logout-all` ends every session.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use super::{CliError, print_json};
use crate::cli::DashboardArgs;
use crate::config::Paths;
use crate::daemon::DaemonInfo;
use crate::ops::{DashboardLogin, DashboardLogoutAll};
use crate::rpc::client::Client;

pub async fn dashboard(paths: &Paths, args: DashboardArgs) -> Result<(), CliError> {
    let mut client = Client::connect(&paths.socket).await?;
    if args.logout_all {
        let ended = client.run(DashboardLogoutAll {}).await?;
        if args.json {
            print_json(&json!({ "sessionsEnded": ended }));
        } else {
            println!("ended {ended} dashboard session(s); unused login links no longer work");
        }
        return Ok(());
    }
    // The daemon answers first: its daemon.json is then its own.
    let base = base_url(&paths.root)?;
    let login = client.run(DashboardLogin {}).await?;
    let url = format!("{base}/#login={}", login.token);
    if args.json {
        print_json(&json!({ "url": url, "expiresInSeconds": login.expires_in_seconds }));
    } else {
        println!("{url}");
        eprintln!(
            "open it within {} s; it works once (run `agentgate dashboard` again for another)",
            login.expires_in_seconds
        );
    }
    if args.open {
        open(&url);
    }
    Ok(())
}

/// `http://ADDR` of the daemon's HTTP shim, from its daemon.json.
fn base_url(root: &Path) -> Result<String, CliError> {
    let info = DaemonInfo::read(root).ok_or_else(|| {
        CliError::Failed(format!(
            "cannot read {}: is the daemon for this root running?",
            root.join("daemon.json").display()
        ))
    })?;
    let addr = info.http_addr.ok_or_else(|| {
        CliError::Failed(
            "the daemon serves no HTTP (started with --http off): restart it with --http 127.0.0.1:3001 to use the dashboard"
                .to_string(),
        )
    })?;
    Ok(format!("http://{}", browsable(&addr)))
}

/// A listening address a browser can reach: a wildcard one is this host's loopback.
fn browsable(addr: &str) -> String {
    match addr.parse::<SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => {
            let port = a.port();
            if a.is_ipv6() {
                format!("[::1]:{port}")
            } else {
                format!("127.0.0.1:{port}")
            }
        }
        _ => addr.to_string(),
    }
}

/// Opens `url` in the default browser; a failure is told, not fatal (the
/// link is printed).
fn open(url: &str) {
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let program = browser.unwrap_or_else(|| {
        if cfg!(target_os = "macos") {
            "open".to_string()
        } else {
            "xdg-open".to_string()
        }
    });
    let spawned = Command::new(&program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("cannot open a browser with `{program}`: {e}; open the link above yourself");
    }
}

#[cfg(test)]
mod tests {
    use super::browsable;

    #[test]
    fn a_wildcard_address_is_browsed_on_loopback() {
        assert_eq!(browsable("0.0.0.0:3001"), "127.0.0.1:3001");
        assert_eq!(browsable("[::]:3001"), "[::1]:3001");
        assert_eq!(browsable("127.0.0.1:3001"), "127.0.0.1:3001");
    }
}
