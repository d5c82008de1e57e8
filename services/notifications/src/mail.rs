//! Sending e-mail over SMTP (maildev locally).
//!
//! Mails go over SMTP sessions kept open between mails ([`Mailer::deliver`]), one per concurrent
//! sender. Each session's socket has `TCP_NODELAY` set: an SMTP client writes a message and then
//! the five bytes that end it, and with Nagle's algorithm that second small write waits for the
//! server's delayed acknowledgement of the first — some 40 ms on Linux, every mail. (lettre's own
//! pooled transport opens its sockets without it, and sent 23 mails a second to maildev where a
//! bare session sends hundreds; `make bench` measures both.) The pooled transport is kept for the
//! readiness check.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kutse_config::{Env, Secret};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
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
    /// `SMTP_CONCURRENCY` (default 1): mails sent at once per instance, each over a connection of
    /// the transport's pool (kept open and reused between mails). More is faster; a sender that
    /// dies may then repeat as many mails as it was sending.
    pub concurrency: usize,
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
            concurrency: env.parse::<usize>("SMTP_CONCURRENCY", 1).max(1),
        }
    }
}

/// How long opening a session (or checking an idle one) may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);
/// How long handing over one message may take.
const SEND_DEADLINE: Duration = Duration::from_secs(60);
/// A session idle for less than this is used without asking the server first.
const FRESH: Duration = Duration::from_secs(15);

/// Where sessions are opened to.
#[derive(Clone)]
struct Server {
    host: String,
    port: u16,
    starttls: bool,
    credentials: Option<Credentials>,
}

/// How one attempt over a session failed.
enum Sending {
    /// The server answered no (4xx, 5xx), or took too long.
    Answered(Refused),
    /// The session broke without an answer (e.g. the server had closed it).
    Lost(Refused),
}

impl Sending {
    fn into_refused(self) -> Refused {
        match self {
            Sending::Answered(refused) | Sending::Lost(refused) => refused,
        }
    }
}

/// Why the mail server did not take a message, and whether trying again could help.
#[derive(Debug)]
pub struct Refused {
    pub permanent: bool,
    pub message: String,
}

impl Refused {
    fn temporary(message: String) -> Self {
        Self {
            permanent: false,
            message,
        }
    }
}

fn unreachable_address() -> lettre::Address {
    // "noreply@kutse.local" is a valid address; this is never reached.
    lettre::Address::new("noreply", "localhost").unwrap_or_else(|_| unreachable_address())
}

/// The mail server, with SMTP sessions kept open between mails.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: Server,
    /// Open sessions not in use, with when each was last used.
    idle: Arc<Mutex<Vec<(AsyncSmtpConnection, Instant)>>>,
    pub from: Mailbox,
    /// Fetches attachments (pre-signed URLs named by events), following no redirects.
    pub http: reqwest::Client,
    /// Where attachments may be fetched from (`ATTACHMENT_URL_PREFIXES`).
    pub attachment_prefixes: Vec<String>,
    /// Mails sent at once (`SMTP_CONCURRENCY`).
    pub concurrency: usize,
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
            server: Server {
                host: config.host.clone(),
                port: config.port,
                starttls: config.starttls,
                credentials: config.username.as_ref().map(|user| {
                    Credentials::new(user.clone(), config.password.expose().to_owned())
                }),
            },
            idle: Arc::default(),
            from: config.from.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            attachment_prefixes: config.attachment_prefixes.clone(),
            concurrency: config.concurrency,
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

    /// lettre's pooled transport (the readiness check; the benchmark's baseline).
    pub fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        &self.transport
    }

    /// Hands `message` to the mail server over an open session (opened, or opened again, when
    /// needed). A session that fails is dropped. A kept session the server has closed meanwhile
    /// fails on the network, not with an SMTP answer: then the message goes once more over a new
    /// session at once, rather than waiting for its retry.
    pub async fn deliver(&self, message: &lettre::Message) -> Result<(), Refused> {
        let envelope = message.envelope();
        let bytes = message.formatted();
        if let Some(session) = self.take_idle().await {
            match self.send_over(session, envelope, &bytes).await {
                Err(Sending::Lost(_)) => {}
                done => return done.map_err(Sending::into_refused),
            }
        }
        let session = self.open().await?;
        self.send_over(session, envelope, &bytes)
            .await
            .map_err(Sending::into_refused)
    }

    async fn send_over(
        &self,
        mut session: AsyncSmtpConnection,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<(), Sending> {
        let sent = tokio::time::timeout(SEND_DEADLINE, session.send(envelope, bytes)).await;
        match sent {
            Ok(Ok(_)) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push((session, Instant::now()));
                }
                Ok(())
            }
            Ok(Err(e)) => {
                session.abort().await;
                let refused = Refused {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                };
                if e.is_permanent() || e.is_transient() {
                    Err(Sending::Answered(refused))
                } else {
                    Err(Sending::Lost(refused))
                }
            }
            Err(_) => Err(Sending::Answered(Refused::temporary(format!(
                "the mail server did not take the message within {} s",
                SEND_DEADLINE.as_secs()
            )))),
        }
    }

    /// An idle session still open; one idle for a while is asked first (`NOOP`), since servers
    /// close sessions that wait too long.
    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut session, since) = self.idle.lock().ok()?.pop()?;
            if session.has_broken() {
                continue;
            }
            if since.elapsed() < FRESH {
                return Some(session);
            }
            if let Ok(true) = tokio::time::timeout(CONNECT_DEADLINE, session.test_connected()).await
            {
                return Some(session);
            }
        }
    }

    /// A new session: TCP with `TCP_NODELAY`, EHLO, STARTTLS and AUTH as configured.
    async fn open(&self) -> Result<AsyncSmtpConnection, Refused> {
        let server = &self.server;
        let opening = async {
            let stream = tokio::net::TcpStream::connect((server.host.as_str(), server.port))
                .await
                .map_err(|e| {
                    Refused::temporary(format!(
                        "connecting to {}:{}: {e}",
                        server.host, server.port
                    ))
                })?;
            stream
                .set_nodelay(true)
                .map_err(|e| Refused::temporary(format!("TCP_NODELAY: {e}")))?;
            let hello = ClientId::default();
            let smtp = |e: lettre::transport::smtp::Error| Refused::temporary(e.to_string());
            let mut session = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                .await
                .map_err(smtp)?;
            if server.starttls {
                let tls = TlsParameters::new(server.host.clone()).map_err(smtp)?;
                session.starttls(tls, &hello).await.map_err(smtp)?;
            }
            if let Some(credentials) = &server.credentials {
                session
                    .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(smtp)?;
            }
            Ok(session)
        };
        tokio::time::timeout(CONNECT_DEADLINE, opening)
            .await
            .unwrap_or_else(|_| {
                Err(Refused::temporary(format!(
                    "no SMTP session with {}:{} within {} s",
                    server.host,
                    server.port,
                    CONNECT_DEADLINE.as_secs()
                )))
            })
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
