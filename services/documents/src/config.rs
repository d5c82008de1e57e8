//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

/// Everything `kutse-documents` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `S3_*`: where the files go.
    pub s3: kutse_storage::S3Config,
    /// `DOCUMENT_MAX_BYTES`: the largest file accepted (default 20 MiB).
    pub max_bytes: usize,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let s3 = kutse_storage::S3Config::from_env(&mut env, "kutse-documents");
        let max_bytes = env.parse("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024);
        env.finish()?;
        Ok(Self {
            service,
            s3,
            max_bytes,
        })
    }
}
