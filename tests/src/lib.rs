//! A harness that boots Kutse services in this process against the real local stack, each on its
//! own port with its own throw-away database, all on one broker topology of the test's own.
//!
//! Services are built through their real configuration path (`Config::from_env` over an
//! environment map), so what a test runs is what `make run` runs.

pub mod outside;

use std::collections::HashMap;
use std::path::PathBuf;

use kutse_auth::access::{AccessTokenIssuer, Grant};
use kutse_auth::dev::{DevTara, TaraLogin};
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

/// The authority's person every harness configures (`AUTHORITY_PERSONAL_CODES`).
pub const AUTHORITY_CODE: &str = "37605030299";

/// The TARA stand-in's key of the tests: a fixed RSA key made with `openssl genpkey` (any key
/// would do; a fixed one spares every test an RSA key generation).
const TARA_TEST_KEY: &str = include_str!("../fixtures/tara-stand-in-key.pem");

/// The shared pieces of one test's system: the access-token key (the one intake signs with), the
/// TARA stand-in, and the broker prefix.
#[derive(Debug)]
pub struct Harness {
    /// Signs access tokens with intake's key, for tests of one service that need a token as if
    /// exchanged (the exchange itself is tested through intake's token endpoint).
    pub issuer: AccessTokenIssuer,
    /// Mints TARA-shaped ID tokens, which intake trusts in place of TARA's.
    pub tara: DevTara,
    jwks_dir: PathBuf,
    pub prefix: String,
}

impl Harness {
    pub fn new() -> anyhow::Result<Self> {
        kutse_telemetry::init_for_tests();
        let jwks_dir = std::env::temp_dir().join(format!("kutse-test-{}", uuid::Uuid::now_v7()));
        let keys = kutse_protocol::keys::KeyRing::load(
            &kutse_protocol::keys::KeySettings {
                current: jwks_dir.join("token-key.pem"),
                published: Vec::new(),
                generate: true,
            },
            "kutse",
        )?;
        let issuer = AccessTokenIssuer::new(
            keys,
            kutse_auth::dev::DEV_ISSUER,
            kutse_auth::dev::DEV_AUDIENCE,
        )?;
        std::fs::write(jwks_dir.join("jwks.json"), issuer.jwks_json().to_string())?;
        let tara = DevTara::from_pem(TARA_TEST_KEY)?;
        std::fs::write(
            jwks_dir.join("tara-jwks.json"),
            tara.jwks_json().to_string(),
        )?;
        Ok(Self {
            issuer,
            tara,
            jwks_dir,
            prefix: kutse_testkit::topology().prefix,
        })
    }

    /// An access token for `grant`, signed with intake's key as the exchange would.
    pub fn token(&self, grant: &Grant) -> String {
        self.issuer.mint(grant).expect("access token")
    }

    /// A TARA ID token of a fresh Mobile-ID login of `code`, named `given family`.
    pub fn id_token(&self, code: &str, given: &str, family: &str) -> String {
        self.tara
            .mint(&TaraLogin::new(code, given, family))
            .expect("ID token")
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
            ("AUTH_JWKS_FILE", self.jwks_file().display().to_string()),
            // Intake signs with the harness's access-token key and trusts its TARA stand-in.
            (
                "TOKEN_SIGNING_KEY_FILE",
                self.jwks_dir.join("token-key.pem").display().to_string(),
            ),
            (
                "TARA_JWKS_FILE",
                self.jwks_dir.join("tara-jwks.json").display().to_string(),
            ),
            ("AUTHORITY_PERSONAL_CODES", AUTHORITY_CODE.to_owned()),
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
        kutse_testkit::delete_on_broker(&self.prefix, move |channel| async move {
            topology.delete_all(&channel).await
        });
    }
}

impl Harness {
    /// The JWKS file of this harness's token issuer, as services read it (`AUTH_JWKS_FILE`).
    pub fn jwks_file(&self) -> PathBuf {
        self.jwks_dir.join("jwks.json")
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
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return (0, serde_json::Value::String(format!("no answer: {e:#}"))),
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
        self.token(&Grant {
            subject: subject.to_owned(),
            client_id: kutse_auth::dev::DEV_TARA_CLIENT_ID.to_owned(),
            roles: roles.to_vec(),
            awarding_body_id: body,
            given_name: Some("Mari".into()),
            family_name: Some("Maasikas".into()),
            email: Some("mari@example.com".into()),
            ttl_seconds: 600,
            ..Grant::default()
        })
    }
}

/// The fields a problem document's `errors` name, in order (none when it names none).
pub fn problem_fields(problem: &serde_json::Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|all| all.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
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

/// A portal's token exchange at intake's `/oauth/token`: the person's TARA ID token for a Kutse
/// access token, acting for `body` when given. Returns the status and the JSON answer.
pub async fn exchange(
    http: &reqwest::Client,
    intake: &str,
    id_token: &str,
    body: Option<uuid::Uuid>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
        ),
        ("subject_token", id_token.to_owned()),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token".to_owned(),
        ),
    ];
    if let Some(body) = body {
        form.push(("scope", format!("body:{body}")));
    }
    let response = http
        .post(format!("{intake}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

impl Harness {
    /// Logs a person in through the TARA stand-in and exchanges the ID token at `intake`, as a
    /// portal does; the access token (panics if the exchange is refused).
    pub async fn login(
        &self,
        http: &reqwest::Client,
        intake: &str,
        login: &TaraLogin,
        body: Option<uuid::Uuid>,
    ) -> String {
        let id_token = self.tara.mint(login).expect("ID token");
        let (status, answer) = exchange(http, intake, &id_token, body).await;
        assert_eq!(
            status, 200,
            "exchange for {} at {body:?}: {answer}",
            login.personal_code
        );
        answer["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

/// A bucket of the test's own in the local S3 (a documents service given it as `S3_BUCKET` keeps
/// its objects apart from other tests'), emptied and removed when dropped.
#[derive(Debug)]
pub struct TestBucket {
    pub name: String,
    config: kutse_storage::S3Config,
}

impl TestBucket {
    pub async fn new() -> anyhow::Result<Self> {
        let config = kutse_storage::S3Config::from_env(
            &mut Env::from_map(HashMap::new()),
            "kutse-documents",
        );
        let name = format!("test-{}", uuid::Uuid::now_v7().simple());
        config.client().create_bucket().bucket(&name).send().await?;
        Ok(Self { name, config })
    }

    /// The keys of every object in the bucket, sorted.
    pub async fn keys(&self) -> anyhow::Result<Vec<String>> {
        let listed = self
            .config
            .client()
            .list_objects_v2()
            .bucket(&self.name)
            .send()
            .await?;
        let mut keys: Vec<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        Ok(keys)
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        // A client of the clean-up thread's own runtime.
        let client = self.config.client();
        let name = self.name.clone();
        let _ = kutse_testkit::block_on_side(async move {
            let listed = client.list_objects_v2().bucket(&name).send().await?;
            for object in listed.contents() {
                if let Some(key) = object.key() {
                    client.delete_object().bucket(&name).key(key).send().await?;
                }
            }
            client.delete_bucket().bucket(&name).send().await?;
            anyhow::Ok(())
        });
    }
}

/// The workspace's binary `name` (a service, a command-line tool), built once per test process:
/// a no-op when it is up to date, and `cargo test` builds test targets, not every package's
/// binaries.
pub fn built_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.iter().any(|b| b == name) {
        build_binary(name);
        built.push(name.to_owned());
    }
    let test_binary = std::env::current_exe().expect("test binary path");
    let profile_dir = test_binary
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>");
    profile_dir.join(name)
}

fn build_binary(name: &str) {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let built = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bin", name])
        .current_dir(workspace)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building {name} failed");
}
