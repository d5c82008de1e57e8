//! `/openapi.json`: each service's API described from its own handlers.
//!
//! A service builds its routes with [`utoipa_axum::router::OpenApiRouter`] and `routes!`, so a
//! route and its description are registered in one step and cannot drift apart; each handler
//! carries a `#[utoipa::path]` saying what it takes and answers. [`Described::serve`] then adds
//! what every Kutse API shares:
//! - the `bearer` security scheme (a Kutse access token, a JWT from intake's `/oauth/token`),
//!   required by every operation unless it says `security(())`;
//! - the `Problem` schema, and on every operation a `default` response: any status the operation
//!   does not list is an `application/problem+json` [`Problem`](crate::Problem) (a 401 without a
//!   token, a 404, a 413 over the body limit, a 422 naming the fields at fault, a 503…);
//! - the service's title and version.
//!
//! The document is OpenAPI 3.1, served as it is built, once, at start.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::{FieldError, PROBLEM_JSON, Problem};

/// Makes a service's document whole and serves it.
pub struct Described {
    api: OpenApi,
}

impl std::fmt::Debug for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Described")
            .field("title", &self.api.info.title)
            .finish_non_exhaustive()
    }
}

impl Described {
    /// `api` as split from the service's `OpenApiRouter`; `title` names the service (e.g.
    /// `Kutse intake`), `description` says what it is for (Markdown).
    pub fn new(mut api: OpenApi, title: &str, description: &str) -> Self {
        api.info.title = title.to_owned();
        api.info.description = Some(description.to_owned());
        api.info.version = env!("CARGO_PKG_VERSION").to_owned();
        api.info.license = None;
        api.info.contact = None;
        let components = api.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "bearer".to_owned(),
            RefOr::T(SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A Kutse access token from intake's `POST /oauth/token` (see docs/identity.md).",
                    ))
                    .build(),
            )),
        );
        components
            .schemas
            .insert(Problem::name().into_owned(), Problem::schema());
        components
            .schemas
            .insert(FieldError::name().into_owned(), FieldError::schema());
        api.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        let problem = ResponseBuilder::new()
            .description(
                "Any other status: a problem document (RFC 9457) saying what is wrong; a 4xx caused by input names each field at fault in `errors`.",
            )
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(Problem::name())))
                    .build(),
            )
            .build();
        for item in api.paths.paths.values_mut() {
            for operation in operations(item) {
                operation
                    .responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| RefOr::T(problem.clone()));
            }
        }
        Self { api }
    }

    /// The document, for tests and tools.
    pub fn api(&self) -> &OpenApi {
        &self.api
    }

    /// `GET /openapi.json`, answered without a token.
    pub fn serve<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let json = self
            .api
            .to_json()
            .expect("an OpenAPI document always serialises");
        Router::new().route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(http::header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A file's bytes, as the schema of a body that is not JSON (an upload, a download).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Bytes(pub Vec<u8>);

/// Any JSON value: the schema of an answer whose shape the operation's description gives.
#[derive(Debug, ToSchema)]
#[schema(value_type = Object)]
pub struct AnyJson(pub serde_json::Value);
