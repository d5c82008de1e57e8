//! A stand-in for TARA in development and tests: it mints TARA-shaped ID tokens (RS256,
//! `profile_attributes`, `amr`, `acr`, no roles) for any personal code, signed with a key made on
//! this machine whose JWKS intake trusts in place of TARA's. Never configured in production,
//! where intake reads TARA's own JWKS.
//!
//! `kutse-dev-token init` writes `signing-key.pem` and `jwks.json` into the stand-in's folder
//! (`.local/dev-tara` by default); `kutse-dev-token login …` prints an ID token, which a portal
//! (or `curl`) exchanges at intake's `/oauth/token` for a Kutse access token.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The issuer of Kutse access tokens in development: the services' default `AUTH_ISSUER`.
pub const DEV_ISSUER: &str = "https://dev.kutse.local";
/// The audience of Kutse access tokens: the services' default `AUTH_AUDIENCE`.
pub const DEV_AUDIENCE: &str = "kutse";
/// The TARA stand-in's issuer: intake's default `TARA_ISSUER`.
pub const DEV_TARA_ISSUER: &str = "https://tara.dev.kutse.local";
/// The client id a development portal has at the TARA stand-in: intake's default
/// `TARA_CLIENT_IDS`.
pub const DEV_TARA_CLIENT_ID: &str = "kutse-portal";

/// Mints TARA-shaped ID tokens.
pub struct DevTara {
    encoding: EncodingKey,
    jwk: serde_json::Value,
    kid: String,
    issuer: String,
    client_id: String,
}

impl std::fmt::Debug for DevTara {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTara")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A login to put in an ID token.
#[derive(Debug, Clone)]
pub struct TaraLogin {
    /// The personal code (without `EE`).
    pub personal_code: String,
    pub given_name: String,
    pub family_name: String,
    /// A verified e-mail, if the person gave one.
    pub email: Option<String>,
    /// How they authenticated: `idcard`, `mID`, `smartid`.
    pub amr: String,
    /// The level of assurance: `high` for Estonian eID.
    pub acr: String,
    /// Lifetime in seconds (TARA's are short).
    pub ttl_seconds: i64,
    /// How long ago the login happened (tests of stale tokens).
    pub issued_seconds_ago: i64,
}

impl TaraLogin {
    /// A fresh Mobile-ID login of `personal_code` named `given_name family_name`.
    pub fn new(personal_code: &str, given_name: &str, family_name: &str) -> Self {
        Self {
            personal_code: personal_code.to_owned(),
            given_name: given_name.to_owned(),
            family_name: family_name.to_owned(),
            email: None,
            amr: "mID".to_owned(),
            acr: "high".to_owned(),
            ttl_seconds: 60,
            issued_seconds_ago: 0,
        }
    }
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    jti: String,
    iss: &'a str,
    aud: &'a str,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    auth_time: i64,
    amr: [&'a str; 1],
    acr: &'a str,
    profile_attributes: Profile<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    nonce: String,
    state: String,
}

#[derive(Serialize)]
struct Profile<'a> {
    given_name: &'a str,
    family_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_birth: Option<String>,
}

impl DevTara {
    /// A stand-in with `key` (PKCS#8 PEM of an RSA key).
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| anyhow::anyhow!("not an RSA PKCS#8 key: {e}"))?;
        Self::from_key(&key)
    }

    fn from_key(key: &RsaPrivateKey) -> anyhow::Result<Self> {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = format!(
            "tara-dev-{}",
            &hex::encode(Sha256::digest(n.as_bytes()))[..12]
        );
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the stand-in's key: {e}"))?;
        Ok(Self {
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            jwk: serde_json::json!({
                "kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig"
            }),
            kid,
            issuer: DEV_TARA_ISSUER.to_owned(),
            client_id: DEV_TARA_CLIENT_ID.to_owned(),
        })
    }

    /// Loads the key in `dir`, creating the key (RSA 2048) and `jwks.json` if missing.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let key_path = dir.join("signing-key.pem");
        let stand_in = if key_path.exists() {
            Self::from_pem(&std::fs::read_to_string(&key_path)?)?
        } else {
            let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048)?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the stand-in's key: {e}"))?;
            std::fs::create_dir_all(dir)?;
            write_owner_only(&key_path, pem.as_bytes())?;
            Self::from_key(&key)?
        };
        std::fs::write(
            Self::jwks_path(dir),
            serde_json::to_string_pretty(&stand_in.jwks_json())?,
        )?;
        Ok(stand_in)
    }

    /// Where `load_or_create` keeps the JWKS.
    pub fn jwks_path(dir: &Path) -> PathBuf {
        dir.join("jwks.json")
    }

    /// Names another issuer or client id (tests of `iss`/`aud` checks).
    pub fn with_issuer(mut self, issuer: &str, client_id: &str) -> Self {
        issuer.clone_into(&mut self.issuer);
        client_id.clone_into(&mut self.client_id);
        self
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWKS document.
    pub fn jwks_json(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }

    /// The public key as a key set.
    pub fn jwks(&self) -> JwkSet {
        // Built from our own JSON just above; it always parses.
        serde_json::from_value(self.jwks_json()).unwrap_or(JwkSet { keys: Vec::new() })
    }

    /// Signs an ID token for `login`, shaped as TARA's.
    pub fn mint(&self, login: &TaraLogin) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let iat = now - login.issued_seconds_ago;
        let claims = IdTokenClaims {
            jti: uuid::Uuid::now_v7().to_string(),
            iss: &self.issuer,
            aud: &self.client_id,
            sub: format!("EE{}", login.personal_code),
            iat,
            nbf: iat,
            exp: iat + login.ttl_seconds,
            auth_time: iat,
            amr: [&login.amr],
            acr: &login.acr,
            profile_attributes: Profile {
                given_name: &login.given_name,
                family_name: &login.family_name,
                date_of_birth: kutse_domain::Isikukood::parse(&login.personal_code)
                    .ok()
                    .map(|c| c.birth_date().to_string()),
            },
            email: login.email.as_deref(),
            email_verified: login.email.as_ref().map(|_| true),
            nonce: String::new(),
            state: uuid::Uuid::now_v7().simple().to_string(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }
}

fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}
