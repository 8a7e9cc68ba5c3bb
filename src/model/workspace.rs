//! Workspace sources: what a client may send (`WorkspaceInput`, every accepted
//! form) and the normalised form stored on a work order (`WorkspaceSource`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ModelError;

/// The accepted forms, named in every error so the caller knows the fix.
pub const ACCEPTED_FORMS: &str = "accepted workspace sources: {\"type\":\"local\",\"path\":\"/abs/dir\"}; \
{\"type\":\"github\",\"url\":\"https://github.com/OWNER/REPO\"}; \
{\"type\":\"github\",\"owner\":\"OWNER\",\"repo\":\"REPO\"}; \
{\"type\":\"github\",\"repo\":\"OWNER/REPO\"}; \
{\"type\":\"github\",\"repo\":\"REPO\"} with AGENTGATE_GITHUB_OWNER set; \
{\"type\":\"git\",\"url\":\"ANY-GIT-URL\"}";

/// A workspace source as a client sent it, before normalisation. Plain fields only,
/// so it travels over bincode; the HTTP shim deserialises the same shape from JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceInput {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
}

/// The normalised, stored workspace source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkspaceSource {
    Local {
        path: String,
    },
    Github {
        owner: String,
        repo: String,
        branch: Option<String>,
    },
    Git {
        url: String,
        branch: Option<String>,
    },
    /// A source type written by older AgentGate data (`github-new`, `fresh`, ...):
    /// kept verbatim (as JSON text) so a rewrite loses nothing; not runnable here.
    Other {
        kind: String,
        json: String,
    },
}

impl WorkspaceSource {
    pub fn kind(&self) -> &str {
        match self {
            WorkspaceSource::Local { .. } => "local",
            WorkspaceSource::Github { .. } => "github",
            WorkspaceSource::Git { .. } => "git",
            WorkspaceSource::Other { kind, .. } => kind,
        }
    }

    /// True when the daemon clones this source into `<root>/workspaces/<id>`.
    pub fn is_cloned(&self) -> bool {
        matches!(
            self,
            WorkspaceSource::Github { .. } | WorkspaceSource::Git { .. }
        )
    }

    /// Short human description for tables.
    pub fn describe(&self) -> String {
        match self {
            WorkspaceSource::Local { path } => path.clone(),
            WorkspaceSource::Github { owner, repo, .. } => format!("github:{owner}/{repo}"),
            WorkspaceSource::Git { url, .. } => url.clone(),
            WorkspaceSource::Other { kind, .. } => kind.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            WorkspaceSource::Local { path } => json!({"type": "local", "path": path}),
            WorkspaceSource::Github {
                owner,
                repo,
                branch,
            } => {
                let mut m = Map::new();
                m.insert("type".into(), "github".into());
                m.insert("owner".into(), owner.clone().into());
                m.insert("repo".into(), repo.clone().into());
                if let Some(b) = branch {
                    m.insert("branch".into(), b.clone().into());
                }
                Value::Object(m)
            }
            WorkspaceSource::Git { url, branch } => {
                let mut m = Map::new();
                m.insert("type".into(), "git".into());
                m.insert("url".into(), url.clone().into());
                if let Some(b) = branch {
                    m.insert("branch".into(), b.clone().into());
                }
                Value::Object(m)
            }
            WorkspaceSource::Other { json, .. } => {
                serde_json::from_str(json).unwrap_or(Value::Null)
            }
        }
    }

    /// Reads a stored source. Unknown types are kept verbatim, never rejected:
    /// older data must load.
    pub fn from_stored_json(v: &Value) -> Result<WorkspaceSource, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| "workspaceSource is not an object".to_string())?;
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| "workspaceSource has no string \"type\"".to_string())?;
        let input: Result<WorkspaceInput, _> = serde_json::from_value(v.clone());
        let normalised = match (kind, input) {
            ("local" | "github" | "git", Ok(input)) => input.normalise(None).ok(),
            _ => None,
        };
        Ok(normalised.unwrap_or_else(|| WorkspaceSource::Other {
            kind: kind.to_string(),
            json: v.to_string(),
        }))
    }
}

impl WorkspaceInput {
    pub fn local(path: impl Into<String>) -> WorkspaceInput {
        WorkspaceInput {
            kind: Some("local".into()),
            path: Some(path.into()),
            ..Default::default()
        }
    }

    /// A git URL to clone (GitHub's own for github.com URLs).
    pub fn url(url: &str, branch: Option<String>) -> WorkspaceInput {
        let github =
            url.starts_with("https://github.com/") || url.starts_with("http://github.com/");
        WorkspaceInput {
            kind: Some(if github { "github" } else { "git" }.into()),
            url: Some(url.to_string()),
            branch,
            ..Default::default()
        }
    }

    /// A GitHub repository: `OWNER/NAME`, or `NAME` with `owner`.
    pub fn github(repo: &str, owner: Option<String>, branch: Option<String>) -> WorkspaceInput {
        WorkspaceInput {
            kind: Some("github".into()),
            repo: Some(repo.to_string()),
            owner,
            branch,
            ..Default::default()
        }
    }

    /// Normalises any accepted form. `default_owner` is `AGENTGATE_GITHUB_OWNER`.
    /// Priority for GitHub: url, then owner+repo, then `owner/repo`, then the default.
    pub fn normalise(&self, default_owner: Option<&str>) -> Result<WorkspaceSource, ModelError> {
        let fail = |why: &str| ModelError::Workspace(format!("{why}; {ACCEPTED_FORMS}"));
        let branch = non_empty(&self.branch).map(str::to_string);
        let kind = match non_empty(&self.kind) {
            Some(k) => k,
            None if self.path.is_some() => "local",
            None if self.url.is_some() || self.repo.is_some() => "github",
            None => return Err(fail("workspace source is empty")),
        };
        match kind {
            "local" => {
                let path =
                    non_empty(&self.path).ok_or_else(|| fail("local source needs \"path\""))?;
                if !path.starts_with('/') {
                    return Err(fail(&format!("local path {path:?} is not absolute")));
                }
                Ok(WorkspaceSource::Local {
                    path: path.to_string(),
                })
            }
            "git" => {
                let url = non_empty(&self.url).ok_or_else(|| fail("git source needs \"url\""))?;
                Ok(WorkspaceSource::Git {
                    url: url.to_string(),
                    branch,
                })
            }
            "github" => {
                let (owner, repo) = if let Some(url) = non_empty(&self.url) {
                    parse_github_url(url)
                        .ok_or_else(|| fail(&format!("{url:?} is not a GitHub repository URL")))?
                } else if let (Some(owner), Some(repo)) =
                    (non_empty(&self.owner), non_empty(&self.repo))
                {
                    (owner.to_string(), repo.to_string())
                } else if let Some(repo) = non_empty(&self.repo) {
                    // AgentGate's dashboard sends the repository's URL as `repo`.
                    if let Some(parsed) = parse_github_url(repo) {
                        parsed
                    } else {
                        match repo.split_once('/') {
                            Some((o, r)) => (o.to_string(), r.to_string()),
                            None => match default_owner.filter(|o| !o.is_empty()) {
                                Some(o) => (o.to_string(), repo.to_string()),
                                None => {
                                    return Err(fail(&format!(
                                        "repo {repo:?} has no owner and AGENTGATE_GITHUB_OWNER is not set"
                                    )));
                                }
                            },
                        }
                    }
                } else {
                    return Err(fail("github source needs \"url\" or \"repo\""));
                };
                let repo = repo.strip_suffix(".git").unwrap_or(&repo).to_string();
                // Still ending in `.git` (`r.git.git`): stored, it would read
                // back as another repository (no GitHub name ends so anyway).
                if !valid_name(&owner) || !valid_name(&repo) || repo.ends_with(".git") {
                    return Err(fail(&format!(
                        "invalid GitHub owner/repo {owner:?}/{repo:?}"
                    )));
                }
                Ok(WorkspaceSource::Github {
                    owner,
                    repo,
                    branch,
                })
            }
            other => Err(fail(&format!("unknown workspace source type {other:?}"))),
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `https://github.com/o/r`, `https://github.com/o/r.git`, trailing slash allowed.
fn parse_github_url(url: &str) -> Option<(String, String)> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))
        .or_else(|| url.strip_prefix("https://www.github.com/"))?;
    let rest = rest.trim_end_matches('/');
    let (owner, repo) = rest.split_once('/')?;
    if repo.contains('/') {
        return None;
    }
    Some((owner.to_string(), repo.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(owner: &str, repo: &str) -> WorkspaceSource {
        WorkspaceSource::Github {
            owner: owner.into(),
            repo: repo.into(),
            branch: None,
        }
    }

    fn input(v: Value) -> WorkspaceInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn all_github_forms() {
        let url = input(json!({"type":"github","url":"https://github.com/o/r.git"}));
        assert_eq!(url.normalise(None).unwrap(), gh("o", "r"));
        let split = input(json!({"type":"github","owner":"o","repo":"r"}));
        assert_eq!(split.normalise(None).unwrap(), gh("o", "r"));
        let slash = input(json!({"type":"github","repo":"o/r"}));
        assert_eq!(slash.normalise(None).unwrap(), gh("o", "r"));
        let bare = input(json!({"type":"github","repo":"r"}));
        assert_eq!(bare.normalise(Some("env")).unwrap(), gh("env", "r"));
        let err = bare.normalise(None).unwrap_err().to_string();
        assert!(
            err.contains("AGENTGATE_GITHUB_OWNER") && err.contains("owner/repo")
                || err.contains("OWNER/REPO")
        );
        // url wins over owner+repo; owner is not ignored (the original's bug)
        let both =
            input(json!({"type":"github","url":"https://github.com/a/b","owner":"o","repo":"r"}));
        assert_eq!(both.normalise(None).unwrap(), gh("a", "b"));
        // The repository's URL as `repo` (AgentGate's dashboard sends that).
        let dashboard =
            input(json!({"type":"github","repo":"https://github.com/o/r","branch":"dev"}));
        assert_eq!(
            dashboard.normalise(None).unwrap(),
            WorkspaceSource::Github {
                owner: "o".into(),
                repo: "r".into(),
                branch: Some("dev".into())
            }
        );
    }

    #[test]
    fn bad_sources_name_the_forms() {
        for v in [
            json!({"type":"github","url":"https://gitlab.com/o/r"}),
            json!({"type":"local","path":"relative"}),
            json!({"type":"nope"}),
            json!({}),
            json!({"type":"github","repo":"../x"}),
        ] {
            let e = input(v.clone())
                .normalise(Some("d"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("accepted workspace sources"), "{v}: {e}");
        }
    }

    #[test]
    fn stored_round_trip_keeps_legacy() {
        let legacy = json!({"type":"github-new","repoName":"x","private":true});
        let src = WorkspaceSource::from_stored_json(&legacy).unwrap();
        assert_eq!(src.kind(), "github-new");
        assert_eq!(src.to_json(), legacy);
        let git = json!({"type":"git","url":"file:///tmp/x.git","branch":"main"});
        assert_eq!(
            WorkspaceSource::from_stored_json(&git).unwrap().to_json(),
            git
        );
    }
}
