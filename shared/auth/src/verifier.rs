//! Token validation against a JWKS.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kutse_domain::Isikukood;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, RwLock};

use crate::access::AccessClaims;
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
    /// The accepted audiences: `aud` must contain one of them (for TARA: the portals' client
    /// ids; for Kutse access tokens: `kutse`).
    pub audience: Vec<String>,
    /// The `typ` header a token must carry (`at+jwt` for Kutse access tokens), if any.
    pub token_type: Option<String>,
    /// Accepted signature algorithms. Symmetric algorithms are refused at start.
    pub algorithms: Vec<Algorithm>,
    pub jwks: JwksSource,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The shortest time between scheduled refetches of the keys, whatever the provider's
    /// `max-age` (1 minute in deployments; tests shorten it).
    pub min_refresh: Duration,
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
/// Validates bearer tokens. Shared by all requests (`Arc<Verifier>` in the app state).
pub struct Verifier {
    config: AuthConfig,
    keys: RwLock<KeySet>,
    /// Serialises refetches and limits them to one per `MIN_REFRESH`, so a stream of tokens with
    /// made-up key ids cannot make us hammer the provider.
    refresh: Mutex<()>,
    http: reqwest::Client,
    /// Keys have been loaded at least once.
    loaded: std::sync::atomic::AtomicBool,
    /// When the provider said the current keys expire (`Cache-Control: max-age`).
    next_refresh: Mutex<Option<Duration>>,
    /// Access tokens already verified, so that a portal's next request with the same token
    /// skips the signature check (an Ed25519 verification was an eighth of intake's CPU per
    /// application: issue 16's P1).
    verified: Verified,
}

/// Access tokens verified under the current key set: the exact token's SHA-256 → its caller
/// and expiry. A hit is still checked against the clock; every key set load empties it (a
/// withdrawn key stops being trusted at once); it holds at most [`Verified::CAPACITY`] tokens.
#[derive(Debug, Default)]
struct Verified {
    inner: std::sync::Mutex<VerifiedInner>,
}

#[derive(Debug, Default)]
struct VerifiedInner {
    /// Bumped on every key set change: a verification that began under an older set is not
    /// remembered.
    generation: u64,
    tokens: HashMap<[u8; 32], (Principal, i64)>,
}

impl Verified {
    const CAPACITY: usize = 8192;

    fn key(token: &str) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VerifiedInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller of a token verified before, if it has not expired (`now` and `leeway` in
    /// seconds, as the signature check counts them).
    fn get(&self, key: &[u8; 32], now: i64, leeway: i64) -> Option<Principal> {
        let inner = self.lock();
        let (principal, exp) = inner.tokens.get(key)?;
        (now <= exp + leeway).then(|| principal.clone())
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn insert(&self, key: [u8; 32], principal: Principal, exp: i64, generation: u64, now: i64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.tokens.len() >= Self::CAPACITY {
            inner.tokens.retain(|_, (_, exp)| *exp >= now);
            if inner.tokens.len() >= Self::CAPACITY {
                inner.tokens.clear();
            }
        }
        inner.tokens.insert(key, (principal, exp));
    }

    fn forget_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.tokens.clear();
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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

/// How often keys are refetched when the provider gives no `max-age`.
const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

impl Verifier {
    /// Loads the key set once; fails if it cannot.
    pub async fn new(config: AuthConfig) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        let verifier = Self {
            config,
            keys: RwLock::new(KeySet {
                keys: HashMap::new(),
                refetched_at: None,
            }),
            refresh: Mutex::new(()),
            http,
            loaded: std::sync::atomic::AtomicBool::new(false),
            next_refresh: Mutex::new(None),
            verified: Verified::default(),
        };
        // A provider that is down at start does not keep the service from starting: it reports
        // not ready (see `ready`) and `keep_fresh` keeps trying.
        if let Err(e) = verifier.refresh().await {
            tracing::warn!(error = %e, "token signing keys not loaded yet; retrying in the background");
        }
        Ok(verifier)
    }

    /// Whether signing keys have been loaded (for `/readyz`): without them every token is refused.
    pub fn ready(&self) -> Result<(), String> {
        if self.loaded.load(std::sync::atomic::Ordering::Relaxed) {
            Ok(())
        } else {
            Err("token signing keys not loaded yet".to_owned())
        }
    }

    /// Fetches the keys now and replaces the set (keys the provider withdrew stop being
    /// trusted); returns how long they may be cached, if the provider said.
    pub async fn refresh(&self) -> Result<Option<Duration>, AuthError> {
        let (keys, max_age) = load(&self.config.jwks, &self.http).await?;
        let count = keys.len();
        {
            let mut current = self.keys.write().await;
            // Tokens are verified again under the new set (every few minutes: cheap).
            self.verified.forget_all();
            current.keys = keys;
        }
        if !self.loaded.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::info!(count, "token signing keys loaded");
        }
        Ok(max_age)
    }

    /// Keeps the keys fresh until `shutdown`: refetched when the provider's `Cache-Control:
    /// max-age` runs out (clamped to 1 minute … 1 day; every 5 minutes if it does not say), and
    /// retried with back-off (5 s doubling to 1 minute) while it cannot be reached.
    pub async fn keep_fresh(&self, shutdown: tokio_util::sync::CancellationToken) {
        let mut failures = 0u32;
        let mut backoff =
            kutse_retry::Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
        loop {
            let wait = if self.loaded.load(std::sync::atomic::Ordering::Relaxed) && failures == 0 {
                backoff.reset();
                self.next_refresh
                    .lock()
                    .await
                    .unwrap_or(DEFAULT_REFRESH)
                    .clamp(self.min_refresh(), Duration::from_secs(86_400))
            } else {
                backoff.next_delay()
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            match self.refresh().await {
                Ok(max_age) => {
                    failures = 0;
                    *self.next_refresh.lock().await = max_age;
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "token signing keys could not be refreshed; keeping the current ones");
                }
            }
        }
    }

    fn min_refresh(&self) -> Duration {
        self.config.min_refresh
    }

    /// Validates a Kutse access token and returns its caller.
    ///
    /// A token verified before is not checked again while it lasts (see `Verified`).
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let key = Verified::key(token);
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(0);
        if let Some(principal) = self.verified.get(&key, unix_now(), leeway) {
            return Ok(principal);
        }
        let generation = self.verified.generation();
        let claims = self.decode::<AccessClaims>(token).await?;
        let exp = claims.exp;
        let principal = principal(claims)?;
        self.verified
            .insert(key, principal.clone(), exp, generation, unix_now());
        Ok(principal)
    }

    /// Validates a token's signature, algorithm, type, issuer, audience and times, and returns
    /// its claims as `T` (a TARA ID token's claims, or a Kutse access token's).
    pub async fn decode<T: DeserializeOwned>(&self, token: &str) -> Result<T, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            // `alg: none` and unknown algorithms fail here.
            AuthError::Malformed(e.to_string())
        })?;
        if !self.config.algorithms.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        if let Some(expected) = &self.config.token_type {
            let typ = header
                .typ
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            if typ != expected.as_str() {
                return Err(AuthError::Claims(format!(
                    "the token's type is {:?}, not {expected:?}: only a Kutse access token is accepted",
                    header.typ.as_deref().unwrap_or("none")
                )));
            }
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
        validation.set_audience(&self.config.audience);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(data.claims)
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
        // Whatever the outcome, the next refetch for an unknown key waits `MIN_REFRESH`: a
        // stream of tokens with made-up key ids must not become a stream of requests.
        self.keys.write().await.refetched_at = Some(Instant::now());
        match self.refresh().await {
            Ok(_) => {
                tracing::info!(kid, "signing keys refetched for an unknown key id");
            }
            Err(e) => tracing::warn!(error = %e, "signing keys could not be refetched"),
        }
    }
}

fn principal(claims: AccessClaims) -> Result<Principal, AuthError> {
    let mut roles: BTreeSet<Role> = claims.roles.into_iter().collect();
    let isikukood = match claims.sub.strip_prefix("EE") {
        Some(code) => Some(Isikukood::parse(code).map_err(|_| {
            AuthError::Claims("subject is not a valid Estonian personal code".to_owned())
        })?),
        None => None,
    };
    if isikukood.is_some() {
        roles.insert(Role::Applicant);
    }
    Ok(Principal {
        subject: claims.sub,
        isikukood,
        client_id: claims.client_id,
        roles,
        awarding_body_id: claims.awarding_body_id,
        partner: claims.partner,
        given_name: claims.given_name,
        family_name: claims.family_name,
        email: claims.email,
    })
}

/// The keys of `source`, and how long the source says they may be cached (`Cache-Control:
/// max-age` of a JWKS URL).
async fn load(
    source: &JwksSource,
    http: &reqwest::Client,
) -> Result<(HashMap<String, Key>, Option<Duration>), AuthError> {
    let mut max_age = None;
    let set: JwkSet = match source {
        JwksSource::Static(set) => set.clone(),
        JwksSource::File(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                AuthError::KeysUnavailable(format!("reading {}: {e}", path.display()))
            })?;
            serde_json::from_str(&text)
                .map_err(|e| AuthError::KeysUnavailable(format!("{}: {e}", path.display())))?
        }
        JwksSource::Url(url) => {
            let response = http
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| AuthError::KeysUnavailable(format!("{url}: {e}")))?;
            max_age = response
                .headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .and_then(cache_max_age);
            response
                .json()
                .await
                .map_err(|e| AuthError::KeysUnavailable(format!("{url}: {e}")))?
        }
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
    Ok((keys, max_age))
}

/// `max-age` of a `Cache-Control` header value.
fn cache_max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|part| {
        let seconds = part.trim().strip_prefix("max-age=")?;
        seconds.trim().parse().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone(subject: &str) -> Principal {
        Principal {
            subject: subject.to_owned(),
            isikukood: None,
            client_id: "portal".to_owned(),
            roles: BTreeSet::new(),
            awarding_body_id: None,
            partner: None,
            given_name: None,
            family_name: None,
            email: None,
        }
    }

    #[test]
    fn a_remembered_token_still_expires_and_a_new_key_set_forgets_it() {
        let verified = Verified::default();
        let key = Verified::key("header.claims.signature");
        let generation = verified.generation();
        verified.insert(key, someone("a"), 1_000, generation, 900);
        assert_eq!(verified.get(&key, 1_000, 0), Some(someone("a")));
        assert_eq!(
            verified.get(&key, 1_030, 60),
            Some(someone("a")),
            "within the leeway"
        );
        assert_eq!(verified.get(&key, 1_001, 0), None, "expired");
        assert_eq!(verified.get(&Verified::key("another"), 900, 0), None);

        verified.forget_all();
        assert_eq!(verified.get(&key, 900, 0), None);
        // A verification that began under the old key set is not remembered.
        verified.insert(key, someone("a"), 1_000, generation, 900);
        assert_eq!(verified.get(&key, 900, 0), None);
    }

    #[test]
    fn a_full_cache_drops_the_expired_first_and_then_everything() {
        let verified = Verified::default();
        let generation = verified.generation();
        for i in 0..Verified::CAPACITY {
            // Half of them expired at 500.
            let exp = if i % 2 == 0 { 500 } else { 2_000 };
            verified.insert(
                Verified::key(&i.to_string()),
                someone("x"),
                exp,
                generation,
                0,
            );
        }
        verified.insert(
            Verified::key("new"),
            someone("new"),
            2_000,
            generation,
            1_000,
        );
        assert_eq!(verified.lock().tokens.len(), Verified::CAPACITY / 2 + 1);
        assert_eq!(
            verified.get(&Verified::key("1"), 1_000, 0),
            Some(someone("x"))
        );
        assert_eq!(
            verified.get(&Verified::key("new"), 1_000, 0),
            Some(someone("new"))
        );
    }
}
