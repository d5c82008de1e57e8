//! Authentication and the caller's identity.
//!
//! Two kinds of token meet here:
//! - **TARA ID tokens** ([`tara`]): how a person proved who they are, to a portal. Only intake's
//!   token endpoint reads them, by TARA's rules, and exchanges them (RFC 8693) for
//! - **Kutse access tokens** ([`access`]): short-lived, signed by Kutse's own key, carrying the
//!   person (or machine client) and the roles they hold now in the register, for one awarding body
//!   at a time. Every service's API accepts these and nothing else.
//!
//! The [`Verifier`] checks either kind the same way:
//! - the signing key comes from the issuer's JWKS, chosen by the token's `kid` (an unknown `kid`
//!   triggers one refetch, for key rotation; still unknown → rejected); the JWKS is refreshed as
//!   its `Cache-Control` says;
//! - the algorithm must be on the allow-list (`RS256` for TARA, `EdDSA` for Kutse) and match the
//!   key; `none` and symmetric algorithms never pass;
//! - `iss` must equal the configured issuer exactly, `aud` must name an accepted audience, `exp`
//!   and `nbf` are checked with a small clock skew (10 s by default), and a Kutse access token must
//!   carry the header `typ: at+jwt`.
//!
//! # Layout
//! - [`verifier`]: the validator and its key set.
//! - [`access`]: the access token's claims and its issuer (used by intake's token endpoint).
//! - [`tara`]: TARA's ID token claims and rules.
//! - [`principal`]: who the caller is, their roles, and the axum extractor.
//! - [`dev`]: a stand-in for TARA in development and tests.

pub mod access;
pub mod dev;
pub mod principal;
pub mod tara;
pub mod verifier;

pub use principal::{Authenticated, Principal, Role};
pub use verifier::{AuthConfig, AuthError, JwksSource, Verifier};
