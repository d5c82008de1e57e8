//! Certificates: the public verification page and its JSON, the credential, the holder's own
//! view with the seal, the PDF, and the register's JWKS, issuer profile and JSON-LD contexts.
//!
//! `GET /certificates/{number}` is what the certificate's QR code opens. Without an
//! `Authorization` header it is the public verification page (HTML, Estonian or English by
//! `?lang=` or `Accept-Language`); with a bearer token it is the holder's view (JSON), as it
//! always was.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use kutse_auth::{Authenticated, Principal, Role};
use kutse_http::{ApiError, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::consumers::{CertificateDocument, SEAL_TYP};
use crate::db::outcomes::Stored;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issuer))
        .routes(routes!(jwks))
        .routes(routes!(context))
        .routes(routes!(verification))
        .routes(routes!(credential))
        .routes(routes!(pdf))
        .routes(routes!(certificate))
}

/// The register's public keys (JWKS): the keys that seal certificates and sign credentials and
/// status lists.
#[utoipa::path(
    get,
    path = "/register/jwks.json",
    tag = "certificates",
    security(()),
    responses(
        (status = 200, description = "A JSON Web Key Set (RFC 7517): `{keys: [{kty, crv, x, kid, alg, use}]}`, Ed25519 (`OKP`) keys.", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.register.jwks())
}

/// The register as a credential issuer (the `issuer` of every credential).
#[utoipa::path(
    get,
    path = "/register",
    tag = "certificates",
    security(()),
    responses(
        (status = 200, description = "The issuer's Open Badges 3.0 profile: `{id, type: [\"Profile\"], name, description, url}`.", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn issuer(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::credential::issuer(&state.public_base_url))
}

/// The JSON-LD contexts the credentials name, as embedded in the binary.
#[utoipa::path(
    get,
    path = "/register/contexts/{file}",
    tag = "certificates",
    security(()),
    params(("file" = String, Path, description = "The context's file name: `credentials-v2.jsonld` or `ob-v3p0-context-3.0.3.jsonld`.", example = "credentials-v2.jsonld")),
    responses(
        (status = 200, description = "The JSON-LD context document (`{\"@context\": {...}}`).", content_type = "application/ld+json", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn context(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, _, document) = crate::credential::CONTEXTS
        .iter()
        .find(|(_, name, _)| *name == file)
        .ok_or_else(|| ApiError::NotFound("context".to_owned()))?;
    Ok(([(header::CONTENT_TYPE, "application/ld+json")], *document).into_response())
}

/// The certificate's status as verification shows it: revoked and suspended first (a decision
/// of the authority or the body), then expiry (the last valid day is `valid_until`, in Tallinn).
pub(super) fn shown_status(stored: &str, valid_until: NaiveDate, today: NaiveDate) -> &'static str {
    match stored {
        "revoked" => "revoked",
        "suspended" => "suspended",
        _ if valid_until < today => "expired",
        _ => "valid",
    }
}

/// A certificate as the public register shows it: never the holder's personal code (register
/// numbers are sequential, so anything shown here can be harvested), nor the seal, whose payload
/// carries the code. Whether the seal verifies is said instead.
#[derive(Debug, Serialize, ToSchema)]
struct PublicCertificate {
    register_number: String,
    holder: PublicHolder,
    /// The qualification: `{id, name, level, partial}`.
    #[schema(value_type = Object)]
    qualification: kutse_messaging::catalogue::QualificationRef,
    awarding_body_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    awarding_body_name: Option<String>,
    /// The competences of the occupational standard: `[{code, name}]`.
    #[schema(value_type = Vec<Object>)]
    competences: Vec<kutse_messaging::catalogue::CompetenceRef>,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    /// `valid`, `suspended`, `revoked` or `expired`.
    status: &'static str,
    /// The certificate this one succeeds (a recertification).
    #[serde(skip_serializing_if = "Option::is_none")]
    successor_of: Option<String>,
    /// The recertification's certificate that succeeded this one: it stays genuine, the
    /// successor is the one in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    superseded_by: Option<String>,
    /// On a duplicate's document: its edition (2 the first duplicate), day and reason; earlier
    /// documents of the certificate are superseded.
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate: Option<crate::consumers::DuplicateMark>,
}

/// The holder's name (never their personal code).
#[derive(Debug, Serialize, ToSchema)]
struct PublicHolder {
    given_name: String,
    family_name: String,
}

/// What the public register shows of a certificate.
#[derive(Debug, Serialize, ToSchema)]
struct Verification {
    /// The seal verifies with the register's published key.
    valid: bool,
    certificate: PublicCertificate,
    jwks_url: &'static str,
    /// The Open Badges 3.0 credential (vc+jwt), if the certificate has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_url: Option<String>,
    /// The PDF's SHA-256 (hex), once it is rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pdf_sha256: Option<String>,
}

/// The stored certificate and its document, whose seal verifies (a seal that does not verify is
/// an internal fault).
pub(super) async fn sealed(
    state: &AppState,
    number: &str,
) -> Result<(CertificateDocument, Stored), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let stored = crate::db::outcomes::by_number(&mut conn, number)
        .await?
        .ok_or_else(|| ApiError::NotFound("certificate".to_owned()))?;
    // The register's key also signs credentials and status lists: a seal is read only as a seal.
    if kutse_protocol::type_of(&stored.seal)
        .ok()
        .flatten()
        .as_deref()
        != Some(SEAL_TYP)
    {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "stored seal of {number} is not a kutse-certificate JWS"
        )));
    }
    let document: CertificateDocument =
        kutse_protocol::verify(&stored.seal, |kid| state.register.verifying_key(kid)).map_err(
            |e| {
                ApiError::Internal(anyhow::anyhow!(
                    "stored seal of {number} does not verify: {e}"
                ))
            },
        )?;
    Ok((document, stored))
}

fn verification_of(
    state: &AppState,
    document: CertificateDocument,
    stored: &Stored,
) -> Verification {
    let status = shown_status(
        &stored.status,
        document.valid_until,
        kutse_domain::tallinn_today(),
    );
    let credential_url = stored.credential.as_ref().map(|_| {
        format!(
            "{}/certificates/{}/credential",
            state.public_base_url, document.register_number
        )
    });
    Verification {
        valid: true,
        certificate: PublicCertificate {
            register_number: document.register_number,
            holder: PublicHolder {
                given_name: document.holder.given_name,
                family_name: document.holder.family_name,
            },
            qualification: document.qualification,
            awarding_body_id: document.awarding_body_id,
            awarding_body_name: document.awarding_body_name,
            competences: document.competences,
            issued_on: document.issued_on,
            valid_until: document.valid_until,
            status,
            successor_of: document.successor_of,
            superseded_by: stored.superseded_by.clone(),
            duplicate: document.duplicate,
        },
        jwks_url: "/register/jwks.json",
        credential_url,
        pdf_sha256: stored.pdf_sha256.clone(),
    }
}

/// What the public register shows of a certificate: its status and whether its seal verifies
/// (no personal code).
#[utoipa::path(
    get,
    path = "/certificates/{number}/verification",
    tag = "certificates",
    security(()),
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    responses(
        (status = 200, description = "The certificate as the public register shows it; never cached.", body = Verification),
    ),
)]
async fn verification(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let (document, stored) = sealed(&state, &number).await?;
    let verification = verification_of(&state, document, &stored);
    // A change of status shows at once: no cache may keep an answer.
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(verification)).into_response())
}

/// The certificate's Open Badges 3.0 credential, as a `vc+jwt` (public: it carries no personal
/// code).
#[utoipa::path(
    get,
    path = "/certificates/{number}/credential",
    tag = "certificates",
    security(()),
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    responses(
        (status = 200, description = "The credential: a compact JWS (VC-JOSE-COSE) signed with the register's key.", content_type = "application/vc+jwt", body = String),
    ),
)]
async fn credential(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let (_, stored) = sealed(&state, &number).await?;
    let credential = stored
        .credential
        .ok_or_else(|| ApiError::NotFound("credential".to_owned()))?;
    Ok(([(header::CONTENT_TYPE, "application/vc+jwt")], credential).into_response())
}

/// Who may see the holder's view and the PDF: the holder, the issuing body's staff and
/// administrators, the authority. Others get 404: whether someone else holds this number is not
/// the caller's business here.
fn entitled(principal: &Principal, document: &CertificateDocument) -> Result<(), ApiError> {
    let holder = principal.is_person(&document.holder.isikukood);
    let body = document.awarding_body_id;
    let body_staff = principal.acts_for(Role::AwardingBodyStaff, body)
        || principal.acts_for(Role::BodyAdministrator, body);
    if holder || body_staff || principal.has_role(Role::Authority) {
        Ok(())
    } else {
        Err(ApiError::NotFound("certificate".to_owned()))
    }
}

/// The whole certificate with its seal, for those entitled to the personal code.
#[derive(Debug, Serialize, ToSchema)]
struct HolderView {
    valid: bool,
    /// `valid`, `suspended`, `revoked` or `expired`.
    status: &'static str,
    certificate: CertificateDocument,
    seal: String,
    jwks_url: &'static str,
    /// The Open Badges credential (vc+jwt) and what proves it names the holder: the salt of its
    /// `identityHash` (`sha256$hex(sha256(personal code ‖ salt))`).
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_salt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdf: Option<PdfInfo>,
    history: Vec<crate::db::status::Recorded>,
}

/// Where the certificate's PDF is, and its checksum.
#[derive(Debug, Serialize, ToSchema)]
struct PdfInfo {
    url: String,
    sha256: String,
    size_bytes: i64,
}

/// The verification page's language.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// `et` or `en`; otherwise the first of `Accept-Language` the page speaks, else Estonian.
    /// Ignored with a token.
    lang: Option<String>,
}

/// The QR code's target: the public page, or with a token the holder's view.
///
/// Without an `Authorization` header: the verification page (HTML, Estonian or English), 404 as
/// a page too for a number the register does not hold. With a bearer token: the whole sealed
/// certificate (JSON) for the holder, the issuing body's staff and administrators, and the
/// authority.
#[utoipa::path(
    get,
    path = "/certificates/{number}",
    tag = "certificates",
    security((), ("bearer" = [])),
    params(
        ("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001"),
        PageQuery,
        ("Accept-Language" = Option<String>, Header, description = "The page's language when `lang` does not say it (`et` or `en`)."),
    ),
    responses(
        (status = 200, description = "Without a token, the verification page (HTML); with one, the holder's view (JSON, not to be stored).",
            content(
                (String = "text/html; charset=utf-8"),
                (HolderView = "application/json"),
            ),
        ),
        (status = 404, description = "Without a token, a page saying the register holds no such number (HTML); with one, a problem document.",
            content(
                (String = "text/html; charset=utf-8"),
                (kutse_http::Problem = "application/problem+json"),
            ),
        ),
    ),
)]
async fn certificate(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(query): Query<PageQuery>,
    mut parts: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        let Authenticated(principal) = <Authenticated as axum::extract::FromRequestParts<
            AppState,
        >>::from_request_parts(&mut parts, &state)
        .await?;
        return holder_view(&state, &principal, &number).await;
    }
    let headers = &parts.headers;
    let language = super::page::language(query.lang.as_deref(), headers);
    let (document, stored) = match sealed(&state, &number).await {
        Ok(found) => found,
        Err(ApiError::NotFound(_)) => {
            return Ok(super::page::not_found(&state, language, &number));
        }
        Err(e) => return Err(e),
    };
    let verification = verification_of(&state, document, &stored);
    super::page::render(&state, language, &verification)
}

async fn holder_view(
    state: &AppState,
    principal: &Principal,
    number: &str,
) -> Result<Response, ApiError> {
    let (certificate, stored) = sealed(state, number).await?;
    entitled(principal, &certificate)?;
    let mut conn = state.pool.acquire().await?;
    tracked(&mut conn, principal, &certificate, "certificate").await?;
    let history = crate::db::status::history(&mut conn, stored.id).await?;
    let status = shown_status(
        &stored.status,
        certificate.valid_until,
        kutse_domain::tallinn_today(),
    );
    let pdf = match (&stored.pdf_sha256, stored.pdf_size) {
        (Some(sha256), Some(size_bytes)) => Some(PdfInfo {
            url: format!(
                "{}/certificates/{number}/certificate.pdf",
                state.public_base_url
            ),
            sha256: sha256.clone(),
            size_bytes,
        }),
        _ => None,
    };
    let view = HolderView {
        valid: true,
        status,
        certificate,
        seal: stored.seal,
        jwks_url: "/register/jwks.json",
        credential: stored.credential,
        identity_salt: stored.holder_salt,
        pdf,
        history,
    };
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Tracks a read of the holder's certificate (with their personal code) by the body or the
/// authority.
async fn tracked(
    conn: &mut sqlx::PgConnection,
    principal: &Principal,
    certificate: &CertificateDocument,
    what: &'static str,
) -> Result<(), ApiError> {
    kutse_service::data_reads::announce::<kutse_messaging::catalogue::CertificatesDataRead>(
        conn,
        principal,
        &[kutse_service::data_reads::Read {
            person: certificate.holder.isikukood.clone(),
            what,
            resource: certificate.register_number.clone(),
        }],
    )
    .await?;
    Ok(())
}

/// The certificate's PDF, for the holder, the issuing body and the authority.
#[utoipa::path(
    get,
    path = "/certificates/{number}/certificate.pdf",
    tag = "certificates",
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    responses(
        (status = 200, description = "The certificate as a PDF/A-2b, as an attachment (`{number}.pdf`); not to be stored.", content_type = "application/pdf", body = kutse_http::openapi::Bytes,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"{number}.pdf\"`")),
        ),
    ),
)]
async fn pdf(
    State(state): State<AppState>,
    method: axum::http::Method,
    Authenticated(principal): Authenticated,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let (document, stored) = sealed(&state, &number).await?;
    entitled(&principal, &document)?;
    let key = stored
        .pdf_key
        .ok_or_else(|| ApiError::NotFound("the certificate's PDF (not rendered yet)".to_owned()))?;
    let bytes = crate::renderer::read_pdf(&state.storage, &key)
        .await
        .map_err(ApiError::Internal)?;
    let mut conn = state.pool.acquire().await?;
    tracked(&mut conn, &principal, &document, "certificate PDF").await?;
    // The holder downloading their stamped certificate is a document handed out (DVVK 325),
    // each download; the body's or the authority's copy is their own work, not an exchange, and
    // a HEAD hands nothing out.
    let holder = principal.is_person(&document.holder.isikukood);
    if holder && method != axum::http::Method::HEAD {
        kutse_service::exchanges::announce::<kutse_messaging::catalogue::CertificatesExchange>(
            &mut conn,
            "certificate.downloaded",
            &uuid::Uuid::now_v7().to_string(),
            kutse_domain::Dvvk::FileExchange,
        )
        .await?;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{number}.pdf\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_decision_of_the_authority_or_the_body_shows_before_expiry_and_the_last_day_is_valid() {
        let today = date("2027-03-01");
        assert_eq!(shown_status("valid", date("2027-03-01"), today), "valid");
        assert_eq!(shown_status("valid", date("2027-02-28"), today), "expired");
        assert_eq!(
            shown_status("suspended", date("2027-02-28"), today),
            "suspended"
        );
        assert_eq!(
            shown_status("revoked", date("2030-01-01"), today),
            "revoked"
        );
    }
}
