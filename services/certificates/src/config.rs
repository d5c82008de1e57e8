//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

/// Everything `kutse-certificates` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `S3_*`: where the files go.
    pub s3: kutse_storage::S3Config,
    /// `REGISTER_SIGNING_KEY_FILE`: the register's Ed25519 key (PKCS#8 PEM) that seals
    /// certificates (default `.local/register/signing-key.pem`, created when missing).
    pub register_key_file: std::path::PathBuf,
    /// `CERTIFICATE_VALIDITY_YEARS` (default 5).
    pub validity_years: u32,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let s3 = kutse_storage::S3Config::from_env(&mut env, "kutse-certificates");
        let register_key_file = std::path::PathBuf::from(env.string(
            "REGISTER_SIGNING_KEY_FILE",
            ".local/register/signing-key.pem",
        ));
        let validity_years = env.parse("CERTIFICATE_VALIDITY_YEARS", 5);
        env.finish()?;
        Ok(Self {
            service,
            s3,
            register_key_file,
            validity_years,
        })
    }
}
