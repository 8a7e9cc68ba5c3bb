//! The dashboard's files, compiled into the binary from `assets/` (plain ES
//! modules and CSS: no build step, nothing fetched from elsewhere). Each is
//! served with an ETag (a hash of its bytes) and `Cache-Control: no-cache`,
//! so a browser revalidates and an upgraded daemon's page is never stale,
//! and with a Content-Security-Policy that lets the page load only itself:
//! agent output shown in it cannot bring in a script, style or frame.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/http/dashboard/assets");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Every file by name, with its ETag (computed once).
fn table() -> &'static HashMap<&'static str, Asset> {
    static TABLE: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ASSETS
            .files()
            .filter_map(|f| {
                let name = f.path().to_str()?;
                let mut h = std::collections::hash_map::DefaultHasher::new();
                env!("CARGO_PKG_VERSION").hash(&mut h);
                f.contents().hash(&mut h);
                let etag = HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())).ok()?;
                Some((
                    name,
                    Asset {
                        bytes: f.contents(),
                        content_type: content_type(name),
                        etag,
                    },
                ))
            })
            .collect()
    })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = table().get(name) else {
        return (StatusCode::NOT_FOUND, "no such dashboard file\n").into_response();
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == asset.etag)
        });
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, asset.bytes).into_response()
    };
    let h = resp.headers_mut();
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
    }
    h.insert(header::ETAG, asset.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// `GET /`: the page (the same for everyone: it asks for its session).
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    if name == "index.html" {
        return (StatusCode::NOT_FOUND, "no such dashboard file\n").into_response();
    }
    serve(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_complete_and_within_its_budget() {
        let t = table();
        for name in ["index.html", "app.js", "style.css"] {
            assert!(t.contains_key(name), "{name} is not embedded");
        }
        // The first load's budget, before compression.
        let total: usize = t.values().map(|a| a.bytes.len()).sum();
        assert!(total <= 250 * 1024, "{total} bytes");
    }

    #[test]
    fn an_unchanged_file_is_not_sent_again() {
        let etag = table()["app.js"].etag.clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(serve("app.js", &h).status(), StatusCode::NOT_MODIFIED);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(serve("app.js", &h).status(), StatusCode::OK);
        assert_eq!(serve("../Cargo.toml", &h).status(), StatusCode::NOT_FOUND);
    }
}
