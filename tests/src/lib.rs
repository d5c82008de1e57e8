//! A harness that boots Kutse services in this process against the real local stack, each on its
//! own port with its own throw-away database, all on one broker topology of the test's own.
//!
//! Services are built through their real configuration path (`Config::from_env` over an
//! environment map), so what a test runs is what `make run` runs.

use std::collections::HashMap;
use std::path::PathBuf;

use kutse_auth::dev::{DevIssuer, TokenRequest};
use kutse_config::Env;
use kutse_service::Service;
use kutse_testkit::TestDb;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The six services by name.
pub const SERVICES: [&str; 6] = [
    "intake",
    "documents",
    "assessment",
    "committee",
    "certificates",
    "notifications",
];

/// One running service.
#[derive(Debug)]
pub struct Running {
    pub name: &'static str,
    pub url: String,
    pub db: TestDb,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Stops the service and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}

impl Drop for Running {
    /// A service whose test ended stops at once: it must not reconnect and declare its
    /// topology again after the harness deleted it.
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The shared pieces of one test's system: dev token issuer and broker prefix.
#[derive(Debug)]
pub struct Harness {
    pub issuer: DevIssuer,
    jwks_dir: PathBuf,
    pub prefix: String,
}

impl Harness {
    pub fn new() -> anyhow::Result<Self> {
        kutse_telemetry::init_for_tests();
        let jwks_dir = std::env::temp_dir().join(format!("kutse-test-{}", uuid::Uuid::now_v7()));
        let issuer = DevIssuer::load_or_create(&jwks_dir)?;
        Ok(Self {
            issuer,
            jwks_dir,
            prefix: kutse_testkit::topology().prefix,
        })
    }

    /// A bearer token.
    pub fn token(&self, request: &TokenRequest) -> String {
        self.issuer.mint(request).unwrap_or_default()
    }

    /// Builds and starts one service with a fresh database.
    pub async fn start(&self, name: &'static str) -> anyhow::Result<Running> {
        self.start_with(name, &[]).await
    }

    /// Like [`Harness::start`], with some settings of the test's own.
    pub async fn start_with(
        &self,
        name: &'static str,
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Running> {
        let db = TestDb::new().await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let vars: HashMap<String, String> = [
            ("DATABASE_URL", db.url.clone()),
            ("AMQP_URL", kutse_testkit::amqp_url()),
            ("AMQP_PREFIX", self.prefix.clone()),
            (
                "RETRY_DELAYS_MS",
                RETRY_DELAYS_MS.map(|ms| ms.to_string()).join(","),
            ),
            ("DELIVERY_LIMIT", "5".to_owned()),
            ("QUEUE_EXPIRY_SECONDS", "300".to_owned()),
            ("SHUTDOWN_GRACE_SECONDS", "2".to_owned()),
            (
                "AUTH_JWKS_FILE",
                DevIssuer::jwks_path(&self.jwks_dir).display().to_string(),
            ),
            ("PUBLIC_BASE_URL", url.clone()),
            // The register's sealing key: one per harness, shared by its register instances.
            (
                "REGISTER_SIGNING_KEY_FILE",
                self.register_key_path().display().to_string(),
            ),
            ("REGISTER_SIGNING_KEY_GENERATE", "true".to_owned()),
            ("LOG_FORMAT", "text".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .collect();
        let service = build(name, Env::from_map(vars)).await?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(service.serve(listener, shutdown.clone()));
        Ok(Running {
            name,
            url,
            db,
            shutdown,
            task: Some(task),
        })
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.jwks_dir);
        // Every service declares the whole topology: delete it now rather than leave its quorum
        // queues to expire in a burst that stalls the broker for later tests. Drop runs outside
        // async, so a small thread with its own runtime does it.
        let topology = self.topology();
        kutse_testkit::delete_on_broker(move |channel| async move {
            topology.delete_all(&channel).await
        });
    }
}

impl Harness {
    /// The JWKS file of this harness's token issuer, as services read it (`AUTH_JWKS_FILE`).
    pub fn jwks_file(&self) -> PathBuf {
        DevIssuer::jwks_path(&self.jwks_dir)
    }

    /// The register's sealing key file of this harness's register instances.
    pub fn register_key_path(&self) -> PathBuf {
        self.jwks_dir.join("register-key.pem")
    }

    /// The broker layout of this harness's services (the retry delays they are started with).
    pub fn topology(&self) -> kutse_messaging::Topology {
        kutse_messaging::Topology {
            prefix: self.prefix.clone(),
            retry_delays: RETRY_DELAYS_MS
                .iter()
                .map(|ms| std::time::Duration::from_millis(*ms))
                .collect(),
            ..kutse_messaging::Topology::default()
        }
    }
}

/// The retry delays of services under test: short, so tests see retries and parking quickly.
const RETRY_DELAYS_MS: [u64; 2] = [100, 300];

/// Builds a service by name from an environment.
pub async fn build(name: &str, env: Env) -> anyhow::Result<Service> {
    match name {
        "intake" => kutse_intake::build(kutse_intake::Config::from_env(env)?).await,
        "documents" => kutse_documents::build(kutse_documents::Config::from_env(env)?).await,
        "assessment" => kutse_assessment::build(kutse_assessment::Config::from_env(env)?).await,
        "committee" => kutse_committee::build(kutse_committee::Config::from_env(env)?).await,
        "certificates" => {
            kutse_certificates::build(kutse_certificates::Config::from_env(env)?).await
        }
        "notifications" => {
            kutse_notifications::build(kutse_notifications::Config::from_env(env)?).await
        }
        other => anyhow::bail!("no service {other}"),
    }
}

/// One JSON call to a service, as a portal makes it: bearer token, optional JSON body and
/// `Idempotency-Key`. Returns the status and the body (JSON, or the text as a JSON string).
pub async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> (u16, serde_json::Value) {
    let method = method.parse().unwrap_or(reqwest::Method::GET);
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let Ok(response) = request.send().await else {
        return (0, serde_json::Value::Null);
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

impl Harness {
    /// Publishes an event to this harness's exchange, as an outside publisher would: persistent,
    /// mandatory, confirmed, under its own type as routing key.
    pub async fn publish(&self, envelope: &kutse_messaging::Envelope) -> anyhow::Result<()> {
        let connection = kutse_testkit::broker().await?;
        self.publish_on(&connection, envelope, envelope.routing_key())
            .await
    }

    /// Publishes `envelope` under `routing_key` on `connection` (e.g. as another broker user, or
    /// under a key that is not its type).
    pub async fn publish_on(
        &self,
        connection: &lapin::Connection,
        envelope: &kutse_messaging::Envelope,
        routing_key: &str,
    ) -> anyhow::Result<()> {
        let publisher = kutse_messaging::Publisher::new(connection).await?;
        let exchange = format!("{}.events", self.prefix);
        let body = envelope.to_bytes();
        publisher
            .publish(kutse_messaging::publisher::Outgoing {
                exchange: &exchange,
                routing_key,
                body: &body,
                properties: kutse_messaging::publisher::properties(
                    &envelope.id.to_string(),
                    &envelope.message_type,
                    &envelope.correlation_id.to_string(),
                    "kutse-test",
                    lapin::types::FieldTable::default(),
                ),
            })
            .await?;
        Ok(())
    }

    /// The system-wide invariant every scenario ends with: no parking queue holds a message the
    /// scenario did not expect. `expected` names the services whose parking queue should hold
    /// messages, and how many; every other must be empty.
    pub async fn assert_parked(&self, expected: &[(&str, u32)]) {
        let connection = kutse_testkit::broker().await.expect("broker");
        let channel = connection.create_channel().await.expect("channel");
        let topology = self.topology();
        for service in kutse_messaging::catalogue::services::ALL {
            if kutse_messaging::catalogue::bindings_for(service).is_empty() {
                continue;
            }
            let queue = channel
                .queue_declare(
                    topology.parked_queue(service).as_str().into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    lapin::types::FieldTable::default(),
                )
                .await
                .expect("parking queue");
            let want = expected
                .iter()
                .find(|(s, _)| *s == service)
                .map_or(0, |(_, n)| *n);
            assert_eq!(
                queue.message_count(),
                want,
                "{service}'s parking queue holds {} message(s), {want} expected",
                queue.message_count()
            );
        }
    }

    /// Waits until `service`'s queue exists on the broker (declared by a service that started).
    pub async fn wait_for_queue(&self, service: &str) {
        let queue = self.topology().queue(service);
        kutse_testkit::eventually(std::time::Duration::from_secs(30), &queue, || async {
            // A passive declare of a missing queue closes the channel (and lapin's connection
            // does not recover from that well): a fresh connection each time.
            let connection = kutse_testkit::broker().await.ok()?;
            let channel = connection.create_channel().await.ok()?;
            let found = channel
                .queue_declare(
                    queue.as_str().into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    lapin::types::FieldTable::default(),
                )
                .await
                .ok()
                .map(|_| ());
            let _ = connection.close(200, "checked".into()).await;
            found
        })
        .await;
    }

    /// Takes one message from a service's parking queue, if any.
    pub async fn take_parked(
        &self,
        service: &str,
    ) -> anyhow::Result<Option<lapin::message::BasicGetMessage>> {
        let connection = kutse_testkit::broker().await?;
        let channel = connection.create_channel().await?;
        Ok(channel
            .basic_get(
                format!("{}.{service}.parked", self.prefix).as_str().into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await?)
    }
}

impl Harness {
    /// A token for `subject` (`EE…`) with `roles`, acting for `body`; names and e-mail of the
    /// test applicant Mari Maasikas.
    pub fn token_for(
        &self,
        subject: &str,
        roles: &[kutse_auth::Role],
        body: Option<uuid::Uuid>,
    ) -> String {
        self.token(&TokenRequest {
            subject: subject.to_owned(),
            roles: roles.to_vec(),
            awarding_body_id: body,
            given_name: Some("Mari".into()),
            family_name: Some("Maasikas".into()),
            email: Some("mari@example.com".into()),
            ttl_seconds: 600,
        })
    }
}

/// The e-mails maildev (the local SMTP sink) holds for one recipient.
pub async fn inbox(address: &str) -> Vec<serde_json::Value> {
    let Ok(response) = reqwest::get("http://127.0.0.1:1080/api/email").await else {
        return Vec::new();
    };
    let all: Vec<serde_json::Value> = response.json().await.unwrap_or_default();
    all.into_iter()
        .filter(|m| {
            m["to"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t["address"] == address))
        })
        .collect()
}

/// The SHA-256 (hex) of a stored document's object in the local S3, read back from the server
/// (the stack's default credentials and the documents bucket).
pub async fn stored_document_sha256(document_id: &str) -> anyhow::Result<String> {
    use sha2::Digest as _;
    let config =
        kutse_storage::S3Config::from_env(&mut Env::from_map(HashMap::new()), "kutse-documents");
    let object = config
        .client()
        .get_object()
        .bucket(&config.bucket)
        .key(format!("documents/{document_id}"))
        .send()
        .await?;
    let bytes = object.body.collect().await?.into_bytes();
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

/// Waits until a service answers `/readyz` with 200: connected to its database and broker, its
/// queues declared, so events published from now on reach it.
pub async fn wait_ready(running: &Running) {
    let http = reqwest::Client::new();
    kutse_testkit::eventually(std::time::Duration::from_secs(30), running.name, || async {
        let (status, _) = call(
            &http,
            "GET",
            &format!("{}/readyz", running.url),
            "",
            None,
            None,
        )
        .await;
        (status == 200).then_some(())
    })
    .await;
}
