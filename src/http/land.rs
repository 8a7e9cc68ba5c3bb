//! Reviewing and landing a worktree over HTTP: the diff (text, or the
//! files as JSON), merge and discard — each one service call, as the CLI's.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use super::parse::*;
use super::routes::{body_or_error, try_resp};
use crate::land::{DiffStat, DiffView};
use crate::ops::{DiffRequest, DiffStatRequest, DiscardRequest, MergeRequest};

/// A worktree's changes against the commit it started from: the unified
/// diff as text, or with `stat=true` the files changed as JSON.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/diff", tag = "work orders",
    params(
        ("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("stat" = Option<bool>, Query, description = "true: the files changed with their line counts, as JSON"),
    ),
    responses(
        (status = 200, description = "The unified diff as text, or with stat=true the files changed", content(
            (String = "text/plain"),
            (Envelope<DiffStat> = "application/json"),
        )),
        (status = "default", description = "Error (no worktree: 409)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn diff(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let pairs = try_resp!(&rid, query_pairs(&q));
    if try_resp!(&rid, query_flag(&pairs, "stat")) {
        return answer(&rid, st.service.call(DiffStatRequest { id }).await);
    }
    let req = DiffRequest {
        id,
        view: DiffView::Patch,
        color: false,
    };
    match st.service.call(req).await {
        Ok(text) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::HeaderName::from_static("x-request-id"), rid),
            ],
            text,
        )
            .into_response(),
        Err(e) => service_error(&rid, e),
    }
}

/// What a merge answers.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct MergeJson {
    merge: crate::model::Merge,
    /// The work order, its worktree's `merges` ending with this one.
    #[schema(value_type = Object)]
    work_order: serde_json::Value,
}

/// The body of a merge (all optional; an empty body is `{}`).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeBody {
    /// One commit on the target instead of a merge.
    squash: Option<bool>,
    /// The commit message.
    message: Option<String>,
    /// The branch to land on (default: the one the worktree was made from).
    into: Option<String>,
}

/// Land a worktree's work on a branch (nothing changes when refused).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/merge", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = Option<MergeBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Merged", body = Envelope<MergeJson>),
        (status = "default", description = "Error (refused: 409, naming the files)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn merge(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let b = try_resp!(&rid, json_body::<MergeBody>(&body, true));
    let req = MergeRequest {
        id,
        squash: b.squash.unwrap_or(false),
        message: b.message,
        into: b.into,
    };
    match st.service.call(req).await {
        Ok(out) => ok(
            &rid,
            StatusCode::OK,
            json!({ "merge": out.merge, "workOrder": out.work_order.to_json() }),
        ),
        Err(e) => service_error(&rid, e),
    }
}

/// The body of a discard (optional).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscardBody {
    /// Also when the branch holds work that was never merged.
    force: Option<bool>,
}

/// Remove a worktree and delete its branch.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/discard", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = Option<DiscardBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Discarded: the work order", body = Envelope<serde_json::Value>),
        (status = "default", description = "Error (unmerged work: 409)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn discard(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let b = try_resp!(&rid, json_body::<DiscardBody>(&body, true));
    let req = DiscardRequest {
        id,
        force: b.force.unwrap_or(false),
    };
    match st.service.call(req).await {
        Ok(wo) => ok(&rid, StatusCode::OK, wo.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// The body of a push (optional).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushBody {
    /// The remote (default: the upstream of the branch it started from).
    remote: Option<String>,
    /// Also open a pull request with the GitHub CLI (`gh`).
    pull_request: Option<bool>,
    /// The pull request's title (default: the prompt's first line).
    title: Option<String>,
    /// Open the pull request as a draft.
    draft: Option<bool>,
}

/// Push a worktree's branch (and open a pull request with `gh`).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/push", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = Option<PushBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Pushed", body = Envelope<crate::land::Pushed>),
        (status = "default", description = "Error (no remote, no gh: 409)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn push(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let b = try_resp!(&rid, json_body::<PushBody>(&body, true));
    let req = crate::ops::PushRequest {
        id,
        remote: b.remote,
        pull_request: b.pull_request.unwrap_or(false),
        title: b.title,
        draft: b.draft.unwrap_or(false),
    };
    answer(&rid, st.service.call(req).await)
}
