//! Dashboard logins: one-time tokens (`agentgate dashboard` asks the daemon
//! for one over the socket, whose peer is the daemon's user) and the browser
//! sessions they are exchanged for. Held in memory only: a daemon stop ends
//! every session. A session carries its own CSRF token, which the page sends
//! back as a header; the cookie alone never authorises a request (see
//! `http::front`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// How long a login token can be exchanged.
pub const TOKEN_TTL: Duration = Duration::from_secs(120);
/// Tokens not yet used, at most (the oldest goes first).
const MAX_TOKENS: usize = 64;
/// Sessions at once, at most (the least recently used goes first).
const MAX_SESSIONS: usize = 256;

/// A session as the HTTP door sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub csrf: String,
}

struct Session {
    csrf: String,
    last_seen: Instant,
}

#[derive(Default)]
struct Inner {
    /// Token → when it stops being accepted.
    tokens: HashMap<String, Instant>,
    sessions: HashMap<String, Session>,
}

pub struct DashboardSessions {
    idle: Duration,
    inner: Mutex<Inner>,
}

fn random() -> String {
    nanoid::nanoid!(43)
}

impl DashboardSessions {
    pub fn new(idle: Duration) -> DashboardSessions {
        DashboardSessions {
            idle,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing holding the lock can leave the maps half-changed.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new one-time login token, valid for `TOKEN_TTL` from `now`.
    pub fn mint(&self, now: Instant) -> String {
        let mut inner = self.lock();
        inner.tokens.retain(|_, until| *until > now);
        if inner.tokens.len() >= MAX_TOKENS
            && let Some(oldest) = inner
                .tokens
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(t, _)| t.clone())
        {
            inner.tokens.remove(&oldest);
        }
        let token = random();
        inner.tokens.insert(token.clone(), now + TOKEN_TTL);
        token
    }

    /// Exchanges a token for a new session; `None` when it is unknown, used
    /// or expired (each token works once).
    pub fn redeem(&self, token: &str, now: Instant) -> Option<SessionInfo> {
        let mut inner = self.lock();
        let until = inner.tokens.remove(token)?;
        if until <= now {
            return None;
        }
        Some(Self::open(&mut inner, self.idle, now))
    }

    /// A new session for a browser that proved it holds the API key.
    pub fn open_with_key(&self, now: Instant) -> SessionInfo {
        let mut inner = self.lock();
        Self::open(&mut inner, self.idle, now)
    }

    fn open(inner: &mut Inner, idle: Duration, now: Instant) -> SessionInfo {
        inner
            .sessions
            .retain(|_, s| now.duration_since(s.last_seen) < idle);
        if inner.sessions.len() >= MAX_SESSIONS
            && let Some(stalest) = inner
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone())
        {
            inner.sessions.remove(&stalest);
        }
        let info = SessionInfo {
            id: random(),
            csrf: random(),
        };
        inner.sessions.insert(
            info.id.clone(),
            Session {
                csrf: info.csrf.clone(),
                last_seen: now,
            },
        );
        info
    }

    /// The live session `id` names (its idle clock restarted), or `None`.
    pub fn touch(&self, id: &str, now: Instant) -> Option<SessionInfo> {
        let mut inner = self.lock();
        let idle = self.idle;
        let session = inner.sessions.get_mut(id)?;
        if now.duration_since(session.last_seen) >= idle {
            inner.sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(SessionInfo {
            id: id.to_string(),
            csrf: session.csrf.clone(),
        })
    }

    /// Ends one session; whether it existed.
    pub fn end(&self, id: &str) -> bool {
        self.lock().sessions.remove(id).is_some()
    }

    /// Ends every session and voids every unused token; how many sessions ended.
    pub fn end_all(&self) -> usize {
        let mut inner = self.lock();
        inner.tokens.clear();
        let n = inner.sessions.len();
        inner.sessions.clear();
        n
    }
}

/// Whether `given` is the session's CSRF token (constant time).
pub fn csrf_matches(session: &SessionInfo, given: &str) -> bool {
    session.csrf.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once_and_not_after_two_minutes() {
        let s = DashboardSessions::new(Duration::from_secs(3600));
        let t0 = Instant::now();
        let token = s.mint(t0);
        let session = s.redeem(&token, t0 + Duration::from_secs(1)).unwrap();
        assert!(s.redeem(&token, t0 + Duration::from_secs(2)).is_none());
        assert_eq!(
            s.touch(&session.id, t0 + Duration::from_secs(3)),
            Some(session)
        );

        let late = s.mint(t0);
        assert!(s.redeem(&late, t0 + TOKEN_TTL).is_none());
        assert!(s.redeem("unknown", t0).is_none());
    }

    #[test]
    fn a_session_ends_when_idle_and_use_keeps_it() {
        let s = DashboardSessions::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let a = s.open_with_key(t0);
        assert!(s.touch(&a.id, t0 + Duration::from_secs(9)).is_some());
        assert!(s.touch(&a.id, t0 + Duration::from_secs(18)).is_some());
        assert!(s.touch(&a.id, t0 + Duration::from_secs(28)).is_none());
        assert!(s.touch(&a.id, t0 + Duration::from_secs(18)).is_none());
    }

    #[test]
    fn end_all_ends_sessions_and_voids_tokens() {
        let s = DashboardSessions::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let a = s.open_with_key(t0);
        let token = s.mint(t0);
        assert_eq!(s.end_all(), 1);
        assert!(s.touch(&a.id, t0).is_none());
        assert!(s.redeem(&token, t0).is_none());
    }

    #[test]
    fn tokens_and_sessions_are_bounded() {
        let s = DashboardSessions::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let first = s.mint(t0);
        for i in 0..MAX_TOKENS {
            s.mint(t0 + Duration::from_millis(i as u64 + 1));
        }
        assert!(s.redeem(&first, t0).is_none());
        let oldest = s.open_with_key(t0);
        for i in 0..MAX_SESSIONS {
            s.open_with_key(t0 + Duration::from_millis(i as u64 + 1));
        }
        assert!(s.touch(&oldest.id, t0 + Duration::from_secs(1)).is_none());
        assert_eq!(s.lock().sessions.len(), MAX_SESSIONS);
    }

    #[test]
    fn csrf_is_compared_whole() {
        let s = DashboardSessions::new(Duration::from_secs(10));
        let a = s.open_with_key(Instant::now());
        assert!(csrf_matches(&a, &a.csrf.clone()));
        assert!(!csrf_matches(&a, &a.csrf[..10]));
        assert!(!csrf_matches(&a, ""));
    }
}
