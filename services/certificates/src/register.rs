//! The register's own keys, which seal certificates; their public halves are served as a JWKS.
//!
//! The current key seals; every published key (the current one and earlier ones still listed for
//! rotation) verifies. The keys come from files mounted from a secret, so every replica seals
//! with the same key and verifies the others' seals: `REGISTER_SIGNING_KEY_FILE` (the current
//! key) and `REGISTER_PUBLISHED_KEY_FILES` (earlier keys, public or private PEM). A missing key is
//! an error at start — a key is generated only when `REGISTER_SIGNING_KEY_GENERATE` asks for it
//! (development: `make run`, tests), and never in a deployment.
//!
//! Rotation: publish the new key's public half in `REGISTER_PUBLISHED_KEY_FILES` of every replica
//! first, then make it the current key and move the old one to the published list; keep it there
//! as long as certificates sealed with it are verified.

use std::path::PathBuf;

use ed25519_dalek::{SigningKey, VerifyingKey};

/// Where the keys come from (see the module doc).
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub current: PathBuf,
    pub published: Vec<PathBuf>,
    pub generate: bool,
}

/// The register's keys.
#[derive(Clone)]
pub struct RegisterKeys {
    key: SigningKey,
    kid: String,
    /// Every key that verifies, the current one first.
    published: Vec<(String, VerifyingKey)>,
}

impl std::fmt::Debug for RegisterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterKeys")
            .field("kid", &self.kid)
            .field(
                "published",
                &self
                    .published
                    .iter()
                    .map(|(kid, _)| kid)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RegisterKeys {
    /// Loads the keys; generates the current one only if `generate` is set and it is missing.
    pub fn load(settings: &KeySettings) -> anyhow::Result<Self> {
        let key = if settings.generate && !settings.current.exists() {
            let key = kutse_protocol::keys::generate_signing_key(&settings.current)?;
            tracing::warn!(path = %settings.current.display(), "generated a register sealing key (development only)");
            key
        } else {
            kutse_protocol::keys::load_signing_key(&settings.current).map_err(|e| {
                anyhow::anyhow!("REGISTER_SIGNING_KEY_FILE: the register's sealing key: {e}")
            })?
        };
        let kid = kutse_protocol::keys::key_id("register", &key.verifying_key());
        let mut published = vec![(kid.clone(), key.verifying_key())];
        for path in &settings.published {
            let public = kutse_protocol::keys::load_verifying_key(path)
                .map_err(|e| anyhow::anyhow!("REGISTER_PUBLISHED_KEY_FILES: {e}"))?;
            let id = kutse_protocol::keys::key_id("register", &public);
            if !published.iter().any(|(k, _)| *k == id) {
                published.push((id, public));
            }
        }
        Ok(Self {
            key,
            kid,
            published,
        })
    }

    /// The key that seals, and its id.
    pub fn current(&self) -> (&SigningKey, &str) {
        (&self.key, &self.kid)
    }

    /// The published key with this id, if any.
    pub fn verifying_key(&self, kid: &str) -> Option<VerifyingKey> {
        self.published
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, key)| *key)
    }

    /// Every published key as a JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": self
                .published
                .iter()
                .map(|(kid, key)| kutse_protocol::keys::okp_jwk(kid, key))
                .collect::<Vec<_>>()
        })
    }
}
