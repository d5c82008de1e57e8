//! A development token issuer: an Ed25519 key generated on this machine, whose JWKS the services
//! trust in development and tests (never in production, where the JWKS is the provider's).
//!
//! `kutse-dev-token init` writes `signing-key.pem` and `jwks.json` into the dev auth folder
//! (`.local/dev-auth` by default); `kutse-dev-token mint …` prints a token.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use uuid::Uuid;

use crate::principal::Role;

/// The issuer the dev tokens name; the services' default `AUTH_ISSUER`.
pub const DEV_ISSUER: &str = "https://dev.kutse.local";
/// The audience the dev tokens name; the services' default `AUTH_AUDIENCE`.
pub const DEV_AUDIENCE: &str = "kutse";

/// Signs development tokens.
pub struct DevIssuer {
    key: SigningKey,
    kid: String,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// What to put in a token.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// `sub`, e.g. `EE38001085718`.
    pub subject: String,
    pub roles: Vec<Role>,
    pub awarding_body_id: Option<Uuid>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    /// Lifetime in seconds; negative gives an already expired token (tests).
    pub ttl_seconds: i64,
}

#[derive(Serialize)]
struct DevClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    awarding_body_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

impl DevIssuer {
    /// A fresh random key (tests).
    pub fn generate() -> Self {
        Self::from_key(SigningKey::generate(&mut rand_core::OsRng))
    }

    fn from_key(key: SigningKey) -> Self {
        // The key id is derived from the public key, so it changes when the key does.
        let kid = kutse_protocol::keys::key_id("dev", &key.verifying_key());
        Self {
            key,
            kid,
            issuer: DEV_ISSUER.to_owned(),
            audience: DEV_AUDIENCE.to_owned(),
        }
    }

    /// Loads the key in `dir`, creating the key and `jwks.json` if missing.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let key_path = dir.join("signing-key.pem");
        let issuer = if key_path.exists() {
            Self::from_key(kutse_protocol::keys::load_signing_key(&key_path)?)
        } else {
            Self::from_key(kutse_protocol::keys::generate_signing_key(&key_path)?)
        };
        std::fs::write(
            Self::jwks_path(dir),
            serde_json::to_string_pretty(&issuer.jwks_json())?,
        )?;
        Ok(issuer)
    }

    /// Where `load_or_create` keeps the JWKS.
    pub fn jwks_path(dir: &Path) -> PathBuf {
        dir.join("jwks.json")
    }

    /// Names another issuer or audience (tests of `iss`/`aud` checks).
    pub fn with_issuer(mut self, issuer: &str, audience: &str) -> Self {
        issuer.clone_into(&mut self.issuer);
        audience.clone_into(&mut self.audience);
        self
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWKS document.
    pub fn jwks_json(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [kutse_protocol::keys::okp_jwk(&self.kid, &self.key.verifying_key())]
        })
    }

    /// The public key as a key set.
    pub fn jwks(&self) -> JwkSet {
        // Built from our own JSON just above; it always parses.
        serde_json::from_value(self.jwks_json()).unwrap_or(JwkSet { keys: Vec::new() })
    }

    /// Signs a token.
    pub fn mint(&self, request: &TokenRequest) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = DevClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: &request.subject,
            iat: now,
            nbf: now.min(now + request.ttl_seconds),
            exp: now + request.ttl_seconds,
            roles: request.roles.iter().map(|r| r.as_str()).collect(),
            awarding_body_id: request.awarding_body_id,
            given_name: request.given_name.as_deref(),
            family_name: request.family_name.as_deref(),
            email: request.email.as_deref(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding key: {e}"))?;
        Ok(jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_ed_der(der.as_bytes()),
        )?)
    }
}
