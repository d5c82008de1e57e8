//! Token validation against a JWKS.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kutse_domain::Isikukood;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::principal::{Principal, Role};

/// Where the provider's signing keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// The provider's JWKS endpoint (TARA: `https://tara.ria.ee/oidc/jwks`).
    Url(String),
    /// A JWKS file (the dev issuer's `jwks.json`).
    File(PathBuf),
    /// Keys given directly (tests).
    Static(JwkSet),
}

/// How tokens are validated.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The exact `iss` expected.
    pub issuer: String,
    /// Our client id, which `aud` must contain.
    pub audience: String,
    /// Accepted signature algorithms. Symmetric algorithms are refused at start.
    pub algorithms: Vec<Algorithm>,
    pub jwks: JwksSource,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
}

impl AuthConfig {
    /// Parses an algorithm allow-list such as `RS256,EdDSA`, refusing `none` and HMAC.
    pub fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
        let mut algorithms = Vec::new();
        for name in names {
            let alg =
                Algorithm::from_str(name).map_err(|_| format!("unknown algorithm {name:?}"))?;
            if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                return Err(format!(
                    "{name} is symmetric: a shared secret cannot identify an OIDC provider"
                ));
            }
            algorithms.push(alg);
        }
        if algorithms.is_empty() {
            return Err("at least one algorithm is needed".to_owned());
        }
        Ok(algorithms)
    }
}

/// Why a token was refused. Shown to the client in the 401 problem's `detail`: it says what is
/// wrong with the token, never anything about our keys or configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("token is malformed: {0}")]
    Malformed(String),
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("token has no key id (kid)")]
    MissingKeyId,
    #[error("token is signed with an unknown key {0:?}")]
    UnknownKey(String),
    #[error("token is invalid: {0}")]
    Invalid(String),
    #[error("token claims are not acceptable: {0}")]
    Claims(String),
    #[error("signing keys are unavailable")]
    KeysUnavailable(String),
}

struct Key {
    decoding: DecodingKey,
    /// The algorithm the JWKS pins for this key, if it does.
    algorithm: Option<Algorithm>,
}

struct KeySet {
    keys: HashMap<String, Key>,
    /// When an unknown key id last made us refetch (the load at start does not count).
    refetched_at: Option<Instant>,
}

/// The claims Kutse reads. Unknown claims are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    awarding_body_id: Option<Uuid>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// TARA puts names under `profile_attributes`.
    #[serde(default)]
    profile_attributes: Option<ProfileAttributes>,
}

#[derive(Debug, Deserialize)]
struct ProfileAttributes {
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
}

/// Validates bearer tokens. Shared by all requests (`Arc<Verifier>` in the app state).
pub struct Verifier {
    config: AuthConfig,
    keys: RwLock<KeySet>,
    /// Serialises refetches and limits them to one per `MIN_REFRESH`, so a stream of tokens with
    /// made-up key ids cannot make us hammer the provider.
    refresh: Mutex<()>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .finish_non_exhaustive()
    }
}

const MIN_REFRESH: Duration = Duration::from_secs(30);

impl Verifier {
    /// Loads the key set once; fails if it cannot.
    pub async fn new(config: AuthConfig) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        let keys = load(&config.jwks, &http).await?;
        Ok(Self {
            config,
            keys: RwLock::new(KeySet {
                keys,
                refetched_at: None,
            }),
            refresh: Mutex::new(()),
            http,
        })
    }

    /// Validates a token and returns who it names.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            // `alg: none` and unknown algorithms fail here.
            AuthError::Malformed(e.to_string())
        })?;
        if !self.config.algorithms.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        let kid = header.kid.clone().ok_or(AuthError::MissingKeyId)?;
        if !self.keys.read().await.keys.contains_key(&kid) {
            self.refresh_for(&kid).await;
        }
        let keys = self.keys.read().await;
        let key = keys
            .keys
            .get(&kid)
            .ok_or_else(|| AuthError::UnknownKey(kid.clone()))?;
        if key.algorithm.is_some_and(|pinned| pinned != header.alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!(
                "{:?} (the key is for another algorithm)",
                header.alg
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        principal(data.claims)
    }

    async fn refresh_for(&self, kid: &str) {
        let _guard = self.refresh.lock().await;
        {
            let keys = self.keys.read().await;
            let recently = keys.refetched_at.is_some_and(|t| t.elapsed() < MIN_REFRESH);
            if keys.keys.contains_key(kid) || recently {
                return;
            }
        }
        match load(&self.config.jwks, &self.http).await {
            Ok(keys) => {
                tracing::info!(count = keys.len(), "signing keys refetched");
                *self.keys.write().await = KeySet {
                    keys,
                    refetched_at: Some(Instant::now()),
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "signing keys could not be refetched");
                self.keys.write().await.refetched_at = Some(Instant::now());
            }
        }
    }
}

fn principal(claims: Claims) -> Result<Principal, AuthError> {
    let mut roles = BTreeSet::new();
    for name in &claims.roles {
        let role =
            Role::parse(name).ok_or_else(|| AuthError::Claims(format!("unknown role {name:?}")))?;
        roles.insert(role);
    }
    if roles.is_empty() {
        roles.insert(Role::Applicant);
    }
    let isikukood = claims
        .sub
        .strip_prefix("EE")
        .and_then(|code| Isikukood::parse(code).ok());
    if claims.sub.starts_with("EE") && isikukood.is_none() {
        return Err(AuthError::Claims(
            "subject is not a valid Estonian personal code".to_owned(),
        ));
    }
    let profile = claims.profile_attributes;
    Ok(Principal {
        subject: claims.sub,
        isikukood,
        roles,
        awarding_body_id: claims.awarding_body_id,
        given_name: claims
            .given_name
            .or_else(|| profile.as_ref().and_then(|p| p.given_name.clone())),
        family_name: claims
            .family_name
            .or_else(|| profile.as_ref().and_then(|p| p.family_name.clone())),
        email: claims.email,
    })
}

async fn load(
    source: &JwksSource,
    http: &reqwest::Client,
) -> Result<HashMap<String, Key>, AuthError> {
    let set: JwkSet = match source {
        JwksSource::Static(set) => set.clone(),
        JwksSource::File(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                AuthError::KeysUnavailable(format!("reading {}: {e}", path.display()))
            })?;
            serde_json::from_str(&text)
                .map_err(|e| AuthError::KeysUnavailable(format!("{}: {e}", path.display())))?
        }
        JwksSource::Url(url) => http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::KeysUnavailable(format!("{url}: {e}")))?
            .json()
            .await
            .map_err(|e| AuthError::KeysUnavailable(format!("{url}: {e}")))?,
    };
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        // A symmetric key in a public key set is a misconfiguration, never a signing key.
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            continue;
        }
        let Ok(decoding) = DecodingKey::from_jwk(jwk) else {
            tracing::warn!(kid = kid.as_str(), "unusable key in JWKS skipped");
            continue;
        };
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|a| Algorithm::from_str(&a.to_string()).ok());
        keys.insert(
            kid,
            Key {
                decoding,
                algorithm,
            },
        );
    }
    Ok(keys)
}
