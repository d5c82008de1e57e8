//! The standard layers as a client meets them.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use kutse_http::{ApiError, Json, Problem, with_standard_layers};
use serde::Deserialize;
use tower::ServiceExt;

#[derive(Debug, Deserialize)]
struct Round {
    #[expect(dead_code, reason = "only deserialized")]
    name: String,
}

fn app() -> Router {
    let api = Router::new()
        .route(
            "/rounds",
            post(|Json(_): Json<Round>| async { StatusCode::CREATED }),
        )
        .route(
            "/boom",
            post(|| async {
                Err::<(), _>(ApiError::Internal(anyhow::anyhow!("db password wrong")))
            }),
        );
    let api = api.route("/panic", post(panicking)).route(
        "/slow",
        post(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            StatusCode::OK
        }),
    );
    with_standard_layers(api, 64, std::time::Duration::from_millis(100))
}

async fn panicking() -> StatusCode {
    let detail = 42;
    panic!("secret detail {detail}")
}

async fn call(request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = app().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (status, headers, body.to_vec())
}

fn json_post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let (status, headers, _) = call(json_post("/rounds", r#"{"name":"x"}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(headers.contains_key("x-request-id"));

    let mut request = json_post("/rounds", r#"{"name":"x"}"#);
    request
        .headers_mut()
        .insert("x-request-id", "portal-123".parse().expect("header"));
    let (_, headers, _) = call(request).await;
    assert_eq!(headers["x-request-id"], "portal-123");
}

#[tokio::test]
async fn client_errors_are_problem_documents_with_the_request_id() {
    let cases = [
        (json_post("/rounds", "{"), StatusCode::BAD_REQUEST, None),
        (
            json_post("/rounds", "{}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name"),
        ),
        (
            json_post("/rounds", &format!(r#"{{"name":"{}"}}"#, "x".repeat(100))),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            Request::post("/rounds")
                .body(Body::from("name=x"))
                .expect("request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (json_post("/nowhere", "{}"), StatusCode::NOT_FOUND, None),
    ];
    for (request, expected, field) in cases {
        let (status, headers, body) = call(request).await;
        assert_eq!(status, expected);
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{expected}"
        );
        let problem: Problem = serde_json::from_slice(&body).expect("problem json");
        assert_eq!(problem.status, expected.as_u16());
        assert_eq!(
            problem.request_id.as_deref(),
            headers["x-request-id"].to_str().ok(),
            "{expected}"
        );
        if let Some(field) = field {
            assert_eq!(problem.errors[0].field, field);
        }
    }
}

#[tokio::test]
async fn a_server_error_says_nothing_about_its_cause() {
    let (status, _, body) = call(json_post("/boom", "{}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8(body).expect("utf8");
    assert!(!text.contains("password"), "{text}");
    assert!(text.contains("request_id"), "{text}");
}

#[tokio::test]
async fn a_handler_that_panics_is_an_opaque_500_problem_with_the_request_id() {
    let (status, headers, body) = call(json_post("/panic", "{}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["content-type"], "application/problem+json");
    let problem: Problem = serde_json::from_slice(&body).expect("problem");
    assert_eq!(problem.status, 500);
    assert!(problem.request_id.is_some());
    assert!(!String::from_utf8_lossy(&body).contains("secret"));
}

#[tokio::test]
async fn a_request_not_answered_in_time_is_a_503_problem() {
    let (status, headers, body) = call(json_post("/slow", "{}")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], "application/problem+json");
    let problem: Problem = serde_json::from_slice(&body).expect("problem");
    assert_eq!(problem.status, 503);
    assert!(problem.request_id.is_some());
}

#[tokio::test]
async fn a_413_names_the_limit_and_a_405_the_methods_allowed() {
    let (status, _, body) = call(json_post(
        "/rounds",
        &format!(r#"{{"name":"{}"}}"#, "x".repeat(100)),
    ))
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Problem = serde_json::from_slice(&body).expect("problem json");
    assert_eq!(problem.title, "Payload Too Large");
    assert_eq!(
        problem.detail.as_deref(),
        Some("the request body is larger than the limit of 64 bytes (0.1 KiB)")
    );

    let (status, headers, body) = call(
        Request::get("/rounds")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    let problem: Problem = serde_json::from_slice(&body).expect("problem json");
    assert_eq!(problem.title, "Method Not Allowed");
    assert_eq!(
        problem.detail.as_deref(),
        Some("GET is not allowed on this path; the Allow header lists what is")
    );
}

#[test]
fn a_large_limit_reads_in_mebibytes() {
    assert_eq!(
        kutse_http::problem::too_large(25 * 1024 * 1024),
        "the request body is larger than the limit of 26214400 bytes (25.0 MiB)"
    );
}
