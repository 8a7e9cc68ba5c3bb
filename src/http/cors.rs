//! CORS: which browser origins may call the API. Preflights are answered
//! without the key; the actual requests still need it (nothing here is
//! cookie-based, so credentials are never allowed).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// Methods and request headers a preflight may ask for.
const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE, PATCH, OPTIONS";
const ALLOW_HEADERS: &str = "Content-Type, Authorization, X-API-Key, X-Request-ID";

/// The configured origins: exact ones, `scheme://host:*` (any port or none),
/// or `*` (any).
#[derive(Debug, Clone, Default)]
pub struct Origins {
    any: bool,
    exact: Vec<String>,
    any_port: Vec<String>,
}

impl Origins {
    pub fn new(list: &[String]) -> Origins {
        let mut o = Origins::default();
        for item in list {
            let item = item.trim().trim_end_matches('/').to_ascii_lowercase();
            if item == "*" {
                o.any = true;
            } else if let Some(base) = item.strip_suffix(":*") {
                o.any_port.push(base.to_string());
            } else if !item.is_empty() {
                o.exact.push(item);
            }
        }
        o
    }

    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        if self.any || self.exact.contains(&origin) {
            return true;
        }
        self.any_port.iter().any(|base| {
            origin.strip_prefix(base.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            })
        })
    }

    /// The request's `Origin` if it is allowed.
    pub fn allowed(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        self.allows(origin.to_str().ok()?).then(|| origin.clone())
    }
}

/// Whether an `OPTIONS` request is a CORS preflight.
pub fn is_preflight(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The headers of any response to an allowed origin.
pub fn decorate(resp: &mut Response, origin: Option<HeaderValue>) {
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("X-Request-ID"),
        );
    }
}

/// The extra headers of a preflight answer to an allowed origin.
pub fn decorate_preflight(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
}

#[cfg(test)]
mod tests {
    use super::Origins;

    #[test]
    fn origin_patterns() {
        let o = Origins::new(&[
            "http://localhost:*".into(),
            "http://127.0.0.1:*".into(),
            "https://dash.example.com/".into(),
        ]);
        for yes in [
            "http://localhost:5173",
            "http://localhost",
            "http://LOCALHOST:3000",
            "http://127.0.0.1:8080",
            "https://dash.example.com",
        ] {
            assert!(o.allows(yes), "{yes}");
        }
        for no in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://localhost:5173.evil.example",
            "https://localhost:5173",
            "http://127.0.0.1:",
            "null",
            "https://dash.example.com:444",
        ] {
            assert!(!o.allows(no), "{no}");
        }
        assert!(Origins::new(&["*".into()]).allows("https://anything.example"));
        assert!(!Origins::new(&[]).allows("http://localhost:5173"));
    }
}
