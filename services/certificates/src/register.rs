//! The register's own signing key, which seals certificates; its public half is served as a JWKS.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};

/// The register key and its id.
#[derive(Clone)]
pub struct RegisterKey {
    pub key: SigningKey,
    pub kid: String,
}

impl std::fmt::Debug for RegisterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl RegisterKey {
    /// Loads the key; creates one when the file is missing (development), with a warning.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let key = if path.exists() {
            let pem = std::fs::read_to_string(path)?;
            SigningKey::from_pkcs8_pem(&pem)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        } else {
            let key = SigningKey::generate(&mut rand_core::OsRng);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let pem = key
                .to_pkcs8_pem(Default::default())
                .map_err(|e| anyhow::anyhow!("encoding the register key: {e}"))?;
            std::fs::write(path, pem.as_bytes())?;
            tracing::warn!(path = %path.display(), "no register key found; generated a new one");
            key
        };
        let kid = format!(
            "register-{}",
            &URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())[..12]
        );
        Ok(Self { key, kid })
    }

    /// The public key as a JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }
}
