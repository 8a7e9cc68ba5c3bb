//! `GET /api/v1/openapi.json`: the OpenAPI document of every route, generated
//! from the handlers' `#[utoipa::path]` entries and the types their bodies are
//! serialised from. Served without the key.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::front::UnauthorizedEnvelope;
use super::{compat, followup, health, land, ops, profiles, queue, routes, runs, sse, ws};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "agentgate",
        description = "Queue and supervise long-running coding-agent processes: AgentGate's REST API, WebSocket and run event stream, served by the agentgate daemon. Every response is an envelope: {success, data, requestId} or {success: false, error: {code, message, details?}, requestId}. The same key also opens /mcp: agentgate's Model Context Protocol server over Streamable HTTP (POST JSON-RPC messages, GET for the server's stream, DELETE to end a session), with the tools submit, list, show, logs, wait, cancel, kill, continue, diff, merge and stats, and each work order's transcript as the resource agentgate://work-orders/{id}/transcript; the config file's [mcp] section limits which tools clients may call."
    ),
    paths(
        routes::submit,
        routes::list,
        routes::show,
        routes::delete_one,
        routes::cancel,
        routes::kill,
        routes::start,
        routes::batch_purge,
        routes::batch_delete,
        land::diff,
        land::merge,
        land::discard,
        land::push,
        followup::continue_session,
        followup::restart,
        compat::work_order_audit,
        runs::list,
        runs::get_run,
        compat::run_config,
        sse::stream,
        compat::audit_record,
        compat::audit_snapshots,
        compat::audit_changes,
        profiles::list,
        profiles::get_one,
        profiles::create,
        profiles::update,
        profiles::delete,
        profiles::validate,
        queue::queue_health,
        queue::queue_stats,
        ops::stats,
        queue::position,
        queue::pause,
        queue::resume,
        queue::config,
        queue::config_patch,
        document,
        health::health_root,
        health::health_live,
        health::health_ready,
        ws::upgrade,
    ),
    modifiers(&Security, &Unauthorized),
    tags(
        (name = "work orders"),
        (name = "runs"),
        (name = "queue"),
        (name = "profiles", description = "AgentGate's harness profiles: the built-in `default` and stored ones"),
        (name = "events", description = "Live events"),
        (name = "health", description = "No key needed"),
    )
)]
struct ApiDoc;

/// The three ways to send the key.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("token"))),
        );
    }
}

/// Every route that needs the key answers 401 without it, in its own shape
/// (`error` is text: see `front::UnauthorizedEnvelope`).
struct Unauthorized;

impl Modify for Unauthorized {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let name = <UnauthorizedEnvelope as utoipa::ToSchema>::name().to_string();
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            name.clone(),
            <UnauthorizedEnvelope as utoipa::PartialSchema>::schema(),
        );
        let resp = ResponseBuilder::new()
            .description("No API key, or a wrong one")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(name)))
                    .build(),
            )
            .build();
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    op.responses
                        .responses
                        .insert("401".into(), resp.clone().into());
                }
            }
        }
    }
}

/// The document as JSON text, rendered once.
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        doc.to_json().unwrap_or_else(|_| "{}".to_string())
    })
}

/// This document (no key needed).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn document() -> Response {
    let mut resp = (StatusCode::OK, document_json()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
