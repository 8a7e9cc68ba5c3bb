//! Turning bodies, query strings and path segments into typed values, each
//! failure a 400 naming the field.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::envelope::{ApiError, bad};
use crate::model::Status;

/// A JSON body parsed straight into `T` (the same derive that gives the
/// OpenAPI schema, so the two cannot drift). An empty body counts as `{}`
/// when `allow_empty`. Every failure is a 400 naming the field at fault: the
/// path `serde_path_to_error` tracked, up to the first array index (the
/// array is the field), or `body` when the text is not a JSON object.
pub fn json_body<T: DeserializeOwned>(body: &[u8], allow_empty: bool) -> Result<T, ApiError> {
    let body = if allow_empty && body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        // serde_json reports some wrong types (a number for an enum) as
        // syntax errors: valid JSON means the value, not the text, is wrong.
        let malformed = !matches!(inner.classify(), Category::Data)
            && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err();
        if malformed {
            return bad("body", format!("request body is not valid JSON: {inner}"));
        }
        let field = field_of(e.path(), &inner.to_string());
        if field.is_empty() {
            return bad(
                "body",
                format!("request body must be a JSON object: {inner}"),
            );
        }
        bad(&field, format!("{field}: {}", message_of(inner)))
    })?;
    // Trailing text after the object is malformed JSON too.
    de.end()
        .map_err(|e| bad("body", format!("request body is not valid JSON: {e}")))?;
    Ok(parsed)
}

/// serde_json's message without its " at line L column C" suffix (the
/// field is named instead).
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The dotted path of the field at fault: the tracked path up to its first
/// array index, and for "missing field `x`" / "unknown field `x`" (reported
/// at the enclosing object) the field itself.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut parts: Vec<String> = Vec::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } => parts.push(key.clone()),
            Segment::Enum { variant } => parts.push(variant.clone()),
            Segment::Seq { .. } | Segment::Unknown => return parts.join("."),
        }
    }
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(name) = rest.split('`').next()
            && parts.last().map(String::as_str) != Some(name)
        {
            parts.push(name.to_string());
        }
    }
    parts.join(".")
}

/// `label=a,b` or `label=a&label=b`: every one named.
pub fn query_labels(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "label")
        .flat_map(|(_, v)| v.split(',').filter(|s| !s.is_empty()).map(str::to_string))
        .collect()
}

pub fn query_pairs(q: &Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    match q.as_deref() {
        None | Some("") => Ok(vec![]),
        Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map_err(|e| bad("query", format!("cannot parse the query string: {e}"))),
    }
}

/// A path parameter, or a 400 naming it (e.g. invalid percent-encoding).
pub fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|e| bad("id", format!("invalid id in path: {}", e.body_text())))
}

/// The first non-empty value of `key` (`limit=` counts as not given).
pub fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// A boolean flag: `true` or `false` (absent: false); anything else,
/// the empty `?force=` included, is a 400, not a silent false — the
/// schema says boolean, and a client that sent an empty value meant
/// something we cannot guess.
pub fn query_flag(pairs: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    let mut flag = false;
    for (_, v) in pairs.iter().filter(|(k, _)| k == key) {
        flag = match v.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(bad(
                    key,
                    format!("{key} must be true or false, not {other:?}"),
                ));
            }
        };
    }
    Ok(flag)
}

/// `status=a,b` or `status=a&status=b`.
pub fn query_statuses(pairs: &[(String, String)]) -> Result<Vec<Status>, ApiError> {
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "status") {
        for s in v.split(',').filter(|s| !s.is_empty()) {
            out.push(s.parse::<Status>().map_err(|e| bad("status", e))?);
        }
    }
    Ok(out)
}

/// `limit` (1-1000, default 20) and `offset` (default 0) of a listing. A
/// number given empty (`?limit=`) is not a number: refused, not defaulted.
pub fn query_page(pairs: &[(String, String)]) -> Result<(u32, u32), ApiError> {
    let given = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let limit = match given("limit") {
        None => 20,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(bad("limit", format!("limit {s:?} is out of range: 1-1000"))),
        },
    };
    let offset = match given("offset") {
        None => 0,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if n <= i32::MAX as u32 => n,
            _ => {
                return Err(bad(
                    "offset",
                    format!("offset {s:?} must be a whole number from 0 to {}", i32::MAX),
                ));
            }
        },
    };
    Ok((limit, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct B {
        statuses: Option<Vec<Status>>,
    }

    fn field(body: &str) -> Option<String> {
        match json_body::<B>(body.as_bytes(), true) {
            Err(ApiError::Service(e)) => Some(e.field.unwrap_or_default()),
            Err(_) => Some("?".into()),
            Ok(_) => None,
        }
    }

    #[test]
    fn fields_are_named() {
        for (b, want) in [
            (r#"{"statuses":["bogus"]}"#, Some("statuses")),
            (r#"{"statuses":"failed"}"#, Some("statuses")),
            (r#"{"statuses":[1]}"#, Some("statuses")),
            (r#"{"statuses":[}"#, Some("body")),
            (r#"[]"#, Some("body")),
            (r#"{} x"#, Some("body")),
            (r#"{"statuses":["failed"]}"#, None),
        ] {
            assert_eq!(field(b).as_deref(), want, "{b}");
        }
    }

    #[test]
    fn flags_are_true_or_false_only() {
        let flag = |s: &str| {
            let pairs = query_pairs(&Some(s.to_string())).ok()?;
            query_flag(&pairs, "force").ok()
        };
        assert_eq!(flag(""), Some(false));
        assert_eq!(flag("force=true"), Some(true));
        assert_eq!(flag("force=false"), Some(false));
        // Empty is not "absent": the schema says boolean.
        for bad in ["force=", "force=1", "force=yes", "force=true&force="] {
            assert_eq!(flag(bad), None, "{bad}");
        }
    }
}
