//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

/// Everything `kutse-certificates` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `S3_*`: where the files go.
    pub s3: kutse_storage::S3Config,
    /// `REGISTER_SIGNING_KEY_FILE`: the register's current Ed25519 key (PKCS#8 PEM), mounted
    /// from a secret (default `.local/register/signing-key.pem`); `REGISTER_PUBLISHED_KEY_FILES`:
    /// earlier keys still published and verified (comma-separated paths); and
    /// `REGISTER_SIGNING_KEY_GENERATE` (default false; development only): create the current key
    /// if it is missing. See `register`.
    pub keys: crate::register::KeySettings,
    /// `CERTIFICATE_VALIDITY_YEARS` (default 5).
    pub validity_years: u32,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let s3 = kutse_storage::S3Config::from_env(&mut env, "kutse-certificates");
        let keys = crate::register::KeySettings {
            current: env
                .string(
                    "REGISTER_SIGNING_KEY_FILE",
                    ".local/register/signing-key.pem",
                )
                .into(),
            published: env
                .list("REGISTER_PUBLISHED_KEY_FILES", &[])
                .into_iter()
                .map(Into::into)
                .collect(),
            generate: env.flag("REGISTER_SIGNING_KEY_GENERATE", false),
        };
        let validity_years = env.parse("CERTIFICATE_VALIDITY_YEARS", 5);
        env.finish()?;
        Ok(Self {
            service,
            s3,
            keys,
            validity_years,
        })
    }
}
