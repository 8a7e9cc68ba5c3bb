//! The dashboard: its page and assets (`assets`, compiled into the binary)
//! and its login. `agentgate dashboard` asks the daemon over the socket for a
//! one-time token (`ops::dashboard`) and prints `http://ADDR/#login=TOKEN`;
//! the page posts the token (or a pasted API key) to `/dashboard/login` and
//! gets an HttpOnly, SameSite=Strict session cookie plus a CSRF token. The
//! API then accepts the cookie (`access`, called by `front` when a request
//! has no key) only with that CSRF token as `X-CSRF-Token`, or with an
//! `Origin` that is this server's own (a WebSocket's handshake). The token
//! sits in the URL's fragment, which browsers never send, so it reaches
//! neither logs nor `Referer`s. (Tokens are minted by the `dashboard_login`
//! operation, `ops::dashboard`.)

mod assets;

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub use assets::{asset, index};

use super::envelope::{ApiError, RequestId, bad, fail};
use super::routes::{body_or_error, try_resp};
use super::{AppState, auth};
use crate::service::dashboard::{SessionInfo, csrf_matches};

/// Where the page posts its login; the one route without the key that reads
/// a body.
pub const LOGIN_PATH: &str = "/dashboard/login";
/// The header carrying a session's CSRF token.
const CSRF_HEADER: &str = "x-csrf-token";

/// What the dashboard needs of its server.
pub struct Site {
    /// The session cookie's name. Cookies do not tell ports apart, so two
    /// daemons on one host would overwrite each other's under one name.
    cookie: String,
}

impl Site {
    pub fn new(port: u16) -> Site {
        Site {
            cookie: format!("agentgate_session_{port}"),
        }
    }
}

/// What a request's session cookie amounts to.
pub enum Access {
    /// A live session, used as the page uses it.
    Granted,
    /// No cookie, or one of no live session (idle, logged out, daemon restarted).
    NoSession,
    /// A live session without the CSRF token or this server's Origin.
    Forbidden,
}

/// The session cookie's value, if the request carries one.
fn cookie<'a>(site: &Site, headers: &'a HeaderMap) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == site.cookie)
        .map(|(_, value)| value.trim())
}

/// Whether the request's `Origin` is this server itself (as the browser
/// reached it: the `Host` it sent).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

fn live_session(st: &AppState, headers: &HeaderMap) -> Option<SessionInfo> {
    let id = cookie(&st.dashboard, headers)?;
    st.service.dashboard().touch(id, Instant::now())
}

/// The session cookie as a credential (see the module documentation).
pub fn access(st: &AppState, headers: &HeaderMap) -> Access {
    let Some(session) = live_session(st, headers) else {
        return Access::NoSession;
    };
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| csrf_matches(&session, given));
    if csrf || same_origin(headers) {
        Access::Granted
    } else {
        Access::Forbidden
    }
}

/// The answer to a session cookie without its CSRF token.
pub fn forbidden(rid: &str) -> Response {
    fail(
        rid,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "a dashboard session needs its CSRF token in the X-CSRF-Token header (or this server's own Origin); scripts should send the API key instead",
        None,
    )
}

fn unauthorized(rid: &str, message: &str) -> Response {
    fail(rid, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, None)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    token: Option<String>,
    #[serde(rename = "apiKey")]
    api_key: Option<String>,
}

fn session_json(st: &AppState, session: &SessionInfo) -> serde_json::Value {
    json!({
        "authenticated": true,
        "csrf": session.csrf,
        "idleSeconds": st.service.dashboard().idle().as_secs(),
    })
}

/// `POST /dashboard/login` `{"token"}` or `{"apiKey"}`: a session cookie and
/// its CSRF token.
pub async fn login(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Another site must not log a browser in (login CSRF): an Origin, which
    // browsers send on every POST, must be ours.
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers) {
        return fail(
            &rid,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "log in from the dashboard's own page",
            None,
        );
    }
    let body = try_resp!(&rid, body_or_error(body));
    // As every JSON body: a wrong field is named (`token`, `apiKey`).
    let parsed: LoginBody = try_resp!(&rid, super::parse::json_body(&body, false));
    let now = Instant::now();
    let sessions = st.service.dashboard();
    let session = match (parsed.token, parsed.api_key) {
        (Some(token), None) => match sessions.redeem(&token, now) {
            Some(s) => s,
            None => {
                return unauthorized(
                    &rid,
                    "this login link was already used or has expired (each works once, for 2 minutes): run `agentgate dashboard` for a new one",
                );
            }
        },
        (None, Some(key)) => {
            if !auth::same_key(key.trim(), &st.key) {
                return unauthorized(
                    &rid,
                    "wrong API key (it is in <root>/api-key unless configured); or run `agentgate dashboard` for a login link",
                );
            }
            sessions.open_with_key(now)
        }
        _ => {
            return ApiError::respond(
                bad("body", "send exactly one of \"token\" and \"apiKey\""),
                &rid,
            );
        }
    };
    tracing::info!("dashboard session opened");
    let mut resp = (StatusCode::OK, axum::Json(session_json(&st, &session))).into_response();
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict",
        st.dashboard.cookie, session.id
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    no_store(resp)
}

/// `GET /dashboard/session`: the page's CSRF token when its cookie is live,
/// else `{"authenticated": false}` (a 200: a logged-out visit is no error).
/// No other origin can read it: the API never allows credentials (CORS).
pub async fn session(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let body = match live_session(&st, &headers) {
        Some(s) => session_json(&st, &s),
        None => json!({ "authenticated": false }),
    };
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

/// `POST /dashboard/logout`: ends this browser's session.
pub async fn logout(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    headers: HeaderMap,
) -> Response {
    match access(&st, &headers) {
        Access::Granted => {}
        Access::Forbidden => return forbidden(&rid),
        Access::NoSession => return unauthorized(&rid, "no dashboard session"),
    }
    if let Some(id) = cookie(&st.dashboard, &headers) {
        st.service.dashboard().end(id);
    }
    let mut resp = (StatusCode::OK, axum::Json(json!({"loggedOut": true}))).into_response();
    let expired = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        st.dashboard.cookie
    );
    if let Ok(v) = HeaderValue::from_str(&expired) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    no_store(resp)
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_cookie_of_this_port_is_found_among_others() {
        let site = Site::new(3001);
        let h = headers(&[
            ("cookie", "a=1; agentgate_session_3002=other"),
            ("cookie", "agentgate_session_3001=mine; b=2"),
        ]);
        assert_eq!(cookie(&site, &h), Some("mine"));
        assert_eq!(cookie(&site, &headers(&[("cookie", "x=y")])), None);
    }

    #[test]
    fn same_origin_is_the_host_the_browser_reached() {
        let h = |o: &str| headers(&[("origin", o), ("host", "127.0.0.1:3001")]);
        assert!(same_origin(&h("http://127.0.0.1:3001")));
        assert!(!same_origin(&h("http://127.0.0.1:3002")));
        assert!(!same_origin(&h("http://localhost:3001")));
        assert!(!same_origin(&h("null")));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:3001")])));
    }
}
