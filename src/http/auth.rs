//! The API key: `--api-key-file`, else `AGENTGATE_API_KEY`, else a random key
//! generated once into `<root>/api-key` (0600). Accepted as `Authorization:
//! Bearer <key>` or `X-API-Key: <key>` (AgentGate's SDK), and on the streams
//! as `?token=<key>` (browsers cannot set headers there); always compared in
//! constant time.

use std::fs;

use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

use crate::config::DaemonSettings;
use crate::store::atomic::write_atomic;
use crate::store::private;

pub struct ApiKey {
    pub value: String,
    /// Configured by the user (file or env), not generated.
    pub explicit: bool,
}

/// The configured key, else (when `generate`) the stored or a new generated
/// one; `None` when nothing is configured and `generate` is false.
pub fn load_key(settings: &DaemonSettings, generate: bool) -> Result<Option<ApiKey>, String> {
    if let Some(path) = &settings.api_key_file {
        let value = private::read_secret(path)
            .map_err(|e| format!("API key file: {e}"))?
            .trim()
            .to_string();
        if value.is_empty() {
            return Err(format!("API key file {} is empty", path.display()));
        }
        return Ok(Some(ApiKey {
            value,
            explicit: true,
        }));
    }
    if let Ok(value) = std::env::var("AGENTGATE_API_KEY")
        && !value.trim().is_empty()
    {
        return Ok(Some(ApiKey {
            value: value.trim().to_string(),
            explicit: true,
        }));
    }
    if !generate {
        return Ok(None);
    }
    let path = settings.paths.root.join("api-key");
    // Checked like a key the user names: a symlink, a foreign file or one
    // others can read is refused, never chmodded into shape.
    let existing = match fs::symlink_metadata(&path) {
        Ok(_) => private::read_secret(&path).map_err(|e| format!("API key file: {e}"))?,
        Err(_) => String::new(),
    };
    if !existing.trim().is_empty() {
        return Ok(Some(ApiKey {
            value: existing.trim().to_string(),
            explicit: false,
        }));
    }
    let value = nanoid::nanoid!(40);
    write_atomic(&path, format!("{value}\n").as_bytes(), 0o600)
        .map_err(|e| format!("cannot write API key {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated HTTP API key");
    Ok(Some(ApiKey {
        value,
        explicit: false,
    }))
}

/// What a request's credentials amount to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Valid,
    Missing,
    Wrong,
}

/// Checks every credential the request carries; one valid one is enough.
pub fn check(headers: &HeaderMap, token: Option<&str>, key: &str) -> Credentials {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let api_key = headers.get("x-api-key").map(|v| v.to_str().unwrap_or(""));
    if bearer.is_none() && api_key.is_none() && token.is_none() {
        return Credentials::Missing;
    }
    let valid = bearer.is_some_and(|b| authorized(Some(b), key))
        | api_key.is_some_and(|k| same_key(k.trim(), key))
        | token.is_some_and(|t| same_key(t, key));
    if valid {
        Credentials::Valid
    } else {
        Credentials::Wrong
    }
}

/// Whether `given` is the key (constant time; an empty key matches nothing).
pub fn same_key(given: &str, key: &str) -> bool {
    !key.is_empty() && bool::from(given.as_bytes().ct_eq(key.as_bytes()))
}

/// `Authorization: Bearer <key>` (the scheme name is case-insensitive, as
/// RFC 7235 has it), the token compared in constant time.
pub fn authorized(header: Option<&str>, key: &str) -> bool {
    let Some((scheme, token)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") || key.is_empty() {
        return false;
    }
    same_key(token.trim(), key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_form() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert_eq!(check(&headers(&[]), None, "k1"), Credentials::Missing);
        let ok = [
            check(&headers(&[("authorization", "Bearer k1")]), None, "k1"),
            check(&headers(&[("x-api-key", "k1")]), None, "k1"),
            check(&headers(&[]), Some("k1"), "k1"),
            // One valid credential is enough.
            check(
                &headers(&[("authorization", "Bearer no"), ("x-api-key", "k1")]),
                None,
                "k1",
            ),
        ];
        assert!(ok.iter().all(|c| *c == Credentials::Valid));
        for wrong in [
            check(&headers(&[("x-api-key", "k2")]), None, "k1"),
            check(&headers(&[("x-api-key", "")]), None, "k1"),
            check(&headers(&[]), Some("k1x"), "k1"),
            check(&headers(&[("x-api-key", "k1")]), None, ""),
        ] {
            assert_eq!(wrong, Credentials::Wrong);
        }
    }

    #[test]
    fn bearer_check() {
        assert!(authorized(Some("Bearer k1"), "k1"));
        assert!(!authorized(Some("Bearer k2"), "k1"));
        assert!(!authorized(Some("k1"), "k1"));
        assert!(!authorized(None, "k1"));
        assert!(!authorized(Some("Bearer "), "k1"));
        assert!(authorized(Some("bearer k1"), "k1"));
        assert!(!authorized(Some("Basic k1"), "k1"));
        assert!(!authorized(Some("Bearer k1x"), "k1"));
        assert!(!authorized(Some("Bearer "), ""));
    }
}
