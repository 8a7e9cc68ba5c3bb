//! Routes of our own operations (not AgentGate's): the request is read from
//! the query string (`FromQuery`) or a JSON body, the operation is called
//! through the one typed `Service::call`, and its answer is the envelope's
//! `data` as the operation serialises it. A new operation's route is one
//! line in `routes::router` plus, for a query, its `FromQuery` here.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::AppState;
use super::envelope::*;
use super::parse::{query_labels, query_pairs};
use super::routes::try_resp;
use crate::ops::{StatsGroup, StatsQuery, StatsReport};
use crate::service::Operation;

/// A request read from the query string; every failure names its key.
pub trait FromQuery: Sized {
    fn from_query(pairs: &[(String, String)]) -> Result<Self, ApiError>;
}

/// `GET` of an operation whose request is its query string.
pub async fn get_query<O>(st: &AppState, rid: &str, query: Option<String>) -> Response
where
    O: Operation + FromQuery,
    O::Output: Serialize,
{
    let pairs = try_resp!(rid, query_pairs(&query));
    let op = try_resp!(rid, O::from_query(&pairs));
    answer(rid, st.service.call(op).await)
}

impl FromQuery for StatsQuery {
    fn from_query(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        // Given empty is not absent: `?by=` is refused like any bad value.
        let raw = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let by = match raw("by") {
            None | Some("agent") => StatsGroup::Agent,
            Some("label") => StatsGroup::Label,
            Some("day") => StatsGroup::Day,
            Some("status") => StatsGroup::Status,
            Some(other) => {
                return Err(bad(
                    "by",
                    format!("by must be agent, label, day or status, not {other:?}"),
                ));
            }
        };
        let since_ms = match raw("since") {
            None => None,
            Some(s) => {
                let d = crate::model::units::parse_duration(s)
                    .map_err(|e| bad("since", format!("since: {e}")))?;
                Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            }
        };
        Ok(StatsQuery {
            by,
            since_ms,
            labels: query_labels(pairs),
        })
    }
}

/// Usage across work orders, grouped (`queue stats`).
#[utoipa::path(get, path = "/api/v1/stats", tag = "queue",
    params(
        ("by" = Option<StatsGroup>, Query, description = "Group by agent (default), label, day (UTC) or status"),
        ("since" = Option<String>, Query, description = "Only work orders created in the last DUR (e.g. 7d, 24h)"),
        ("label" = Option<Vec<String>>, Query, description = "Only work orders with every one of these labels"),
    ),
    responses(
        (status = 200, description = "Counts, durations and cost per group", body = Envelope<StatsReport>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn stats(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    get_query::<StatsQuery>(&st, &rid, q).await
}
