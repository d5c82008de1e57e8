//! The settings every service reads. Each service adds its own (S3, SMTP, …) from the same `Env`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kutse_auth::dev::{DEV_AUDIENCE, DEV_ISSUER};
use kutse_auth::{AuthConfig, JwksSource};
use kutse_config::{Env, SecretUrl};
use kutse_messaging::{ConsumerSettings, RelaySettings, Topology};
use kutse_telemetry::TelemetryConfig;

/// Settings common to the six services. Field docs name the environment variable and default.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's name (`intake`); its queue, log and trace name derive from it.
    pub name: &'static str,
    /// `HTTP_ADDR`: where the API listens (default `127.0.0.1:<the service's port>`).
    pub http_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: how clients reach this service (links in e-mails, verification URLs).
    pub public_base_url: String,
    /// `HTTP_BODY_LIMIT_BYTES`: the largest JSON body accepted (default 1 MiB).
    pub body_limit: usize,
    /// `HTTP_REQUEST_TIMEOUT_SECONDS`: a request not answered in this long gets 503 and its
    /// handler is dropped (default 60; uploads stream within it).
    pub request_timeout: Duration,
    /// `SHUTDOWN_GRACE_SECONDS` (default 10): after SIGTERM, how long requests in flight and the
    /// message batch in hand may take to finish before the process stops regardless. Keep it
    /// below the orchestrator's own grace period (Kubernetes: 30 s).
    pub shutdown_grace: Duration,
    /// `DATABASE_URL`: the service's own database (default `postgres://kutse:kutse@127.0.0.1:5432/kutse_<name>`).
    pub database_url: SecretUrl,
    /// `DATABASE_MAX_CONNECTIONS` (default 10).
    pub database_max_connections: u32,
    /// `AMQP_URL`: the broker, as the service's own user, whose topic permissions allow only the
    /// message types it produces (default `amqp://kutse-<name>:kutse-<name>-local@127.0.0.1:5672/%2f`,
    /// the local stack's user from `deploy/rabbitmq/definitions.json`).
    pub amqp_url: SecretUrl,
    /// `AMQP_PREFIX` (default `kutse`), `RETRY_DELAYS_MS` (default `1000,10000,60000,300000`),
    /// `DELIVERY_LIMIT` (default 20), `QUEUE_EXPIRY_SECONDS` (tests only; unset in deployments).
    pub topology: Topology,
    pub relay: RelaySettings,
    /// `CONSUMER_PREFETCH` (200), `CONSUMER_BATCH_SIZE` (100), `MESSAGE_HANDLER_TIMEOUT_SECONDS`
    /// (30: a handler taking longer fails transiently and is retried).
    pub consumer: ConsumerSettings,
    /// `INBOX_RETENTION_DAYS` (default 30): how long handled message ids are kept for
    /// deduplication. Far longer than any redelivery window (retries take minutes; parked
    /// messages an operator moves back, days).
    pub inbox_retention: Duration,
    /// How Kutse access tokens are checked: `AUTH_ISSUER` (default `https://dev.kutse.local`) and
    /// `AUTH_AUDIENCE` (default `kutse`), the same values intake mints them with; the keys from
    /// `AUTH_JWKS_URL` (default intake's `http://127.0.0.1:8081/oauth/jwks.json`) or
    /// `AUTH_JWKS_FILE`; `AUTH_ALGORITHMS` (default `EdDSA`); `AUTH_LEEWAY_SECONDS` (10). Intake
    /// itself verifies with its own keys, in process.
    pub auth: AuthConfig,
    /// `RUST_LOG` (default `info`), `LOG_FORMAT` (`json` or `text`, default `json`),
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (export traces when set).
    pub telemetry: TelemetryConfig,
}

impl ServiceConfig {
    /// Reads the common settings. Problems are recorded in `env`; call `env.finish()` after the
    /// service has read its own settings too.
    pub fn from_env(env: &mut Env, name: &'static str, default_port: u16) -> Self {
        let http_addr = env.parse(
            "HTTP_ADDR",
            SocketAddr::from(([127, 0, 0, 1], default_port)),
        );
        let public_base_url = env
            .string("PUBLIC_BASE_URL", &format!("http://{http_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let defaults = Topology::default();
        let retry_delays = env
            .list("RETRY_DELAYS_MS", &[])
            .iter()
            .map(|ms| ms.parse::<u64>().map(Duration::from_millis))
            .collect::<Result<Vec<_>, _>>();
        let retry_delays = match retry_delays {
            Ok(list) if list.is_empty() => defaults.retry_delays.clone(),
            Ok(list) => list,
            Err(e) => {
                env.fail(
                    "RETRY_DELAYS_MS",
                    format!("comma-separated milliseconds expected: {e}"),
                );
                defaults.retry_delays.clone()
            }
        };
        let expiry: u64 = env.parse("QUEUE_EXPIRY_SECONDS", 0);
        let topology = Topology {
            prefix: env.string("AMQP_PREFIX", &defaults.prefix),
            retry_delays,
            delivery_limit: env.parse("DELIVERY_LIMIT", defaults.delivery_limit),
            queue_expiry: (expiry > 0).then(|| Duration::from_secs(expiry)),
        };
        let algorithms = env.list("AUTH_ALGORITHMS", &["EdDSA"]);
        let algorithms = AuthConfig::parse_algorithms(&algorithms).unwrap_or_else(|e| {
            env.fail("AUTH_ALGORITHMS", e);
            Vec::new()
        });
        let jwks = match env.optional("AUTH_JWKS_FILE") {
            Some(file) => JwksSource::File(PathBuf::from(file)),
            None => JwksSource::Url(
                env.string("AUTH_JWKS_URL", "http://127.0.0.1:8081/oauth/jwks.json"),
            ),
        };
        let log_format = env.string("LOG_FORMAT", "json");
        if !["json", "text"].contains(&log_format.as_str()) {
            env.fail("LOG_FORMAT", format!("{log_format:?} is not json or text"));
        }
        Self {
            name,
            http_addr,
            public_base_url,
            body_limit: env.parse("HTTP_BODY_LIMIT_BYTES", 1024 * 1024),
            request_timeout: Duration::from_secs(env.parse("HTTP_REQUEST_TIMEOUT_SECONDS", 60)),
            shutdown_grace: Duration::from_secs(env.parse("SHUTDOWN_GRACE_SECONDS", 10)),
            database_url: env.url(
                "DATABASE_URL",
                &format!("postgres://kutse:kutse@127.0.0.1:5432/kutse_{name}"),
            ),
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10),
            amqp_url: env.url(
                "AMQP_URL",
                &format!("amqp://kutse-{name}:kutse-{name}-local@127.0.0.1:5672/%2f"),
            ),
            topology,
            relay: RelaySettings {
                batch_size: env.parse("OUTBOX_BATCH_SIZE", 500),
                ..RelaySettings::default()
            },
            consumer: ConsumerSettings {
                prefetch: env.parse("CONSUMER_PREFETCH", 200),
                batch_size: env.parse("CONSUMER_BATCH_SIZE", 100),
                handler_timeout: Duration::from_secs(
                    env.parse("MESSAGE_HANDLER_TIMEOUT_SECONDS", 30),
                ),
            },
            inbox_retention: Duration::from_secs(
                86_400 * env.parse::<u64>("INBOX_RETENTION_DAYS", 30),
            ),
            auth: AuthConfig {
                issuer: env.string("AUTH_ISSUER", DEV_ISSUER),
                audience: vec![env.string("AUTH_AUDIENCE", DEV_AUDIENCE)],
                token_type: Some(kutse_auth::access::ACCESS_TOKEN_TYPE.to_owned()),
                algorithms,
                jwks,
                leeway: Duration::from_secs(env.parse("AUTH_LEEWAY_SECONDS", 10)),
                min_refresh: Duration::from_secs(60),
            },
            telemetry: TelemetryConfig {
                service_name: format!("kutse-{name}"),
                log_filter: env.string("RUST_LOG", "info"),
                json_logs: log_format == "json",
                otlp_export: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT").is_some(),
            },
        }
    }
}
