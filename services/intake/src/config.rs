//! The service's settings, read once at start.

use std::path::PathBuf;
use std::time::Duration;

use kutse_auth::JwksSource;
use kutse_auth::dev::{DEV_TARA_CLIENT_ID, DEV_TARA_ISSUER};
use kutse_auth::tara::{Assurance, TaraRules};
use kutse_config::{ConfigError, Env};
use kutse_domain::{Email, Isikukood};
use kutse_protocol::keys::KeySettings;
use kutse_service::ServiceConfig;

/// The authority's desk address unless `AUTHORITY_EMAIL` says otherwise.
const AUTHORITY_EMAIL: &str = "kutseregister@kutsekoda.example";

/// Everything `kutse-intake` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// Kutse's access tokens, minted by the token endpoint with `AUTH_ISSUER` and `AUTH_AUDIENCE`.
    pub tokens: TokenSettings,
    /// TARA, whose ID tokens the token endpoint exchanges.
    pub tara: TaraSettings,
    /// `AUTHORITY_PERSONAL_CODES`: the authority's people (comma-separated personal codes), synced
    /// into the role registry at start.
    pub authority: Vec<Isikukood>,
    /// `AUTHORITY_EMAIL` (default `kutseregister@kutsekoda.example`): the register's desk at the
    /// authority, where questions to the authority (and holders' answers to its questions) are
    /// e-mailed, and which its questions to holders name for a reply.
    pub authority_email: Email,
}

/// How Kutse's access tokens are signed and how long they live.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `TOKEN_SIGNING_KEY_FILE` (default `.local/tokens/signing-key.pem`): the current Ed25519 key,
    /// mounted from a secret; `TOKEN_PUBLISHED_KEY_FILES`: earlier keys still accepted during a
    /// rotation; `TOKEN_SIGNING_KEY_GENERATE` (development only): create the key if missing.
    pub keys: KeySettings,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 300): an access token's lifetime, and so the longest a
    /// removed role stays usable.
    pub ttl: Duration,
}

/// TARA, as the token endpoint checks its ID tokens.
#[derive(Debug, Clone)]
pub struct TaraSettings {
    /// `TARA_ISSUER` (default the development stand-in; production `https://tara.ria.ee`).
    pub issuer: String,
    /// `TARA_CLIENT_IDS`: the portals' client ids at TARA; an ID token's `aud` must name one.
    pub client_ids: Vec<String>,
    /// `TARA_JWKS_URL` (production `https://tara.ria.ee/oidc/jwks`) or `TARA_JWKS_FILE` (default
    /// the stand-in's `.local/dev-tara/jwks.json`).
    pub jwks: JwksSource,
    /// `TARA_MAX_TOKEN_AGE_SECONDS` (default 600) and `TARA_MIN_ASSURANCE` (default
    /// `substantial`).
    pub rules: TaraRules,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let tokens = TokenSettings {
            keys: KeySettings {
                current: PathBuf::from(
                    env.string("TOKEN_SIGNING_KEY_FILE", ".local/tokens/signing-key.pem"),
                ),
                published: env
                    .list("TOKEN_PUBLISHED_KEY_FILES", &[])
                    .into_iter()
                    .map(PathBuf::from)
                    .collect(),
                generate: env.flag("TOKEN_SIGNING_KEY_GENERATE", false),
            },
            ttl: Duration::from_secs(env.parse("ACCESS_TOKEN_TTL_SECONDS", 300)),
        };
        if !(1..=3600).contains(&tokens.ttl.as_secs()) {
            env.fail(
                "ACCESS_TOKEN_TTL_SECONDS",
                "must be 1-3600: it bounds how long a removed role stays usable".to_owned(),
            );
        }
        let jwks = match env.optional("TARA_JWKS_URL") {
            Some(url) => JwksSource::Url(url),
            None => JwksSource::File(PathBuf::from(
                env.string("TARA_JWKS_FILE", ".local/dev-tara/jwks.json"),
            )),
        };
        let min_assurance = env.string("TARA_MIN_ASSURANCE", "substantial");
        let min_assurance = Assurance::parse(&min_assurance).unwrap_or_else(|| {
            env.fail(
                "TARA_MIN_ASSURANCE",
                format!("{min_assurance:?} is not low, substantial or high"),
            );
            Assurance::High
        });
        let tara = TaraSettings {
            issuer: env.string("TARA_ISSUER", DEV_TARA_ISSUER),
            client_ids: env.list("TARA_CLIENT_IDS", &[DEV_TARA_CLIENT_ID]),
            jwks,
            rules: TaraRules {
                max_age: Duration::from_secs(env.parse("TARA_MAX_TOKEN_AGE_SECONDS", 600)),
                min_assurance,
            },
        };
        let mut authority = Vec::new();
        for code in env.list("AUTHORITY_PERSONAL_CODES", &[]) {
            match Isikukood::parse(&code) {
                Ok(code) => authority.push(code),
                Err(e) => env.fail("AUTHORITY_PERSONAL_CODES", format!("{code:?}: {e}")),
            }
        }
        let authority_email = match Email::parse(&env.string("AUTHORITY_EMAIL", AUTHORITY_EMAIL)) {
            Ok(email) => email,
            Err(e) => {
                env.fail("AUTHORITY_EMAIL", e.to_string());
                Email::parse(AUTHORITY_EMAIL).expect("the default address is valid")
            }
        };
        env.finish()?;
        Ok(Self {
            service,
            tokens,
            tara,
            authority,
            authority_email,
        })
    }
}
