//! Kutse access tokens: what every service accepts, and how intake's token endpoint makes them.
//!
//! A Kutse access token is a JWT (RFC 9068 profile: header `typ` `at+jwt`) signed with EdDSA by
//! Kutse's own key, whose public half is served as a JWKS (`/oauth/jwks.json` of intake). It is
//! short-lived (5 minutes by default) and carries who the caller is and the roles they hold *now*
//! in the register: a person's roles at the one awarding body the token acts for (chosen at the
//! exchange), or a machine client's roles at its body. Removing a role therefore takes effect
//! within one token lifetime: the next exchange no longer grants it.
//!
//! Claims: `iss`, `aud`, `sub` (`EE` + personal code for a person, the client id for a machine
//! client), `client_id` (the portal's TARA client id, or the machine client), `iat`, `nbf`, `exp`,
//! `jti`, `roles`, `awarding_body_id`, `partner` (a partner organisation's registry code), the
//! person's `given_name`/`family_name`/`email`, and `amr`/`acr` from their TARA login.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kutse_protocol::keys::KeyRing;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::principal::Role;

/// The `typ` header of a Kutse access token (RFC 9068); tokens without it are refused, so an ID
/// token can never pass as an access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of a Kutse access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub client_id: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarding_body_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// What a token is to say: whom it names, what they may do now, for how long.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// `sub`: `EE` + personal code, or a machine client's id.
    pub subject: String,
    /// The client the token is issued to (a portal's TARA client id, or the machine client).
    pub client_id: String,
    pub roles: Vec<Role>,
    pub awarding_body_id: Option<Uuid>,
    pub partner: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    /// Lifetime in seconds; negative gives an already expired token (tests).
    pub ttl_seconds: i64,
}

/// Signs Kutse access tokens with the current key of a [`KeyRing`].
#[derive(Clone)]
pub struct AccessTokenIssuer {
    keys: KeyRing,
    encoding: EncodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for AccessTokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenIssuer")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl AccessTokenIssuer {
    /// An issuer named `issuer`, minting for `audience`, signing with `keys`' current key.
    pub fn new(keys: KeyRing, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let der = keys
            .current()
            .0
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the token key: {e}"))?;
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The issuer's name (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key ring (current and published keys).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The published keys as a JWKS document.
    pub fn jwks_json(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// The published keys as a key set (for a verifier in the same process).
    pub fn jwks(&self) -> JwkSet {
        // Built from our own JSON just above; it always parses.
        serde_json::from_value(self.jwks_json()).unwrap_or(JwkSet { keys: Vec::new() })
    }

    /// Signs a token for `grant`.
    pub fn mint(&self, grant: &Grant) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: grant.subject.clone(),
            client_id: grant.client_id.clone(),
            iat: now,
            nbf: now.min(now + grant.ttl_seconds),
            exp: now + grant.ttl_seconds,
            jti: Uuid::now_v7().to_string(),
            roles: grant.roles.clone(),
            awarding_body_id: grant.awarding_body_id,
            partner: grant.partner.clone(),
            given_name: grant.given_name.clone(),
            family_name: grant.family_name.clone(),
            email: grant.email.clone(),
            amr: grant.amr.clone(),
            acr: grant.acr.clone(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.keys.current().1.to_owned());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }
}
