//! Certificates: the public verification (what the public register shows), the holder's own
//! view with the seal, and the register's JWKS.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::NaiveDate;
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json};
use serde::Serialize;
use uuid::Uuid;

use super::AppState;
use crate::consumers::CertificateDocument;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/register/jwks.json", get(jwks))
        .route("/certificates/{number}/verification", get(verification))
        .route("/certificates/{number}", get(holder_view))
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.register.jwks())
}

/// A certificate as the public register shows it: never the holder's personal code (register
/// numbers are sequential, so anything shown here can be harvested), nor the seal, whose payload
/// carries the code. Whether the seal verifies is said instead.
#[derive(Debug, Serialize)]
struct PublicCertificate {
    register_number: String,
    holder: PublicHolder,
    qualification: kutse_messaging::catalogue::QualificationRef,
    awarding_body_id: Uuid,
    competences: Vec<kutse_messaging::catalogue::CompetenceRef>,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    /// `valid` or `expired`.
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct PublicHolder {
    given_name: String,
    family_name: String,
}

#[derive(Debug, Serialize)]
struct Verification {
    /// The seal verifies with the register's published key.
    valid: bool,
    certificate: PublicCertificate,
    jwks_url: &'static str,
}

/// The stored certificate whose seal verifies (a seal that does not verify is an internal fault).
async fn sealed(state: &AppState, number: &str) -> Result<(CertificateDocument, String), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let seal = crate::db::outcomes::seal(&mut conn, number)
        .await?
        .ok_or_else(|| ApiError::NotFound("certificate".to_owned()))?;
    let document: CertificateDocument =
        kutse_protocol::verify(&seal, |kid| state.register.verifying_key(kid)).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "stored seal of {number} does not verify: {e}"
            ))
        })?;
    Ok((document, seal))
}

async fn verification(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<Verification>, ApiError> {
    let (document, _) = sealed(&state, &number).await?;
    let status = if document.valid_until < kutse_domain::tallinn_today() {
        "expired"
    } else {
        "valid"
    };
    Ok(Json(Verification {
        valid: true,
        certificate: PublicCertificate {
            register_number: document.register_number,
            holder: PublicHolder {
                given_name: document.holder.given_name,
                family_name: document.holder.family_name,
            },
            qualification: document.qualification,
            awarding_body_id: document.awarding_body_id,
            competences: document.competences,
            issued_on: document.issued_on,
            valid_until: document.valid_until,
            status,
        },
        jwks_url: "/register/jwks.json",
    }))
}

/// The whole certificate with its seal, for those entitled to the personal code.
#[derive(Debug, Serialize)]
struct HolderView {
    valid: bool,
    certificate: CertificateDocument,
    seal: String,
    jwks_url: &'static str,
}

async fn holder_view(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(number): Path<String>,
) -> Result<Json<HolderView>, ApiError> {
    let (certificate, seal) = sealed(&state, &number).await?;
    let holder =
        principal.isikukood.map(|c| c.to_string()) == Some(certificate.holder.isikukood.clone());
    let body_staff = principal.acts_for(Role::AwardingBodyStaff, certificate.awarding_body_id);
    if !(holder || body_staff || principal.has_role(Role::Authority)) {
        // Not 403: whether someone else holds this number is not the caller's business here.
        return Err(ApiError::NotFound("certificate".to_owned()));
    }
    Ok(Json(HolderView {
        valid: true,
        certificate,
        seal,
        jwks_url: "/register/jwks.json",
    }))
}
