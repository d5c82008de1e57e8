//! RFC 9457 problem details and the one error type handlers return.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One input at fault: the field (a JSON path like `competences[1].code`, a header or a query
/// parameter) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document as Kutse sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The inputs at fault, for 4xx caused by input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id, to quote when asking about a 5xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Everything a handler can fail with. Domain errors are turned into one of these at the edge.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body could not be read as the expected JSON at all (400).
    #[error("malformed request: {detail}")]
    Malformed {
        detail: String,
        field: Option<String>,
    },
    /// The input was well-formed but one or more values are not acceptable (422).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The request cannot be carried out in the resource's current state (422), e.g. submitting
    /// to a closed round. `kind` is a short slug that portals can switch on.
    #[error("{detail}")]
    Unprocessable {
        kind: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No valid credentials (401).
    #[error("unauthenticated: {0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such resource, or one the caller may not know exists (404).
    #[error("{0} not found")]
    NotFound(String),
    /// Conflicts with the current state (409), e.g. an idempotency key reused with another body.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The body is larger than allowed (413), with the limit in bytes when the handler knows it
    /// (otherwise the standard layers add the service's own).
    #[error("request body too large")]
    TooLarge(Option<u64>),
    /// The media type is not the one expected (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The client sent the request too slowly (408), e.g. an upload that stalled.
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    /// A dependency is down (503). Logged; the client is told only to retry.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else (500). Logged with its cause chain; the client learns nothing of it.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// A database error at the HTTP edge: the database unreachable (pool exhausted or closed, I/O)
/// is a 503 the client may retry; anything else a 500. Both are logged, neither is revealed.
/// Constraint violations a client can cause are mapped where they happen, before this.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                ApiError::Unavailable(e.into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

/// What a 413 says: the limit, in bytes and in a unit a person reads.
pub fn too_large(limit: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    let readable = if limit >= MIB {
        format!("{:.1} MiB", limit as f64 / MIB as f64)
    } else {
        format!("{:.1} KiB", limit as f64 / 1024.0)
    };
    format!("the request body is larger than the limit of {limit} bytes ({readable})")
}

impl ApiError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document the client sees.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let mut problem = Problem {
            kind: "about:blank".to_owned(),
            title,
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            request_id: None,
        };
        match self {
            ApiError::Malformed { detail, field } => {
                problem.detail = Some(detail.clone());
                if let Some(field) = field {
                    problem.errors.push(FieldError::new(field, detail.clone()));
                }
            }
            ApiError::Invalid(errors) => {
                problem.detail = Some(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                problem.errors = errors.clone();
            }
            ApiError::Unprocessable {
                kind,
                detail,
                errors,
            } => {
                problem.kind = format!("https://kutse.ee/problems/{kind}");
                problem.detail = Some(detail.clone());
                problem.errors = errors.clone();
            }
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::RequestTimeout(d) => problem.detail = Some(d.clone()),
            ApiError::NotFound(what) => problem.detail = Some(format!("{what} not found")),
            ApiError::TooLarge(Some(limit)) => problem.detail = Some(too_large(*limit)),
            ApiError::TooLarge(None) | ApiError::Unavailable(_) | ApiError::Internal(_) => {}
        }
        problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
                // `{:#}` prints the whole context chain on one line.
                tracing::error!(
                    status = status.as_u16(),
                    error = format!("{cause:#}"),
                    "request failed"
                );
            }
            ApiError::Unauthorized(why) => {
                tracing::info!(why = why.as_str(), "request refused: 401")
            }
            other => tracing::debug!(status = status.as_u16(), error = %other, "client error"),
        }
        let mut response = problem_response(self.problem());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A problem document as a response. The request id is filled in by the middleware
/// (`stack::with_standard_layers`), which knows it.
pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response.extensions_mut().insert(ProblemMarker(problem));
    response
}

/// Marks an error response whose format a standard prescribes (e.g. OAuth 2.0's `error` and
/// `error_description`, RFC 6749 §5.2): the standard layers leave it as it is instead of making it
/// a problem document.
#[derive(Debug, Clone, Copy)]
pub struct StandardErrorFormat;

/// Carries the problem on the response so the middleware can add the request id.
#[derive(Debug, Clone)]
pub(crate) struct ProblemMarker(pub(crate) Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_reveals_nothing_internal() {
        let err = ApiError::Internal(anyhow::anyhow!(
            "password authentication failed for user kutse"
        ));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        let text = serde_json::to_string(&problem).expect("json");
        assert!(!text.contains("password"), "{text}");
    }

    #[test]
    fn an_invalid_field_is_named() {
        let problem = ApiError::invalid("applicant.isikukood", "check digit is wrong").problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "applicant.isikukood");
    }
}
