//! The service's settings, read once at start.

use kutse_config::{ConfigError, Env};
use kutse_service::ServiceConfig;

use crate::content::Kind;

/// Everything `kutse-documents` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    /// `S3_*`: where the files go.
    pub s3: kutse_storage::S3Config,
    pub limits: Limits,
    /// `CLAMD_ADDRESS` (default `127.0.0.1:3310`): the virus scanner; `CLAMD_TIMEOUT_SECONDS`
    /// (default 30): the limit of each exchange with it.
    pub clamd: crate::clamd::Clamd,
}

/// What an upload may be.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `DOCUMENT_MAX_BYTES`: the largest file accepted (default 20 MiB).
    pub max_bytes: usize,
    /// `DOCUMENT_ALLOWED_TYPES`: the kinds of file accepted, by content (default every kind:
    /// `pdf,png,jpeg,asice,docx,xlsx,odt,ods`).
    pub allowed: Vec<Kind>,
    /// `DOCUMENTS_PER_APPLICATION` (default 50) and `DOCUMENT_BYTES_PER_APPLICATION` (default
    /// 200 MiB): an application's quota.
    pub per_application: i64,
    pub bytes_per_application: i64,
    /// `DOCUMENT_UPLOADS_IN_FLIGHT` (default 8): uploads one instance streams at once; more wait
    /// for a 503 with `Retry-After`. Memory is bounded by this times the 8 MiB part size.
    pub uploads_in_flight: usize,
    /// `DOCUMENT_IDLE_TIMEOUT_SECONDS` (default 30): an upload whose bytes stop coming for this
    /// long is dropped (408).
    pub idle_timeout: std::time::Duration,
    /// `DOCUMENT_ARRIVAL_WAIT_MS` (default 3000): how long an upload waits for an application
    /// documents has not heard of yet. One created a moment ago reaches it through an event
    /// (`application.created`) within this, so a portal that uploads right after creating the
    /// application is not told "not found".
    pub arrival_wait: std::time::Duration,
}

impl Config {
    /// Reads and validates every setting, reporting all problems at once.
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(&mut env, crate::NAME, crate::DEFAULT_PORT);
        let s3 = kutse_storage::S3Config::from_env(&mut env, "kutse-documents");
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let mut allowed = Vec::new();
        for name in env.list("DOCUMENT_ALLOWED_TYPES", &all) {
            match Kind::parse(&name) {
                Ok(kind) => allowed.push(kind),
                Err(_) => env.fail(
                    "DOCUMENT_ALLOWED_TYPES",
                    format!("{name:?} is none of {}", all.join(", ")),
                ),
            }
        }
        let limits = Limits {
            max_bytes: env.parse("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024),
            allowed,
            per_application: env.parse("DOCUMENTS_PER_APPLICATION", 50),
            bytes_per_application: env.parse("DOCUMENT_BYTES_PER_APPLICATION", 200 * 1024 * 1024),
            uploads_in_flight: env.parse("DOCUMENT_UPLOADS_IN_FLIGHT", 8),
            idle_timeout: std::time::Duration::from_secs(
                env.parse("DOCUMENT_IDLE_TIMEOUT_SECONDS", 30),
            ),
            arrival_wait: std::time::Duration::from_millis(
                env.parse("DOCUMENT_ARRIVAL_WAIT_MS", 3000),
            ),
        };
        let clamd = crate::clamd::Clamd {
            address: env.string("CLAMD_ADDRESS", "127.0.0.1:3310"),
            timeout: std::time::Duration::from_secs(env.parse("CLAMD_TIMEOUT_SECONDS", 30)),
        };
        if limits.uploads_in_flight == 0 {
            env.fail(
                "DOCUMENT_UPLOADS_IN_FLIGHT",
                "must be at least 1".to_owned(),
            );
        }
        env.finish()?;
        Ok(Self {
            service,
            s3,
            limits,
            clamd,
        })
    }
}
