//! The register's own keys, which seal certificates; their public halves are served as a JWKS
//! (`/register/jwks.json`).
//!
//! The keys are a [`KeyRing`] of files mounted from a secret: `REGISTER_SIGNING_KEY_FILE` (the
//! current key, which seals) and `REGISTER_PUBLISHED_KEY_FILES` (earlier keys, which still
//! verify). A missing key is an error at start — a key is generated only when
//! `REGISTER_SIGNING_KEY_GENERATE` asks for it (development: `make run`, tests), never in a
//! deployment. Rotation is described at [`KeyRing`].

use kutse_protocol::keys::KeyRing;
pub use kutse_protocol::keys::KeySettings;

/// The register's keys.
pub type RegisterKeys = KeyRing;

/// Loads the register's keys (see the module doc).
pub fn load(settings: &KeySettings) -> anyhow::Result<RegisterKeys> {
    let keys = KeyRing::load(settings, "register").map_err(|e| {
        anyhow::anyhow!("REGISTER_SIGNING_KEY_FILE / REGISTER_PUBLISHED_KEY_FILES: the register's sealing keys: {e}")
    })?;
    if keys.generated() {
        tracing::warn!(path = %settings.current.display(), "generated a register sealing key (development only)");
    }
    Ok(keys)
}
