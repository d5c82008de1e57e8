//! The register's API.
//!
//! | route | who |
//! |---|---|
//! | `POST /register/signers` | the authority, or staff of the body: registers a committee chair's public key |
//! | `GET /register/jwks.json` | anyone: the key that seals certificates |
//! | `GET /certificates/{register_number}/verification` | anyone: the certificate, its seal, and whether the seal verifies |

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use kutse_auth::{Authenticated, Role, Verifier};
use kutse_http::{ApiError, FieldError, Json};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::consumers::CertificateDocument;
use crate::register::RegisterKey;

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
    pub register: RegisterKey,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/register/signers", post(register_signer))
        .route("/register/jwks.json", get(jwks))
        .route("/certificates/{number}/verification", get(verification))
        .with_state(state)
}

fn db(e: sqlx::Error) -> ApiError {
    ApiError::Internal(e.into())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSigner {
    kid: String,
    awarding_body_id: Uuid,
    /// Ed25519 public key, base64url (32 bytes).
    public_key: String,
}

#[derive(Debug, Serialize)]
struct SignerView {
    kid: String,
    awarding_body_id: Uuid,
    public_key: String,
}

async fn register_signer(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Json(input): Json<NewSigner>,
) -> Result<(StatusCode, Json<SignerView>), ApiError> {
    if !(principal.has_role(Role::Authority)
        || principal.acts_for(Role::AwardingBodyStaff, input.awarding_body_id))
    {
        return Err(ApiError::Forbidden(
            "only the authority or the body's staff register signer keys".to_owned(),
        ));
    }
    let mut errors = Vec::new();
    let kid = input.kid.trim();
    if kid.is_empty() || kid.len() > 100 {
        errors.push(FieldError::new("kid", "must be 1-100 characters"));
    }
    if let Err(e) = kutse_protocol::verifying_key(&input.public_key) {
        errors.push(FieldError::new("public_key", e));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    sqlx::query(
        "INSERT INTO signer_keys (kid, awarding_body_id, public_key, registered_by) VALUES ($1, $2, $3, $4)",
    )
    .bind(kid)
    .bind(input.awarding_body_id)
    .bind(input.public_key.trim())
    .bind(&principal.subject)
    .execute(&state.pool)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ApiError::Conflict(format!("a signer key {kid} is already registered"))
        }
        other => db(other),
    })?;
    tracing::info!(kid, body = %input.awarding_body_id, "signer key registered");
    Ok((
        StatusCode::CREATED,
        Json(SignerView {
            kid: kid.to_owned(),
            awarding_body_id: input.awarding_body_id,
            public_key: input.public_key.trim().to_owned(),
        }),
    ))
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.register.jwks())
}

#[derive(Debug, Serialize)]
struct Verification {
    valid: bool,
    certificate: CertificateDocument,
    seal: String,
    jwks_url: &'static str,
}

async fn verification(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<Verification>, ApiError> {
    let row = sqlx::query("SELECT seal FROM certificates WHERE register_number = $1 AND published")
        .bind(&number)
        .fetch_optional(&state.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("certificate".to_owned()))?;
    let seal: String = row.get("seal");
    let key = state.register.key.verifying_key();
    let verified: Result<CertificateDocument, _> =
        kutse_protocol::verify(&seal, |kid| (kid == state.register.kid).then_some(key));
    match verified {
        Ok(certificate) => Ok(Json(Verification {
            valid: true,
            certificate,
            seal,
            jwks_url: "/register/jwks.json",
        })),
        Err(e) => Err(ApiError::Internal(anyhow::anyhow!(
            "stored seal of {number} does not verify: {e}"
        ))),
    }
}
