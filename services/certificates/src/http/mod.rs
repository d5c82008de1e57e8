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
//! | `GET /certificates/{register_number}/verification` | anyone: what the public register shows, and whether the seal verifies |
//! | `GET /certificates/{register_number}` | the holder, the body's staff, the authority: the whole sealed certificate |
//!
//! A signer key belongs to a person — the committee chair who will sign with it — and a body. So
//! that no one person can both register a key and sign with it, a key proposed by staff is usable
//! only after its owner confirms it with their own login; the authority may register one directly.

mod certificates;
mod protocols;
mod signers;

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
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes: a router per resource, merged.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(signers::router())
        .merge(protocols::router())
        .merge(certificates::router())
        .with_state(state)
}
