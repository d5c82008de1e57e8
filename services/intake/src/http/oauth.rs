//! The token endpoint (OAuth 2.0): Kutse access tokens for TARA logins and machine clients.
//!
//! | route | who |
//! |---|---|
//! | `POST /oauth/token` | a portal with a person's TARA ID token (RFC 8693 token exchange), or a machine client (client credentials) |
//! | `GET /oauth/jwks.json` | anyone: the keys that sign access tokens (every service fetches them) |
//! | `GET /.well-known/oauth-authorization-server` | anyone: this endpoint's metadata (RFC 8414) |
//!
//! A token exchange is a form (`application/x-www-form-urlencoded`):
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, `subject_token=<the ID token>`,
//! `subject_token_type=urn:ietf:params:oauth:token-type:id_token`, and optionally
//! `scope=body:<awarding body id>` to act for that body with the roles held there now (without
//! it, the token acts for no body: an applicant, or the authority). Machine clients send
//! `grant_type=client_credentials` with `client_id` and `client_secret` (in the form, or as HTTP
//! Basic). Errors are RFC 6749 JSON (`error`, `error_description` naming the field at fault).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kutse_auth::access::Grant;
use kutse_auth::{AuthError, Role};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::{db, registry};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(jwks))
        .routes(routes!(metadata))
}

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub(super) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    fn request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    fn client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id / client_secret: unknown client, wrong secret, or revoked",
        )
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "token endpoint failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again shortly",
        )
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .extensions_mut()
            .insert(kutse_http::StandardErrorFormat);
        no_store(response.headers_mut());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"kutse\""),
            );
        }
        response
    }
}

/// An error of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, ToSchema)]
#[allow(
    dead_code,
    reason = "only describes the error body in the OpenAPI document"
)]
struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`,
    /// `invalid_client` (401) or `temporarily_unavailable` (503).
    error: String,
    /// What is wrong, naming the field at fault.
    error_description: String,
}

/// The token endpoint's form (`application/x-www-form-urlencoded`); a parameter given twice is
/// refused.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "only describes the form in the OpenAPI document")]
struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (a person's TARA ID token) or
    /// `client_credentials` (a machine client).
    #[schema(example = "urn:ietf:params:oauth:grant-type:token-exchange")]
    grant_type: String,
    /// Token exchange: the person's TARA ID token.
    subject_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:id_token` (or `…:jwt`).
    subject_token_type: Option<String>,
    /// Token exchange: only `urn:ietf:params:oauth:token-type:access_token` is issued.
    requested_token_type: Option<String>,
    /// Token exchange: `body:<awarding body id>` to act for that body with the roles held there
    /// now; without it the token acts for no body. Client credentials: not allowed.
    scope: Option<String>,
    /// Client credentials: the client's id (or HTTP Basic instead of the form).
    client_id: Option<String>,
    /// Client credentials: the client's secret (or HTTP Basic instead of the form).
    client_secret: Option<String>,
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An issued access token (RFC 6749 §5.1, RFC 8693 §2.2.1).
#[derive(Debug, Serialize, ToSchema)]
struct Issued {
    /// A Kutse access token (a JWT), for `Authorization: Bearer`.
    access_token: String,
    /// `urn:ietf:params:oauth:token-type:access_token`.
    issued_token_type: &'static str,
    /// `Bearer`.
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
    /// `body:<awarding body id>` when the token acts for a body.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// The form's parameters; a parameter given twice is refused (RFC 6749 §3.1).
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(OAuthError::request(format!("{name}: given more than once")));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::request(format!("{name}: required")))
    }
}

/// Issues a Kutse access token: for a person's TARA login (token exchange) or a machine client
/// (client credentials, in the form or as HTTP Basic).
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    operation_id = "token",
    security(()),
    request_body(
        content = TokenForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The grant: a token exchange or client credentials.",
    ),
    responses(
        (status = 200, description = "Issued.", body = Issued,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "Refused: `invalid_request`, `invalid_grant`, `invalid_scope` or `unsupported_grant_type` (RFC 6749 §5.2).", body = OAuthErrorBody, content_type = "application/json"),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret, or revoked.", body = OAuthErrorBody, content_type = "application/json"),
        (status = 503, description = "`temporarily_unavailable` (RFC 6749 JSON), or a problem document when the request timed out.", content(
            (OAuthErrorBody = "application/json"),
            (kutse_http::Problem = "application/problem+json"),
        )),
    ),
)]
async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(params) = form.map_err(|e| {
        OAuthError::request(format!(
            "the body must be an application/x-www-form-urlencoded form: {e}"
        ))
    })?;
    let params = Params(params);
    let issued = match params.required("grant_type")? {
        TOKEN_EXCHANGE => exchange(&state, &params).await?,
        "client_credentials" => client_credentials(&state, &params, &headers).await?,
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type: {other:?} is not token-exchange or client_credentials"),
            ));
        }
    };
    let mut response = (StatusCode::OK, axum::Json(issued)).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// The body a `scope` of `body:<uuid>` names, if any.
fn body_scope(scope: Option<&str>) -> Result<Option<Uuid>, OAuthError> {
    let mut body = None;
    for item in scope.unwrap_or_default().split_whitespace() {
        let id = item
            .strip_prefix("body:")
            .and_then(|id| id.parse::<Uuid>().ok())
            .ok_or_else(|| {
                OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!("scope: {item:?} is not body:<awarding body id>"),
                )
            })?;
        if body.replace(id).is_some() {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "scope: a token acts for one awarding body at a time",
            ));
        }
    }
    Ok(body)
}

async fn exchange(state: &AppState, params: &Params) -> Result<Issued, OAuthError> {
    let subject_token = params.required("subject_token")?;
    match params.required("subject_token_type")? {
        ID_TOKEN | JWT => {}
        other => {
            return Err(OAuthError::request(format!(
                "subject_token_type: {other:?} is not {ID_TOKEN}"
            )));
        }
    }
    if let Some(requested) = params.get("requested_token_type")?
        && requested != ACCESS_TOKEN
    {
        return Err(OAuthError::request(format!(
            "requested_token_type: only {ACCESS_TOKEN} is issued"
        )));
    }
    let body = body_scope(params.get("scope")?)?;
    let (person, client_id) = match state.tokens.tara_identity(subject_token).await {
        Ok(found) => found,
        // TARA's keys not (yet) loaded: our trouble, not the caller's.
        Err(e)
            if matches!(e, AuthError::KeysUnavailable(_)) || state.tokens.tara.ready().is_err() =>
        {
            return Err(OAuthError::internal(format!("TARA's keys: {e}")));
        }
        Err(e) => return Err(OAuthError::grant(format!("subject_token: {e}"))),
    };
    let code = person.isikukood.to_string();
    let today = kutse_domain::tallinn_date(chrono::Utc::now());
    let mut conn = state.pool.acquire().await?;
    let scope_key = body.map(|b| format!("body:{b}")).unwrap_or_default();
    let expires_at =
        chrono::DateTime::from_timestamp(person.expires_at, 0).unwrap_or_else(chrono::Utc::now);
    if !db::exchanges::mark_exchanged(&mut conn, &person.token_id, &scope_key, expires_at).await? {
        return Err(OAuthError::grant(
            "subject_token: already exchanged for this scope; log the person in again",
        ));
    }
    let held = db::appointments::held(&mut conn, &code, today, body).await?;
    let mut roles = Vec::new();
    let mut partner = None;
    for appointment in &held {
        let Some(role) = Role::parse(&appointment.role) else {
            continue;
        };
        // Without a body, the token acts for none: only the authority's role applies.
        if body.is_none() && role != Role::Authority {
            continue;
        }
        if role == Role::Partner {
            let (Some(body), Some(code)) =
                (appointment.awarding_body_id, &appointment.partner_code)
            else {
                continue;
            };
            if !db::partners::in_force(&mut conn, body, code).await? {
                continue;
            }
            partner = Some(code.clone());
        }
        roles.push(role);
    }
    if let Some(body) = body
        && !roles.iter().any(|r| *r != Role::Authority)
    {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("scope: you hold no role at awarding body {body} now"),
        ));
    }
    let roles = registry::token_roles(roles);
    let grant = Grant {
        subject: format!("EE{code}"),
        client_id,
        roles: roles.clone(),
        awarding_body_id: body,
        partner,
        given_name: Some(person.given_name),
        family_name: Some(person.family_name),
        email: person.email,
        amr: person.amr,
        acr: Some(person.assurance.as_str().to_owned()),
        ttl_seconds: ttl_seconds(state),
    };
    let issued = issue(state, &grant, body.map(|b| format!("body:{b}")))?;
    tracing::info!(
        roles = ?roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        awarding_body = ?body,
        client = grant.client_id.as_str(),
        "access token issued for a TARA login"
    );
    Ok(issued)
}

fn ttl_seconds(state: &AppState) -> i64 {
    i64::try_from(state.tokens.ttl.as_secs()).unwrap_or(300)
}

fn issue(state: &AppState, grant: &Grant, scope: Option<String>) -> Result<Issued, OAuthError> {
    let access_token = state
        .tokens
        .issuer
        .mint(grant)
        .map_err(OAuthError::internal)?;
    Ok(Issued {
        access_token,
        issued_token_type: ACCESS_TOKEN,
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        scope,
    })
}

/// `client_id` and `client_secret`, from HTTP Basic or the form (not both).
fn client_secret(params: &Params, headers: &HeaderMap) -> Result<(String, String), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, credentials) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(credentials)
        })
        .map(|b| {
            let decoded = STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or_else(OAuthError::client)?;
            let (id, secret) = decoded.split_once(':').ok_or_else(OAuthError::client)?;
            Ok::<_, OAuthError>((id.to_owned(), secret.to_owned()))
        })
        .transpose()?;
    match (
        basic,
        params.get("client_id")?,
        params.get("client_secret")?,
    ) {
        (Some(pair), _, None) => Ok(pair),
        (None, Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
        (Some(_), _, Some(_)) => Err(OAuthError::request(
            "client_secret: use HTTP Basic or the form, not both",
        )),
        (None, None, _) => Err(OAuthError::request("client_id: required")),
        (None, Some(_), None) => Err(OAuthError::request("client_secret: required")),
    }
}

/// The stored form of a client secret.
pub(super) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn client_credentials(
    state: &AppState,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Issued, OAuthError> {
    let (id, secret) = client_secret(params, headers)?;
    let id: Uuid = id.parse().map_err(|_| OAuthError::client())?;
    let mut conn = state.pool.acquire().await?;
    let client = db::clients::find(&mut conn, id)
        .await?
        .filter(|c| c.revoked_at.is_none() && c.secret_sha256 == secret_hash(&secret))
        .ok_or_else(OAuthError::client)?;
    if params.get("scope")?.is_some() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope: a client acts for its own body with its registered roles",
        ));
    }
    let roles: Vec<Role> = client.roles.iter().filter_map(|r| Role::parse(r)).collect();
    let grant = Grant {
        subject: client.id.to_string(),
        client_id: client.id.to_string(),
        roles,
        awarding_body_id: Some(client.awarding_body_id),
        ttl_seconds: ttl_seconds(state),
        ..Grant::default()
    };
    let issued = issue(state, &grant, None)?;
    tracing::info!(client = %client.id, awarding_body = %client.awarding_body_id, "access token issued to a machine client");
    Ok(issued)
}

/// The public keys that sign Kutse access tokens (a JWK set): anyone.
#[utoipa::path(
    get,
    path = "/oauth/jwks.json",
    tag = "oauth",
    operation_id = "jwks",
    security(()),
    responses(
        (status = 200, description = "A JWK set: `keys`, an array of public keys (JWK).", body = kutse_http::openapi::AnyJson,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    ),
)]
async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = axum::Json(state.tokens.issuer.jwks_json()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The token endpoint's metadata (RFC 8414): anyone.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    operation_id = "oauth_metadata",
    security(()),
    responses(
        (status = 200, description = "Authorization server metadata: `issuer`, `token_endpoint`, `jwks_uri`, `grant_types_supported`, `token_endpoint_auth_methods_supported`, `scopes_supported`.", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn metadata(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    let base = state.public_base_url.trim_end_matches('/');
    axum::Json(serde_json::json!({
        "issuer": state.tokens.issuer.issuer(),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/oauth/jwks.json"),
        "grant_types_supported": [TOKEN_EXCHANGE, "client_credentials"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": ["body:<awarding body id>"],
    }))
}
