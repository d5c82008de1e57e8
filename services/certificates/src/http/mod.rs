//! The register's API.
//!
//! | route | who |
//! |---|---|
//! | `POST /register/signers` | the authority (key active at once), or staff of the body (key proposed): a committee chair's public key |
//! | `GET /register/signers?awarding_body_id=` | the authority, the body's staff and committee members: every key, revoked ones too |
//! | `POST /register/signers/{kid}/confirmation` | the key's owner, with their own token: a proposed key becomes active |
//! | `POST /register/signers/{kid}/revocation` | the authority or the key's owner: revoked from an effective time, with a reason |
//! | `GET /register/protocols/{id}` | the authority, the body's staff: what became of a protocol (by protocol id or message id) |
//! | `GET /register/jwks.json` | anyone: the key that seals certificates |
//! | `GET /register` | anyone: the register as a credential issuer (Open Badges profile) |
//! | `GET /register/contexts/{file}` | anyone: the JSON-LD contexts credentials name, as embedded |
//! | `GET /certificates/{register_number}` | anyone, without a token: the verification page (HTML, et/en; what the QR code opens). With a token, the holder, the body's staff and administrators, the authority: the whole sealed certificate, its credential with the identity salt, its PDF's checksum, its status history |
//! | `GET /certificates/{register_number}/verification` | anyone: what the public register shows (JSON), the status, whether the seal verifies |
//! | `GET /certificates/{register_number}/credential` | anyone: the Open Badges 3.0 credential (`application/vc+jwt`) |
//! | `GET /certificates/{register_number}/certificate.pdf` | the holder, the body's staff and administrators, the authority |
//! | `POST /certificates/{register_number}/revocation` · `/suspension` · `/reinstatement` | the authority, the issuing body's staff and administrators: `{reason}` |
//! | `GET /status` · `GET /status/{revocation,suspension}/{list}` | anyone: the status lists (`BitstringStatusListCredential`, `application/vc+jwt`) |
//! | `GET /me/certificates` · `PUT /certificates/{register_number}/publication` | the holder: their certificates; show or hide one in the public register |
//! | `GET /register/certificates?name=&qualification=&awarding_body_id=&register_number=&page=&per_page=` | anyone: the public register's search (published certificates, no personal codes, rate-limited) |
//!
//! A signer key belongs to a person — the committee chair who will sign with it — and a body. So
//! that no one person can both register a key and sign with it, a key proposed by staff is usable
//! only after its owner confirms it with their own login; the authority may register one directly.

mod certificates;
mod holders;
pub mod page;
mod search;

pub use search::PER_MINUTE as SEARCH_PER_MINUTE;
mod protocols;
mod signers;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use kutse_auth::Verifier;
use sqlx::PgPool;

use crate::register::RegisterKeys;

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
    pub register: RegisterKeys,
    /// Where the register is reached from outside (credential ids, status lists, QR codes).
    pub public_base_url: String,
    /// The register's bucket (PDFs).
    pub storage: crate::renderer::Storage,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Searches per client per minute in the public register.
    pub search_limit: Arc<search::RateLimit>,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes: a router per resource, merged; and `/openapi.json` describing them.
pub fn router(state: AppState) -> Router {
    let (api, described) = utoipa_axum::router::OpenApiRouter::new()
        .merge(signers::router())
        .merge(protocols::router())
        .merge(certificates::router())
        .merge(status::router())
        .merge(holders::router())
        .merge(search::router())
        .split_for_parts();
    api.merge(kutse_http::Described::new(described, "Kutse certificates", DESCRIPTION).serve())
        .with_state(state)
}

const DESCRIPTION: &str = "The register: verifies signed protocols against the committee chairs' registered signer keys, issues and seals each awarded certificate exactly once, and serves verification: a public page and JSON for every certificate, its Open Badges 3.0 credential, W3C status lists, and a public search; holders see their own certificates and choose which are published; the authority and the issuing body revoke, suspend and reinstate.";
