//! Ed25519 key files, the one way Kutse reads and writes them: PKCS#8 PEM for private keys
//! (written owner-only, never over an existing file), SPKI PEM for public ones, and the OKP JWK
//! by which a public key is published.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

/// A key file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct KeyError {
    pub path: PathBuf,
    pub reason: String,
}

fn error(path: &Path, reason: impl std::fmt::Display) -> KeyError {
    KeyError {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Reads a private key (PKCS#8 PEM).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|e| error(path, e))?;
    SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| error(path, format!("not an Ed25519 PKCS#8 key: {e}")))
}

/// Reads a public key: SPKI PEM, or the public half of a PKCS#8 private key.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|e| error(path, e))?;
    VerifyingKey::from_public_key_pem(&pem)
        .or_else(|_| SigningKey::from_pkcs8_pem(&pem).map(|k| k.verifying_key()))
        .map_err(|e| error(path, format!("not an Ed25519 key: {e}")))
}

/// Generates a key and writes it to `path` (PKCS#8 PEM, mode 0600), creating its folder; refuses
/// to overwrite an existing file.
pub fn generate_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|e| error(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| error(dir, e))?;
    }
    write_private(path, pem.as_bytes()).map_err(|e| error(path, e))?;
    Ok(key)
}

/// A key id derived from the public key (`<prefix>-<first 12 base64url characters>`), so it
/// changes whenever the key does.
pub fn key_id(prefix: &str, key: &VerifyingKey) -> String {
    format!("{prefix}-{}", &URL_SAFE_NO_PAD.encode(key.as_bytes())[..12])
}

/// The public key as a JWK (RFC 8037: `kty` OKP, `crv` Ed25519).
pub fn okp_jwk(kid: &str, key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}

/// Where a key ring's keys come from: files mounted from a secret.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// The current key (PKCS#8 PEM): it signs.
    pub current: PathBuf,
    /// Earlier keys still published, so what they signed still verifies (public or private PEM).
    pub published: Vec<PathBuf>,
    /// Create the current key when it is missing (development and tests only; a deployment
    /// mounts its key, and a missing one is an error at start).
    pub generate: bool,
}

/// A signing key and the keys published beside it for rotation: the current key signs, every
/// published key (the current one first) verifies and is listed in the JWKS. Every replica loads
/// the same files, so each verifies what the others signed.
///
/// Rotation: publish the new key's public half in every replica's published list first, then make
/// it the current key and move the old one to the published list; keep it there as long as what
/// it signed must verify.
#[derive(Clone)]
pub struct KeyRing {
    key: SigningKey,
    kid: String,
    published: Vec<(String, VerifyingKey)>,
    generated: bool,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.published.iter().map(|(kid, _)| kid).collect();
        f.debug_struct("KeyRing")
            .field("kid", &self.kid)
            .field("published", &kids)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys, naming them `<purpose>-…`; generates the current one only if `generate` is
    /// set and it is missing.
    pub fn load(settings: &KeySettings, purpose: &str) -> Result<Self, KeyError> {
        let generated = settings.generate && !settings.current.exists();
        let key = if generated {
            generate_signing_key(&settings.current)?
        } else {
            load_signing_key(&settings.current)?
        };
        let kid = key_id(purpose, &key.verifying_key());
        let mut published = vec![(kid.clone(), key.verifying_key())];
        for path in &settings.published {
            let public = load_verifying_key(path)?;
            let id = key_id(purpose, &public);
            if !published.iter().any(|(k, _)| *k == id) {
                published.push((id, public));
            }
        }
        Ok(Self {
            key,
            kid,
            published,
            generated,
        })
    }

    /// A ring of one key held in memory (tests).
    pub fn from_key(key: SigningKey, purpose: &str) -> Self {
        let kid = key_id(purpose, &key.verifying_key());
        Self {
            published: vec![(kid.clone(), key.verifying_key())],
            key,
            kid,
            generated: true,
        }
    }

    /// Whether the current key was generated by [`KeyRing::load`] just now (worth a warning).
    pub fn generated(&self) -> bool {
        self.generated
    }

    /// The key that signs, and its id.
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
                .map(|(kid, key)| okp_jwk(kid, key))
                .collect::<Vec<_>>()
        })
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_owner_only_reads_back_and_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("kutse-keys-{}", uuid::Uuid::now_v7()));
        let path = dir.join("key.pem");
        let key = generate_signing_key(&path).expect("generated");
        assert_eq!(load_signing_key(&path).expect("loaded"), key);
        assert_eq!(
            load_verifying_key(&path).expect("public"),
            key.verifying_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            generate_signing_key(&path).is_err(),
            "an existing key is kept"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
