//! What every Kutse HTTP API shares: the error type, the JSON extractor, health endpoints and the
//! middleware stack.
//!
//! # Error policy
//! Handlers return [`ApiError`]. A client error (4xx) becomes an RFC 9457
//! `application/problem+json` body that says what is wrong and names the field at fault
//! (`errors[].field`), so a portal can show it next to the input. A server error (5xx) is logged
//! with its whole cause chain and the request id; the client gets only the status, a generic title
//! and the request id to quote — never a message from inside.
//!
//! # Layout
//! - [`problem`]: `ApiError` and the problem document.
//! - [`json`]: `Json<T>`, an extractor whose rejections are problem documents naming the field.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`openapi`]: `/openapi.json`, the problem schema and the security scheme every API shares.
//! - [`stack`]: request ids, body limits and one tracing span per request.

pub mod health;
pub mod json;
pub mod openapi;
pub mod path;
pub mod problem;
pub mod stack;

pub use health::{Readiness, health_router};
pub use json::Json;
pub use openapi::Described;
pub use path::PathId;
pub use problem::{ApiError, FieldError, Problem, StandardErrorFormat};
pub use stack::{REQUEST_ID_HEADER, with_standard_layers};
