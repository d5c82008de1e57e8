//! The public register: search published certificates by name, qualification, awarding body and
//! register number (`GET /register/certificates`), without a token, paginated (at most 50 a
//! page), never showing a personal code; hidden certificates (their holder's decision) are
//! absent. Each client (the first `X-Forwarded-For` address, as the ingress sets it) may search
//! [`PER_MINUTE`] times a minute; beyond that it gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kutse_http::{ApiError, Json};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;

/// Searches a client may make per minute.
pub const PER_MINUTE: u32 = 120;
const MAX_PER_PAGE: u32 = 50;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// Fixed one-minute windows per client.
#[derive(Debug, Default)]
pub struct RateLimit {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimit {
    /// `Ok` if `client` may make one more request now, else how long until it may.
    fn admit(&self, client: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let (start, count) = windows.entry(client.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *count = 0;
        }
        if *count >= PER_MINUTE {
            return Err(Duration::from_secs(60).saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

/// What to search for: at least one of `name`, `qualification`, `awarding_body_id` and
/// `register_number`; every one given must match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// The start of the holder's given or family name (at least 2 letters, case-insensitive).
    name: Option<String>,
    /// The start of the qualification's name (case-insensitive).
    qualification: Option<String>,
    /// The awarding body.
    awarding_body_id: Option<Uuid>,
    /// The register number, exactly.
    register_number: Option<String>,
    /// The page, from 1 (default 1).
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Certificates per page, 1-50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    per_page: Option<u32>,
}

/// Searches the public register: published certificates only, never a personal code (no token;
/// rate-limited per client).
#[utoipa::path(
    get,
    path = "/register/certificates",
    tag = "search",
    security(()),
    params(
        SearchQuery,
        ("X-Forwarded-For" = Option<String>, Header, description = "Set by the ingress: its first address names the client whose searches are counted."),
    ),
    responses(
        (status = 200, description = "A page of matches, by register number: `{certificates: [{register_number, given_name, family_name, qualification, level, awarding_body_id, awarding_body_name, issued_on, valid_until, status}], page, per_page, total}` (`status` as stored: `valid`, `suspended` or `revoked`; expiry is by `valid_until`).", body = kutse_http::openapi::AnyJson),
        (status = 429, description = "More than 120 searches this minute from this client; `Retry-After` says when to try again.", content_type = "application/problem+json", body = kutse_http::Problem,
            headers(("Retry-After" = String, description = "Seconds until the client may search again.")),
        ),
    ),
)]
async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let client = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .unwrap_or("direct")
        .to_owned();
    if let Err(wait) = state.search_limit.admit(&client) {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
            Json(serde_json::json!({
                "type": "about:blank", "title": "Too Many Requests", "status": 429,
                "detail": format!("at most {PER_MINUTE} searches a minute"),
            })),
        )
            .into_response());
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let query = crate::db::search::Query {
        name: given(&q.name),
        qualification: given(&q.qualification),
        awarding_body_id: q.awarding_body_id,
        register_number: given(&q.register_number),
    };
    if query.name.is_none()
        && query.qualification.is_none()
        && query.awarding_body_id.is_none()
        && query.register_number.is_none()
    {
        return Err(ApiError::invalid(
            "name",
            "search by name, qualification, awarding_body_id or register_number",
        ));
    }
    if query.name.as_ref().is_some_and(|n| n.chars().count() < 2) {
        return Err(ApiError::invalid("name", "at least 2 letters"));
    }
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(20);
    if page == 0 {
        return Err(ApiError::invalid("page", "from 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::invalid("per_page", format!("1-{MAX_PER_PAGE}")));
    }
    let mut conn = state.pool.acquire().await?;
    let (found, total) = crate::db::search::search(
        &mut conn,
        &query,
        i64::from(per_page),
        i64::from(page - 1) * i64::from(per_page),
    )
    .await?;
    Ok(Json(serde_json::json!({
        "certificates": found,
        "page": page,
        "per_page": per_page,
        "total": total,
    }))
    .into_response())
}
