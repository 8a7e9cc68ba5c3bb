//! The operator's guard rails for MCP clients (`[mcp]` in the config file):
//! which tools they may call, how many work orders one session may have
//! waiting or running, and the labels stamped on what they submit.

use serde::Deserialize;

use crate::config::ConfigError;

/// Every tool the server offers, in the order `tools/list` shows them.
pub const TOOLS: &[&str] = &[
    "submit", "list", "show", "logs", "wait", "cancel", "kill", "continue", "diff", "merge",
    "stats",
];

/// Tools left out unless the operator allows them: they stop or land work
/// that a person may still want to look at first.
const NOT_BY_DEFAULT: &[&str] = &["kill", "merge"];

/// The `[mcp]` section as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpFile {
    pub allow: Option<Vec<String>>,
    pub max_active: Option<u32>,
    pub labels: Option<Vec<String>>,
}

/// The `[mcp]` section, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpSettings {
    /// The tools clients may call (a subset of `TOOLS`).
    pub allow: Vec<String>,
    /// Most work orders one session may have queued or running (0: no limit).
    pub max_active: u32,
    /// Stamped on every work order an MCP client submits, with the client's name.
    pub labels: Vec<String>,
}

impl Default for McpSettings {
    fn default() -> McpSettings {
        McpSettings {
            allow: TOOLS
                .iter()
                .filter(|t| !NOT_BY_DEFAULT.contains(t))
                .map(|t| t.to_string())
                .collect(),
            max_active: 10,
            labels: vec!["mcp".to_string()],
        }
    }
}

impl McpSettings {
    pub fn resolve(file: Option<&McpFile>) -> Result<McpSettings, ConfigError> {
        let mut s = McpSettings::default();
        let Some(file) = file else {
            return Ok(s);
        };
        if let Some(allow) = &file.allow {
            for t in allow {
                if !TOOLS.contains(&t.as_str()) {
                    return Err(ConfigError::Value {
                        name: "mcp.allow".into(),
                        message: format!("no tool {t:?}; the tools are {}", TOOLS.join(", ")),
                    });
                }
            }
            s.allow = allow.clone();
        }
        if let Some(n) = file.max_active {
            s.max_active = n;
        }
        if let Some(labels) = &file.labels {
            if let Some(bad) = labels.iter().find(|l| !valid_label(l)) {
                return Err(ConfigError::Value {
                    name: "mcp.labels".into(),
                    message: format!(
                        "label {bad:?} is not valid: use 1-64 letters, digits or . _ : / = + @ -"
                    ),
                });
            }
            s.labels = labels.clone();
        }
        Ok(s)
    }

    pub fn allows(&self, tool: &str) -> bool {
        self.allow.iter().any(|t| t == tool)
    }
}

fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 64
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/=+@-".contains(&b))
}

/// A label made of a client's self-given name: lower case, anything a label
/// cannot hold turned into `-`, at most 64 bytes (`None`: nothing left).
pub fn name_label(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        let keep = c.is_ascii_alphanumeric() || "._:/=+@-".contains(c);
        out.push(if keep { c } else { '-' });
        if out.len() >= 64 {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_leave_out_kill_and_merge() {
        let s = McpSettings::default();
        assert!(s.allows("submit") && s.allows("wait") && s.allows("diff"));
        assert!(!s.allows("kill") && !s.allows("merge"));
    }

    #[test]
    fn an_unknown_tool_is_refused_naming_the_tools() {
        let f = McpFile {
            allow: Some(vec!["submit".into(), "rm".into()]),
            ..Default::default()
        };
        let e = McpSettings::resolve(Some(&f)).unwrap_err().to_string();
        assert!(
            e.contains("mcp.allow") && e.contains("\"rm\"") && e.contains("submit"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_label_is_refused() {
        let f = McpFile {
            labels: Some(vec!["has space".into()]),
            ..Default::default()
        };
        assert!(McpSettings::resolve(Some(&f)).is_err());
    }

    #[test]
    fn client_names_become_labels() {
        assert_eq!(name_label("Claude Code").as_deref(), Some("claude-code"));
        assert_eq!(name_label("  ").as_deref(), None);
        assert_eq!(name_label("a/b@1.0").as_deref(), Some("a/b@1.0"));
        assert_eq!(name_label(&"x".repeat(100)).map(|s| s.len()), Some(64));
    }
}
