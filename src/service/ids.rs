//! Ids as people type them: a full id, any unambiguous prefix of at least
//! `MIN_PREFIX` characters, or "the newest" (`--last`). The queue actor feeds
//! its work orders to `resolve_one`; the rules and the messages live here.

use super::{ErrorCode, ServiceError};
use crate::model::{Status, validate_id};

/// Shortest prefix accepted: shorter ones match too much to be safe to act on.
pub const MIN_PREFIX: usize = 4;
/// Candidates named in an "ambiguous" error.
const SHOWN: usize = 8;

/// A work order an id reference may name.
pub struct Candidate<'a> {
    pub id: &'a str,
    pub status: Status,
    pub prompt: &'a str,
}

/// Checks the characters and length of a typed id or prefix.
pub fn check_ref(r: &str) -> Result<(), ServiceError> {
    validate_id(r).map_err(|e| ServiceError::bad_request("id", e.to_string()))
}

/// The one work order `r` names: `exact` if a work order has exactly that id,
/// else the only one of `matches` (those whose id starts with `r`).
pub fn resolve_one<'a>(
    r: &str,
    exact: bool,
    matches: impl Iterator<Item = Candidate<'a>>,
) -> Result<String, ServiceError> {
    check_ref(r)?;
    if exact {
        return Ok(r.to_string());
    }
    if r.chars().count() < MIN_PREFIX {
        return Err(ServiceError::bad_request(
            "id",
            format!(
                "{r:?} is too short to name a work order: give the full id or at least {MIN_PREFIX} characters of it"
            ),
        ));
    }
    let mut found: Vec<Candidate<'a>> = matches.collect();
    match found.len() {
        0 => Err(ServiceError::new(
            ErrorCode::NotFound,
            format!("no work order with id {r:?} (nor one starting with it)"),
        )),
        1 => Ok(found.remove(0).id.to_string()),
        n => {
            found.sort_by(|a, b| a.id.cmp(b.id));
            let listed: Vec<String> = found
                .iter()
                .take(SHOWN)
                .map(|c| format!("{} ({}: {})", c.id, c.status, preview(c.prompt)))
                .collect();
            let more = if n > SHOWN {
                format!(" and {} more", n - SHOWN)
            } else {
                String::new()
            };
            Err(ServiceError::bad_request(
                "id",
                format!(
                    "id prefix {r:?} is ambiguous: it matches {n} work orders: {}{more}; type more of the id",
                    listed.join(", ")
                ),
            ))
        }
    }
}

/// The start of a prompt, on one line.
fn preview(prompt: &str) -> String {
    const MAX: usize = 30;
    let line: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX {
        line
    } else {
        let mut s: String = line.chars().take(MAX - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands<'a>(ids: &'a [&'a str]) -> impl Iterator<Item = Candidate<'a>> {
        ids.iter().map(|id| Candidate {
            id,
            status: Status::Queued,
            prompt: "echo hi",
        })
    }

    #[test]
    fn exact_prefix_ambiguous_short_unknown() {
        assert_eq!(
            resolve_one("abcdefgh", true, cands(&[])).unwrap(),
            "abcdefgh"
        );
        assert_eq!(
            resolve_one("abcd", false, cands(&["abcdXYZ"])).unwrap(),
            "abcdXYZ"
        );
        let e = resolve_one("abcd", false, cands(&["abcdXYZ", "abcd123"])).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("ambiguous"), "{}", e.message);
        assert!(
            e.message.contains("abcd123 (queued: echo hi), abcdXYZ"),
            "{}",
            e.message
        );
        let e = resolve_one("abc", false, cands(&["abcdXYZ"])).unwrap_err();
        assert!(e.message.contains("at least 4"), "{}", e.message);
        let e = resolve_one("zzzz", false, cands(&[])).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = resolve_one("../x", false, cands(&[])).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
    }

    #[test]
    fn many_candidates_are_summarised() {
        let ids: Vec<String> = (0..12).map(|i| format!("abcd{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let e = resolve_one("abcd", false, cands(&refs)).unwrap_err();
        assert!(e.message.contains("matches 12"), "{}", e.message);
        assert!(e.message.contains("and 4 more"), "{}", e.message);
    }
}
