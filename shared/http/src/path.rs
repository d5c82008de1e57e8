//! The id in a resource's path (`/applications/{id}`), read as a UUID. Anything that is not one
//! names no resource: 404, as for an id nobody has — never a 400 that tells ids from non-ids.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::problem::ApiError;

/// The single path parameter of a route, as a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let not_found = || ApiError::NotFound(path.clone());
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        raw.parse().map(PathId).map_err(|_| not_found())
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::PathId;

    #[tokio::test]
    async fn a_path_id_that_is_not_a_uuid_is_a_404() {
        let app = Router::new().route(
            "/things/{id}",
            get(|PathId(id): PathId| async move { id.to_string() }),
        );
        let id = uuid::Uuid::now_v7();
        let ok = app
            .clone()
            .oneshot(
                Request::get(format!("/things/{id}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(ok.status(), StatusCode::OK);
        let bad = app
            .oneshot(
                Request::get("/things/42")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    }
}
