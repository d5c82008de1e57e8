//! Authentication and the caller's identity.
//!
//! Every Kutse API request carries a bearer JWT from an OpenID Connect provider. Tokens are
//! validated the way Estonia's TARA requires its ID tokens to be:
//! - the signing key comes from the provider's JWKS, chosen by the token's `kid` (an unknown `kid`
//!   triggers one refetch, for key rotation; still unknown → rejected);
//! - the algorithm must be on the allow-list (`RS256` for TARA, `EdDSA` for the dev issuer) and
//!   match the key; `none` and symmetric algorithms never pass;
//! - `iss` must equal the configured issuer exactly, `aud` must contain our client id, `exp` and
//!   `nbf` are checked with a small clock skew (10 s by default).
//!
//! The token's subject is the person: `EE38001085718` (country code and personal code) for an
//! Estonian eID login. Roles beyond `applicant` and the awarding body a staff member works for come
//! from the `roles` and `awarding_body_id` claims, which the provider (or a token exchange in front
//! of TARA) adds.
//!
//! # Layout
//! - [`verifier`]: the validator and its key set.
//! - [`principal`]: who the caller is, and the axum extractor.
//! - [`dev`]: a development token issuer with a locally generated key.

pub mod dev;
pub mod principal;
pub mod verifier;

pub use principal::{Authenticated, Principal, Role};
pub use verifier::{AuthConfig, AuthError, JwksSource, Verifier};
