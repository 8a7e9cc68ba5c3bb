//! Turning bodies, query strings and path segments into typed values, each
//! failure a 400 naming the field.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use serde_json::{Map, Value};

use super::envelope::{ApiError, bad};
use crate::model::Status;

/// A JSON object body; an empty body counts as `{}` when `allow_empty`.
pub fn json_object(body: &[u8], allow_empty: bool) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) && allow_empty {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("body", "request body must be a JSON object")),
        Err(e) => Err(bad("body", format!("request body is not valid JSON: {e}"))),
    }
}

pub fn opt_str(m: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, format!("{field} must be a string"))),
    }
}

pub fn opt_u64(m: &Map<String, Value>, field: &str) -> Result<Option<u64>, ApiError> {
    opt_u64_named(m, field, field)
}

/// `opt_u64` of `key` in `m`, errors naming `field` (a dotted path).
pub fn opt_u64_named(
    m: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<u64>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            bad(
                field,
                format!("{field} must be a non-negative whole number"),
            )
        }),
    }
}

pub fn opt_bool(m: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(field, format!("{field} must be true or false"))),
    }
}

/// An optional array of strings (`null` = absent = empty).
pub fn opt_strings(m: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    let refuse = || bad(field, format!("{field} must be an array of strings"));
    match m.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(refuse))
            .collect(),
        Some(_) => Err(refuse()),
    }
}

/// An optional whole number that fits an `i32`.
pub fn opt_i32(m: &Map<String, Value>, field: &str) -> Result<Option<i32>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                bad(
                    field,
                    format!(
                        "{field} must be a whole number from {} to {}",
                        i32::MIN,
                        i32::MAX
                    ),
                )
            }),
    }
}

/// `label=a,b` or `label=a&label=b`: every one named.
pub fn query_labels(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "label")
        .flat_map(|(_, v)| v.split(',').filter(|s| !s.is_empty()).map(str::to_string))
        .collect()
}

/// An optional nested object (`null` = absent).
pub fn opt_object<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(bad(field, format!("{field} must be an object"))),
    }
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

/// A boolean flag: `true` or `false` (absent or empty: false); anything
/// else is a 400, not a silent false.
pub fn query_flag(pairs: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    let mut flag = false;
    for (_, v) in pairs.iter().filter(|(k, v)| k == key && !v.is_empty()) {
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

pub fn statuses_from(v: Option<&Value>) -> Result<Vec<Status>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| bad("statuses", "statuses must be an array of strings"))
                    .and_then(|s| s.parse::<Status>().map_err(|e| bad("statuses", e)))
            })
            .collect(),
        Some(_) => Err(bad("statuses", "statuses must be an array of strings")),
    }
}
