//! Sending e-mail over SMTP (maildev locally).

use std::time::Duration;

use kutse_config::{Env, Secret};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

/// The mail server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `SMTP_HOST` (default `127.0.0.1`).
    pub host: String,
    /// `SMTP_PORT` (default 1025, maildev).
    pub port: u16,
    /// `SMTP_USERNAME` / `SMTP_PASSWORD`: set both to log in.
    pub username: Option<String>,
    pub password: Secret,
    /// `SMTP_STARTTLS` (default false; the local sink speaks plain SMTP).
    pub starttls: bool,
    /// `SMTP_FROM` (default `Kutse <noreply@kutse.local>`).
    pub from: Mailbox,
    /// `ATTACHMENT_URL_PREFIXES` (comma-separated; default `http://127.0.0.1:8333/`, the local
    /// S3): the only places attachments are fetched from — the register's bucket behind its S3
    /// endpoint, e.g. `https://s3.example.ee/kutse-certificates/`. An event naming any other URL
    /// is never fetched, and redirects are not followed.
    pub attachment_prefixes: Vec<String>,
}

impl SmtpConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let default_from: Mailbox = Mailbox::new(
            Some("Kutse".to_owned()),
            lettre::Address::new("noreply", "kutse.local")
                .unwrap_or_else(|_| unreachable_address()),
        );
        let from = match env.optional("SMTP_FROM") {
            None => default_from,
            Some(raw) => raw.parse().unwrap_or_else(|e| {
                env.fail("SMTP_FROM", format!("{raw:?} is not a mailbox: {e}"));
                default_from
            }),
        };
        Self {
            host: env.string("SMTP_HOST", "127.0.0.1"),
            port: env.parse("SMTP_PORT", 1025),
            username: env.optional("SMTP_USERNAME"),
            password: env.secret("SMTP_PASSWORD", ""),
            starttls: env.flag("SMTP_STARTTLS", false),
            from,
            attachment_prefixes: env.list("ATTACHMENT_URL_PREFIXES", &["http://127.0.0.1:8333/"]),
        }
    }
}

fn unreachable_address() -> lettre::Address {
    // "noreply@kutse.local" is a valid address; this is never reached.
    lettre::Address::new("noreply", "localhost").unwrap_or_else(|_| unreachable_address())
}

/// A pooled SMTP transport.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    /// Fetches attachments (pre-signed URLs named by events), following no redirects.
    pub http: reqwest::Client,
    /// Where attachments may be fetched from (`ATTACHMENT_URL_PREFIXES`).
    pub attachment_prefixes: Vec<String>,
    /// `kutse_emails_total{outcome}`: `sent`, `failed` (to be tried again) or `given_up`.
    outcomes: Option<kutse_service::metrics::IntCounterVec>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = if config.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                config.password.expose().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            attachment_prefixes: config.attachment_prefixes.clone(),
            outcomes: None,
        })
    }

    /// Counts every send's outcome into the service's metrics.
    pub fn counting(mut self, metrics: &kutse_service::Metrics) -> Self {
        self.outcomes = Some(metrics.counter(
            "emails_total",
            "E-mails handed to the mail server (sent), refused or unreachable and to be tried again (failed), or given up.",
            &["outcome"],
        ));
        self
    }

    /// Counts one send's outcome.
    pub fn count(&self, outcome: &str) {
        if let Some(outcomes) = &self.outcomes {
            outcomes.with_label_values(&[outcome]).inc();
        }
    }

    /// The transport, for sending.
    pub fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        &self.transport
    }

    /// Readiness: the server answers and accepts our greeting.
    pub async fn check(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("the mail server refused the connection test".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }
}
