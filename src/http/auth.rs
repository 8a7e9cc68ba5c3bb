//! The API key: `--api-key-file`, else `AGENTGATE_API_KEY`, else a random key
//! generated once into `<root>/api-key` (0600). Compared in constant time.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use subtle::ConstantTimeEq;

use crate::config::DaemonSettings;
use crate::store::atomic::write_atomic;

pub struct ApiKey {
    pub value: String,
    /// Configured by the user (file or env), not generated.
    pub explicit: bool,
}

pub fn load_key(settings: &DaemonSettings) -> Result<ApiKey, String> {
    if let Some(path) = &settings.api_key_file {
        let value = fs::read_to_string(path)
            .map_err(|e| format!("cannot read API key file {}: {e}", path.display()))?
            .trim()
            .to_string();
        if value.is_empty() {
            return Err(format!("API key file {} is empty", path.display()));
        }
        return Ok(ApiKey {
            value,
            explicit: true,
        });
    }
    if let Ok(value) = std::env::var("AGENTGATE_API_KEY")
        && !value.trim().is_empty()
    {
        return Ok(ApiKey {
            value: value.trim().to_string(),
            explicit: true,
        });
    }
    let path = settings.paths.root.join("api-key");
    if let Ok(existing) = fs::read_to_string(&path)
        && !existing.trim().is_empty()
    {
        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o600));
        return Ok(ApiKey {
            value: existing.trim().to_string(),
            explicit: false,
        });
    }
    let value = nanoid::nanoid!(40);
    write_atomic(&path, format!("{value}\n").as_bytes(), 0o600)
        .map_err(|e| format!("cannot write API key {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated HTTP API key");
    Ok(ApiKey {
        value,
        explicit: false,
    })
}

/// `Authorization: Bearer <key>`, compared in constant time.
pub fn authorized(header: Option<&str>, key: &str) -> bool {
    let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    token.trim().as_bytes().ct_eq(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::authorized;

    #[test]
    fn bearer_check() {
        assert!(authorized(Some("Bearer k1"), "k1"));
        assert!(!authorized(Some("Bearer k2"), "k1"));
        assert!(!authorized(Some("k1"), "k1"));
        assert!(!authorized(None, "k1"));
        assert!(!authorized(Some("Bearer "), "k1"));
    }
}
