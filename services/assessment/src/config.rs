//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

/// Everything `kutse-assessment` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `ASSESSMENT_SWEEP_INTERVAL_SECONDS` (default 3600, at least 1): how often the procedure's
    /// clocks are swept (see `sweep`).
    pub sweep_interval: std::time::Duration,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let seconds: u64 = env.parse("ASSESSMENT_SWEEP_INTERVAL_SECONDS", 3600);
        if seconds == 0 {
            env.fail(
                "ASSESSMENT_SWEEP_INTERVAL_SECONDS",
                "must be at least 1".to_owned(),
            );
        }
        env.finish()?;
        Ok(Self {
            service,
            sweep_interval: std::time::Duration::from_secs(seconds.max(1)),
        })
    }
}
