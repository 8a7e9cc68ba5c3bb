//! What of the daemon's environment a run gets: all of it except the
//! daemon's own secrets and whatever the `env_remove` setting names. The
//! supervisor applies this to every process it starts (the clone, the agent),
//! and the daemon to the supervisor itself, whose environment an agent of the
//! same user could otherwise read in /proc.

use std::ffi::{OsStr, OsString};

/// The daemon's secrets: never passed on, whatever the settings say.
pub const SECRETS: [&str; 2] = ["AGENTGATE_API_KEY", "AGENTGATE_API_KEY_FILE"];

/// Whether `name` is withheld: a secret, or named by a pattern of
/// `env_remove` (a name, or a prefix followed by `*`, e.g. `AWS_*`).
pub fn withheld(name: &OsStr, patterns: &[String]) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    SECRETS.contains(&name)
        || patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
}

/// This process's environment without what is withheld.
pub fn passed_on(patterns: &[String]) -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(k, _)| !withheld(k, patterns))
        .collect()
}

/// Checks one `env_remove` pattern: a variable name, optionally ending in `*`.
pub fn check_pattern(p: &str) -> Result<(), String> {
    let name = p.strip_suffix('*').unwrap_or(p);
    if name.is_empty() && p != "*" {
        return Err("an empty name".into());
    }
    if name.contains(['=', '*', '\0']) {
        return Err(format!(
            "{p:?}: expected a variable name, or a prefix followed by * (e.g. AWS_*)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_patterns_are_withheld() {
        let p = vec!["MY_TOKEN".to_string(), "AWS_*".to_string()];
        for name in [
            "AGENTGATE_API_KEY",
            "AGENTGATE_API_KEY_FILE",
            "MY_TOKEN",
            "AWS_SECRET",
        ] {
            assert!(withheld(OsStr::new(name), &p), "{name}");
        }
        for name in ["PATH", "MY_TOKEN2", "AGENTGATE_ROOT", "XAWS_A"] {
            assert!(!withheld(OsStr::new(name), &p), "{name}");
        }
        assert!(check_pattern("AWS_*").is_ok());
        assert!(check_pattern("A=B").is_err());
        assert!(check_pattern("A*B").is_err());
        assert!(check_pattern("").is_err());
    }
}
