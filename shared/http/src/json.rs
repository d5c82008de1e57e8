//! `Json<T>`: axum's JSON extractor, with rejections that are problem documents naming the field.
//!
//! Malformed JSON is a 400 with the line and column; a body that is JSON but not of the expected
//! shape (a missing field, a wrong type, a value a domain type refuses) is a 422 naming the field
//! by its path, e.g. `applicant.isikukood` or `competences[2]`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// A JSON request body (extractor) or response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "expected Content-Type: application/json, got {content_type:?}"
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(None)
            } else {
                ApiError::Malformed {
                    detail: rejection.body_text(),
                    field: None,
                }
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Parses a JSON body into `T`, turning errors into problem documents that name the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut de);
    // Trailing characters after the value are malformed input too.
    if let (Ok(_), Err(e)) = (&parsed, de.end()) {
        return Err(ApiError::Malformed {
            detail: format!("body is not valid JSON: {e}"),
            field: None,
        });
    }
    match parsed {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = inner.to_string();
            let message = strip_position(&message);
            match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    Err(ApiError::Malformed {
                        detail: format!("body is not valid JSON: {inner}"),
                        field: None,
                    })
                }
                _ => {
                    // "missing field `x`" is reported at the parent's path; name the field itself.
                    let field = match missing_field(message) {
                        Some(name) if path == "." => name.to_owned(),
                        Some(name) => format!("{path}.{name}"),
                        None if path == "." => "body".to_owned(),
                        None => path,
                    };
                    Err(ApiError::Invalid(vec![FieldError::new(field, message)]))
                }
            }
        }
    }
}

fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Body {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Inner {
        count: u32,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Invalid(errors) => errors[0].field.clone(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        let cases = [
            (r#"{"inner":{"count":1}}"#, "name"),
            (r#"{"name":"a","inner":{}}"#, "inner.count"),
            (r#"{"name":"a","inner":{"count":-1}}"#, "inner.count"),
            (r#"{"name":5,"inner":{"count":1}}"#, "name"),
            (r#"{"name":"a","inner":{"count":1},"extra":1}"#, "extra"),
        ];
        for (body, field) in cases {
            let err = parse::<Body>(body.as_bytes()).expect_err(body);
            assert_eq!(field_of(err), field, "{body}");
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [
            "{",
            "not json",
            r#"{"name":"a","inner":{"count":1}} trailing"#,
            "",
        ] {
            let err = parse::<Body>(body.as_bytes()).expect_err(body);
            assert_eq!(err.status(), 400, "{body}: {err:?}");
        }
    }
}
