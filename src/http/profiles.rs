//! AgentGate's harness profile routes, onto the profile store
//! (`crate::store::profiles`, where names, values and inheritance are
//! checked): list, get (`?resolve=true` adds the inheritance chain and a
//! hash), create, update, delete, validate. The built-in `default` shows the
//! settings a work order gets when its submit names none.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::AppState;
use super::compat::{HarnessConfigJson, fingerprint};
use super::envelope::*;
use super::parse::*;
use super::routes::{body_or_error, try_resp};
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME};
use crate::store::profiles::{
    BUILT_IN, Finding, NewProfile, Profile, ProfileError, ProfileSettings, ProfileStore,
};

/// A profile store call, off the async threads (it reads and writes files).
async fn call<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce(&ProfileStore) -> Result<T, ProfileError> + Send + 'static,
) -> Result<T, ProfileError> {
    let store = Arc::clone(&st.profiles);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or_else(|e| Err(ProfileError::Io(format!("profile task failed: {e}"))))
}

/// AgentGate's answer to each refusal.
fn refuse(rid: &str, e: ProfileError) -> Response {
    let msg = e.to_string();
    match e {
        ProfileError::NotFound(_) => fail(rid, StatusCode::NOT_FOUND, "NOT_FOUND", &msg, None),
        ProfileError::Exists(_) => fail(rid, StatusCode::CONFLICT, "CONFLICT", &msg, None),
        ProfileError::BuiltIn(_) => fail(rid, StatusCode::FORBIDDEN, "FORBIDDEN", &msg, None),
        ProfileError::Invalid { field, .. } => fail(
            rid,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &msg,
            Some(json!({ "field": field })),
        ),
        ProfileError::HasDependents { dependents, .. } => fail(
            rid,
            StatusCode::CONFLICT,
            "CONFLICT",
            &msg,
            Some(json!({ "dependents": dependents })),
        ),
        ProfileError::Io(_) => {
            tracing::error!(error = %msg, "profile store");
            fail(
                rid,
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                &msg,
                None,
            )
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProfileSummary)]
pub struct ProfileJson {
    name: String,
    description: Option<String>,
    extends: Option<String>,
    is_built_in: bool,
}

impl ProfileJson {
    fn of(p: &Profile) -> ProfileJson {
        ProfileJson {
            name: p.name.clone(),
            description: p.settings.description.clone(),
            extends: p.settings.extends.clone(),
            is_built_in: p.name == BUILT_IN,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Profiles)]
pub struct ProfilesJson {
    items: Vec<ProfileJson>,
    total: u64,
}

/// Harness profiles: the built-in `default`, then the stored ones by name.
#[utoipa::path(get, path = "/api/v1/profiles", tag = "profiles",
    responses(
        (status = 200, description = "The profiles", body = Envelope<ProfilesJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match call(&st, |s| s.list()).await {
        Ok(all) => {
            let items: Vec<ProfileJson> = all.iter().map(ProfileJson::of).collect();
            let data = ProfilesJson {
                total: items.len() as u64,
                items,
            };
            ok(&rid, StatusCode::OK, json!(data))
        }
        Err(e) => refuse(&rid, e),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedJson {
    /// The profile's ancestors and itself, root first.
    inheritance_chain: Vec<String>,
    /// A fingerprint of the settings with inheritance applied.
    config_hash: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProfileDetail)]
pub struct ProfileDetailJson {
    #[serde(flatten)]
    summary: ProfileJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    loop_strategy: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    verification: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    git_ops: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    execution_limits: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<ResolvedJson>,
}

fn value<T: Serialize>(v: &T) -> Option<Value> {
    serde_json::to_value(v).ok()
}

impl ProfileDetailJson {
    fn of(p: &Profile, resolved: Option<ResolvedJson>) -> ProfileDetailJson {
        let summary = ProfileJson::of(p);
        if p.name == BUILT_IN {
            // The built-in one is the defaults of a submit.
            let c = value(&HarnessConfigJson::new(
                DEFAULT_MAX_ITERATIONS,
                DEFAULT_MAX_TIME,
            ))
            .unwrap_or_default();
            return ProfileDetailJson {
                summary,
                loop_strategy: c.get("loopStrategy").cloned(),
                verification: c.get("verification").cloned(),
                git_ops: c.get("gitOps").cloned(),
                execution_limits: c.get("executionLimits").cloned(),
                resolved,
            };
        }
        let s = &p.settings;
        ProfileDetailJson {
            summary,
            loop_strategy: s.loop_strategy.as_ref().and_then(value),
            verification: s.verification.as_ref().and_then(value),
            git_ops: s.git_ops.as_ref().and_then(value),
            execution_limits: s.execution_limits.as_ref().and_then(value),
            resolved,
        }
    }
}

/// The chain and hash of a profile's settings with inheritance applied.
fn resolved_of(store: &ProfileStore, chain: Vec<String>) -> Result<ResolvedJson, ProfileError> {
    let settings = store.resolve(&chain)?;
    let text = serde_json::to_string(&settings).unwrap_or_default();
    Ok(ResolvedJson {
        inheritance_chain: chain,
        config_hash: fingerprint(&text),
    })
}

/// One harness profile (`?resolve=true`: with its inheritance).
#[utoipa::path(get, path = "/api/v1/profiles/{name}", tag = "profiles",
    params(("name" = String, Path, description = "Profile name"),
        ("resolve" = Option<bool>, Query, description = "`true`: add the inheritance chain and hash")),
    responses(
        (status = 200, description = "The profile", body = Envelope<ProfileDetailJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_one(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    name: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let name = try_resp!(&rid, path_id(name));
    let pairs = try_resp!(&rid, query_pairs(&q));
    // Given, it must say true or false (an empty value is neither).
    if pairs.iter().any(|(k, v)| k == "resolve" && v.is_empty()) {
        return bad("resolve", "resolve must be true or false").respond(&rid);
    }
    let resolve = try_resp!(&rid, query_flag(&pairs, "resolve"));
    let got = call(&st, move |s| {
        if !resolve {
            return Ok(ProfileDetailJson::of(&s.get(&name)?, None));
        }
        let v = s.validate(&name)?;
        let resolved = resolved_of(s, v.inheritance_chain)?;
        Ok(ProfileDetailJson::of(&v.profile, Some(resolved)))
    })
    .await;
    match got {
        Ok(d) => ok(&rid, StatusCode::OK, json!(d)),
        Err(e) => refuse(&rid, e),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedJson {
    #[serde(flatten)]
    summary: ProfileJson,
    message: String,
}

/// Create a profile (409 if the name is taken; its parent must exist).
#[utoipa::path(post, path = "/api/v1/profiles", tag = "profiles",
    request_body = NewProfile,
    responses(
        (status = 201, description = "Created", body = Envelope<CreatedJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = try_resp!(&rid, body_or_error(body));
    let new = try_resp!(&rid, json_body::<NewProfile>(&body, false));
    match call(&st, move |s| s.create(new.into())).await {
        Ok(p) => {
            let data = CreatedJson {
                summary: ProfileJson::of(&p),
                message: "Profile created successfully".into(),
            };
            ok(&rid, StatusCode::CREATED, json!(data))
        }
        Err(e) => refuse(&rid, e),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChangedJson {
    name: String,
    message: String,
}

/// Change a stored profile: each given section merged over the stored one.
#[utoipa::path(put, path = "/api/v1/profiles/{name}", tag = "profiles",
    params(("name" = String, Path, description = "Profile name")),
    request_body = ProfileSettings,
    responses(
        (status = 200, description = "Updated", body = Envelope<ChangedJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let name = try_resp!(&rid, path_id(name));
    let body = try_resp!(&rid, body_or_error(body));
    let patch = try_resp!(&rid, json_body::<ProfileSettings>(&body, false));
    match call(&st, move |s| s.update(&name, patch)).await {
        Ok(p) => {
            let data = ChangedJson {
                name: p.name,
                message: "Profile updated successfully".into(),
            };
            ok(&rid, StatusCode::OK, json!(data))
        }
        Err(e) => refuse(&rid, e),
    }
}

/// Delete a stored profile (409 while others extend it).
#[utoipa::path(delete, path = "/api/v1/profiles/{name}", tag = "profiles",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<ChangedJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let name = try_resp!(&rid, path_id(name));
    let shown = name.clone();
    match call(&st, move |s| s.delete(&name)).await {
        Ok(()) => {
            let data = ChangedJson {
                name: shown,
                message: "Profile deleted successfully".into(),
            };
            ok(&rid, StatusCode::OK, json!(data))
        }
        Err(e) => refuse(&rid, e),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ValidationJson {
    valid: bool,
    errors: Vec<Finding>,
    warnings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<ProfileDetailJson>,
}

/// Check a profile: its values and its inheritance (parents exist, no cycle).
#[utoipa::path(post, path = "/api/v1/profiles/{name}/validate", tag = "profiles",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 200, description = "What was found", body = Envelope<ValidationJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn validate(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let name = try_resp!(&rid, path_id(name));
    let got = call(&st, move |s| {
        let v = s.validate(&name)?;
        let valid = v.errors.is_empty();
        let resolved = if valid {
            let r = resolved_of(s, v.inheritance_chain.clone())?;
            Some(ProfileDetailJson::of(&v.profile, Some(r)))
        } else {
            None
        };
        Ok(ValidationJson {
            valid,
            errors: v.errors,
            warnings: v.warnings,
            resolved,
        })
    })
    .await;
    match got {
        Ok(v) => ok(&rid, StatusCode::OK, json!(v)),
        Err(e) => refuse(&rid, e),
    }
}
