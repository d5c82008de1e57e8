//! The token service: TARA ID tokens in, Kutse access tokens out.
//!
//! A portal that has logged a person in with TARA exchanges the ID token at `POST /oauth/token`
//! (RFC 8693 token exchange) for a Kutse access token naming the roles the person holds now in the
//! role registry, for the one awarding body the request's `scope` names (`body:<uuid>`). Machine
//! clients get theirs with their id and secret (client credentials). The keys that sign them are
//! published at `/oauth/jwks.json`, where every other service fetches them.

use std::sync::Arc;
use std::time::Duration;

use kutse_auth::access::AccessTokenIssuer;
use kutse_auth::tara::{TaraClaims, TaraIdentity, TaraRules};
use kutse_auth::{AuthConfig, AuthError, Verifier};
use kutse_protocol::keys::KeyRing;

use crate::config::Config;

/// Mints access tokens and checks TARA's ID tokens.
#[derive(Debug, Clone)]
pub struct TokenService {
    pub issuer: AccessTokenIssuer,
    /// Validates TARA ID tokens (RS256 only, TARA's issuer, a portal's client id).
    pub tara: Arc<Verifier>,
    tara_rules: TaraRules,
    client_ids: Vec<String>,
    /// An access token's lifetime.
    pub ttl: Duration,
}

impl TokenService {
    /// Loads the signing keys and TARA's keys (retried in the background if TARA is down).
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        let keys = KeyRing::load(&config.tokens.keys, "kutse").map_err(|e| {
            anyhow::anyhow!(
                "TOKEN_SIGNING_KEY_FILE / TOKEN_PUBLISHED_KEY_FILES: the access-token keys: {e}"
            )
        })?;
        if keys.generated() {
            tracing::warn!(path = %config.tokens.keys.current.display(), "generated an access-token signing key (development only)");
        }
        let auth = &config.service.auth;
        let audience = auth
            .audience
            .first()
            .ok_or_else(|| anyhow::anyhow!("AUTH_AUDIENCE is empty"))?;
        let issuer = AccessTokenIssuer::new(keys, &auth.issuer, audience)?;
        let tara = Verifier::new(AuthConfig {
            issuer: config.tara.issuer.clone(),
            audience: config.tara.client_ids.clone(),
            token_type: None,
            algorithms: vec![jsonwebtoken::Algorithm::RS256],
            jwks: config.tara.jwks.clone(),
            leeway: auth.leeway,
            min_refresh: auth.min_refresh,
        })
        .await?;
        Ok(Self {
            issuer,
            tara: Arc::new(tara),
            tara_rules: config.tara.rules.clone(),
            client_ids: config.tara.client_ids.clone(),
            ttl: config.tokens.ttl,
        })
    }

    /// The person a TARA ID token names, and the portal (TARA client id) it was issued to.
    pub async fn tara_identity(&self, id_token: &str) -> Result<(TaraIdentity, String), AuthError> {
        let claims: TaraClaims = self.tara.decode(id_token).await?;
        let identity =
            kutse_auth::tara::identity(&claims, &self.tara_rules, chrono::Utc::now().timestamp())?;
        let client = claims
            .aud
            .matching(&self.client_ids)
            .cloned()
            .ok_or_else(|| AuthError::Claims("the audience is no portal of ours".to_owned()))?;
        Ok((identity, client))
    }
}
