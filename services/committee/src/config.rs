//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

/// Everything `kutse-committee` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        env.finish()?;
        Ok(Self { service })
    }
}
