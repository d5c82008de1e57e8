//! The middleware every Kutse API runs behind: a request id on every request and response, a
//! body-size limit, a time limit, a handler that panics answered as an opaque 500, one tracing
//! span per request (a child of the caller's W3C trace context when it sends one), and the
//! request id written into problem documents.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::problem::{ApiError, ProblemMarker, problem_response};

/// The header carrying the request id, set by us when the caller did not.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy, Debug, Default)]
struct MakeUuidV7;

impl MakeRequestId for MakeUuidV7 {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps an API router in the standard layers. `body_limit` is the largest request body accepted
/// (routes that stream large uploads set their own with `DefaultBodyLimit`); a request not
/// answered within `timeout` is answered 503 (its handler is dropped, which rolls back an open
/// transaction).
pub fn with_standard_layers(
    router: Router,
    body_limit: usize,
    timeout: std::time::Duration,
) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("route".to_owned()) })
        .layer(CatchPanicLayer::custom(panicked))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(move |request, next| {
            request_span(request, next, body_limit as u64)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeUuidV7))
}

/// A handler panicked: logged with what it said, answered as an opaque 500.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

/// One span per request; logs the outcome; puts the request id into problem documents.
async fn request_span(request: Request, next: Next, body_limit: u64) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http.request",
        otel.name = format!("{method} {route}"),
        http.request.method = %method,
        http.route = route.as_str(),
        request_id = request_id.as_str(),
        http.response.status_code = tracing::field::Empty,
    );
    kutse_telemetry::set_parent_from(&span, header_pairs(request.headers()));
    let started = std::time::Instant::now();
    async move {
        let response = next.run(request).await;
        let status = response.status();
        tracing::Span::current().record("http.response.status_code", status.as_u16());
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms, "request finished");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request finished");
        }
        with_request_id(response, &request_id, status, &method, body_limit)
    }
    .instrument(span)
    .await
}

fn header_pairs(headers: &http::HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
}

/// Every error answer as a problem document with the request's id: axum's own plain-text
/// rejections too (a 405 titled as one, pointing at `Allow`; a 413 naming the limit).
fn with_request_id(
    response: Response,
    request_id: &str,
    status: StatusCode,
    method: &http::Method,
    body_limit: u64,
) -> Response {
    if response
        .extensions()
        .get::<crate::problem::StandardErrorFormat>()
        .is_some()
    {
        return response;
    }
    let Some(ProblemMarker(mut problem)) = response.extensions().get::<ProblemMarker>().cloned()
    else {
        // Rejections from axum's own extractors (e.g. a body over the limit) are plain text;
        // turn them into problem documents too.
        let plain_error = (status.is_client_error() && status != StatusCode::NOT_FOUND)
            || status.is_server_error();
        if plain_error && !is_problem(&response) {
            let problem = match status {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(Some(body_limit)).problem(),
                // axum adds the `Allow` header after this layer, on the way out.
                StatusCode::METHOD_NOT_ALLOWED => ApiError::Malformed {
                    detail: format!(
                        "{method} is not allowed on this path; the Allow header lists what is"
                    ),
                    field: None,
                }
                .problem(),
                StatusCode::SERVICE_UNAVAILABLE => {
                    ApiError::Unavailable(anyhow::anyhow!("no answer in time")).problem()
                }
                s if s.is_server_error() => {
                    ApiError::Internal(anyhow::anyhow!("server error")).problem()
                }
                _ => ApiError::Malformed {
                    detail: status
                        .canonical_reason()
                        .unwrap_or("bad request")
                        .to_owned(),
                    field: None,
                }
                .problem(),
            };
            let mut problem = problem;
            problem.status = status.as_u16();
            problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
            problem.request_id = Some(request_id.to_owned());
            return merge_headers(response, problem_response(problem));
        }
        return response;
    };
    problem.request_id = Some(request_id.to_owned());
    if status == StatusCode::PAYLOAD_TOO_LARGE && problem.detail.is_none() {
        problem.detail = Some(crate::problem::too_large(body_limit));
    }
    merge_headers(response, problem_response(problem))
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// The new body with the old response's headers (e.g. `WWW-Authenticate`) kept.
fn merge_headers(old: Response, new: Response) -> Response {
    let (mut parts, _) = old.into_parts();
    let (new_parts, body) = new.into_parts();
    for (name, value) in &new_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::new(body)).into_response()
}
