//! The chaos run (`make chaos`; not in CI): N applications driven from a portal's POST to
//! e-mailed certificates while random services are killed (`kill -9`) and restarted and the
//! broker is restarted; then a checker reports what was lost or doubled, and how long the system
//! took to settle after the last fault.
//!
//! Usage: `chaos [--applications N] [--replicas R] [--seconds S]` (defaults 100, 1, 90): the
//! applications start spread over the first two thirds of the S seconds of faults. `make chaos` runs it with one replica of every service and then with three (as the
//! Helm chart scales them), on the one broker and the one database per service.
//!
//! The six services run as release processes (`target/release/kutse-*`) against the local stack,
//! each with fresh databases and broker names of its own; their logs go to `target/chaos/`.
//! The driver does what the portal and the body's people do (`deploy/walkthrough.sh` is the same
//! path, for one application), retrying every call that gets no answer or a 5xx, as a portal
//! would, and checking the resource when a retried step answers that it was already done.
//! Application creation carries an `Idempotency-Key`. One call has no way to be checked
//! afterwards — opening a committee session, which takes every decided application waiting —
//! so the committee is not killed while that one call is in flight.
//!
//! Goals: 0 applications lost, 0 duplicate applications or certificates (each driven application
//! is a different applicant's, so a second application of one applicant, or a second certificate
//! of one holder, is a duplicate), duplicate e-mails ≤ kills of notifications (a killed sender
//! may repeat the one mail it was sending), settled within 2 minutes of the last fault.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use futures::StreamExt as _;
use kutse_domain::Isikukood;
use kutse_tests::{AUTHORITY_CODE, Harness};
use rand_core::RngCore as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

const SERVICES: [&str; 6] = [
    "intake",
    "documents",
    "assessment",
    "committee",
    "certificates",
    "notifications",
];
const CHAIR: &str = "38001085718";
const ADMIN: &str = "48704147433";
const STAFF: &str = "36805280109";
const ASSESSOR: &str = "33105048161";
const MEMBER: &str = "30411030851";
/// How long any one step may keep retrying.
const STEP: Duration = Duration::from_secs(120);

fn random_below(n: u32) -> u32 {
    rand_core::OsRng.next_u32() % n.max(1)
}

fn random_between(low_ms: u64, high_ms: u64) -> Duration {
    Duration::from_millis(
        low_ms + u64::from(random_below(u32::try_from(high_ms - low_ms).unwrap_or(1))),
    )
}

/// One process of one service.
struct Process {
    name: &'static str,
    replica: usize,
    url: String,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Process {
    fn start(&mut self, binaries: &std::path::Path, logs: &std::path::Path) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("{}-{}.log", self.name, self.replica)))?;
        let child = Command::new(binaries.join(format!("kutse-{}", self.name)))
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    /// A run that fails leaves no service running.
    fn drop(&mut self) {
        self.kill();
    }
}

/// The running system: its processes, and what the checker reads.
struct System {
    processes: Mutex<Vec<Process>>,
    binaries: std::path::PathBuf,
    logs: std::path::PathBuf,
    databases: HashMap<&'static str, kutse_testkit::TestDb>,
    http: reqwest::Client,
    /// Set while the committee must not be killed (see the module's comment).
    committee_quiet: AtomicBool,
}

impl System {
    /// A URL of one of the service's replicas, chosen at random.
    async fn url(&self, name: &str) -> String {
        let processes = self.processes.lock().await;
        let of: Vec<&Process> = processes.iter().filter(|p| p.name == name).collect();
        of[random_below(u32::try_from(of.len()).unwrap_or(1)) as usize]
            .url
            .clone()
    }

    /// A call, retried while it gets no answer or a 5xx (a process restarting), up to `STEP`.
    async fn call(
        &self,
        service: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let started = Instant::now();
        loop {
            let url = format!("{}{path}", self.url(service).await);
            let body = body.map(Value::to_string);
            let (status, answer) =
                kutse_tests::call(&self.http, method, &url, token, body.as_deref(), key).await;
            if (status != 0 && status < 500) || started.elapsed() > STEP {
                return (status, answer);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Retries `check` (a call and a test of its answer) until it holds, up to `STEP`.
    async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await {
                return Ok(value);
            }
            anyhow::ensure!(started.elapsed() < STEP, "gave up waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn login(
        &self,
        harness: &Harness,
        code: &str,
        body: Option<Uuid>,
    ) -> anyhow::Result<String> {
        let id_token = harness.id_token(code, "Kati", "Kask");
        self.until("a login", || async {
            let intake = self.url("intake").await;
            let mut form = vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
                ),
                ("subject_token", id_token.clone()),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token".to_owned(),
                ),
            ];
            if let Some(body) = body {
                form.push(("scope", format!("body:{body}")));
            }
            let response = self
                .http
                .post(format!("{intake}/oauth/token"))
                .form(&form)
                .send()
                .await
                .ok()?;
            if response.status() != 200 {
                return None;
            }
            let answer: Value = response.json().await.ok()?;
            answer["access_token"].as_str().map(str::to_owned)
        })
        .await
    }

    async fn post_ok(
        &self,
        service: &str,
        path: &str,
        token: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self
            .call(service, "POST", path, token, Some(&body), None)
            .await;
        anyhow::ensure!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        Ok(answer)
    }
}

/// Valid personal codes of men born on 1985-07-02, one per serial number.
fn applicants(n: usize) -> Vec<String> {
    (0..1000)
        .filter_map(|serial| {
            (0..10)
                .map(|check| format!("3850702{serial:03}{check}"))
                .find(|code| Isikukood::parse(code).is_ok())
        })
        .take(n)
        .collect()
}

struct Options {
    applications: usize,
    replicas: usize,
    seconds: u64,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        applications: 100,
        replicas: 1,
        seconds: 90,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--applications" => options.applications = value.parse()?,
            "--replicas" => options.replicas = value.parse()?,
            "--seconds" => options.seconds = value.parse()?,
            _ => anyhow::bail!("usage: chaos [--applications N] [--replicas R] [--seconds S]"),
        }
    }
    anyhow::ensure!(
        (1..=999).contains(&options.applications) && (1..=5).contains(&options.replicas),
        "1-999 applications, 1-5 replicas"
    );
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--release", "--quiet"])
        .current_dir(&workspace);
    for name in SERVICES {
        build.args(["--bin", &format!("kutse-{name}")]);
    }
    anyhow::ensure!(build.status()?.success(), "building the services failed");
    let logs = workspace.join("target/chaos");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;

    let harness = Harness::new()?;
    let bucket = kutse_tests::TestBucket::new().await?;
    let keys_dir = harness
        .jwks_file()
        .parent()
        .expect("the harness's key directory")
        .to_path_buf();
    let mut databases = HashMap::new();
    let mut processes = Vec::new();
    for name in SERVICES {
        let db = kutse_testkit::TestDb::new().await?;
        for replica in 0..options.replicas {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let url = format!("http://127.0.0.1:{port}");
            let env: Vec<(String, String)> = [
                ("DATABASE_URL", db.url.clone()),
                ("AMQP_URL", kutse_testkit::amqp_url()),
                ("AMQP_PREFIX", harness.prefix.clone()),
                ("QUEUE_EXPIRY_SECONDS", "900".to_owned()),
                ("SHUTDOWN_GRACE_SECONDS", "2".to_owned()),
                ("HTTP_ADDR", format!("127.0.0.1:{port}")),
                ("AUTH_JWKS_FILE", harness.jwks_file().display().to_string()),
                (
                    "TOKEN_SIGNING_KEY_FILE",
                    keys_dir.join("token-key.pem").display().to_string(),
                ),
                (
                    "TARA_JWKS_FILE",
                    keys_dir.join("tara-jwks.json").display().to_string(),
                ),
                ("AUTHORITY_PERSONAL_CODES", AUTHORITY_CODE.to_owned()),
                ("PUBLIC_BASE_URL", url.clone()),
                (
                    "REGISTER_SIGNING_KEY_FILE",
                    harness.register_key_path().display().to_string(),
                ),
                ("REGISTER_SIGNING_KEY_GENERATE", "true".to_owned()),
                ("S3_BUCKET", bucket.name.clone()),
                ("LOG_FORMAT", "text".to_owned()),
                ("RUST_LOG", "warn".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            processes.push(Process {
                name,
                replica,
                url,
                env,
                child: None,
            });
        }
        databases.insert(name, db);
    }
    let system = Arc::new(System {
        processes: Mutex::new(processes),
        binaries: workspace.join("target/release"),
        logs: logs.clone(),
        databases,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        committee_quiet: AtomicBool::new(false),
    });
    {
        // The first replica of each first (the register's sealing key is made by the first
        // certificates process), then the rest; all ready before the run.
        let mut processes = system.processes.lock().await;
        for first in [true, false] {
            for p in processes.iter_mut().filter(|p| (p.replica == 0) == first) {
                p.start(&system.binaries, &system.logs)?;
                let ready = format!("{}/readyz", p.url);
                let started = Instant::now();
                while system
                    .http
                    .get(&ready)
                    .send()
                    .await
                    .map_or(true, |r| r.status() != 200)
                {
                    anyhow::ensure!(
                        started.elapsed() < Duration::from_secs(60),
                        "{} not ready",
                        p.name
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    println!(
        "chaos: {} applications, {} replica(s) of each service, faults for at most {} s; logs in target/chaos/",
        options.applications, options.replicas, options.seconds
    );

    // The body, its people, a qualification, a round and the chair's key: before the faults.
    let s = &system;
    let authority = s.login(&harness, AUTHORITY_CODE, None).await?;
    let body = s
        .post_ok(
            "intake",
            "/awarding-bodies",
            &authority,
            json!({ "name": "Kaose Kutseliit" }),
        )
        .await?;
    let body_id: Uuid = body["id"].as_str().unwrap_or_default().parse()?;
    let appoint = |by: String, code: &'static str, role: &'static str| async move {
        s.post_ok(
            "intake",
            &format!("/awarding-bodies/{body_id}/appointments"),
            &by,
            json!({ "personal_code": code, "role": role, "reason": "chaos run" }),
        )
        .await
    };
    appoint(authority.clone(), ADMIN, "body_administrator").await?;
    let admin = s.login(&harness, ADMIN, Some(body_id)).await?;
    appoint(admin.clone(), STAFF, "awarding_body_staff").await?;
    appoint(admin.clone(), ASSESSOR, "assessor").await?;
    appoint(admin.clone(), CHAIR, "committee_chair").await?;
    appoint(admin.clone(), MEMBER, "committee_member").await?;
    let qualification = s.post_ok("intake", "/qualifications", &s.login(&harness, STAFF, Some(body_id)).await?, json!({
        "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
        "competences": [ { "code": "B.1", "name": "Juuste lõikamine" }, { "code": "B.2", "name": "Juuste värvimine" } ]
    })).await?;
    let staff = s.login(&harness, STAFF, Some(body_id)).await?;
    let round = s
        .post_ok(
            "intake",
            "/rounds",
            &staff,
            json!({
                "qualification_id": qualification["id"],
                "deadline": (chrono::Utc::now().date_naive() + chrono::Days::new(14)).to_string(),
                "fees": [ { "kind": "prior_learning", "amount_cents": 17000 } ],
                "required_documents": ["cv"],
                "delivery_options": [ { "option": "electronic" } ]
            }),
        )
        .await?;
    let round_id = round["id"].as_str().unwrap_or_default().to_owned();
    let chair_key = SigningKey::generate(&mut rand_core::OsRng);
    let kid = format!("chaos-{}", Uuid::now_v7().simple());
    s.post_ok(
        "certificates",
        "/register/signers",
        &staff,
        json!({
            "kid": kid, "awarding_body_id": body_id, "owner": format!("EE{CHAIR}"),
            "public_key": kutse_protocol::encode_key(&chair_key.verifying_key())
        }),
    )
    .await?;
    let chair = s.login(&harness, CHAIR, Some(body_id)).await?;
    s.post_ok(
        "certificates",
        &format!("/register/signers/{kid}/confirmation"),
        &chair,
        json!({}),
    )
    .await?;

    // The faults, until the driver is done or the time is up.
    let stop_faults = Arc::new(AtomicBool::new(false));
    let faults = tokio::spawn({
        let system = system.clone();
        let stop = stop_faults.clone();
        let bound = Duration::from_secs(options.seconds);
        async move {
            let started = Instant::now();
            let mut kills: BTreeMap<&'static str, u32> = BTreeMap::new();
            let mut broker_restarts = 0u32;
            let mut last = None;
            let mut next_broker = started + random_between(8_000, 15_000);
            while !stop.load(Ordering::Relaxed) && started.elapsed() < bound {
                tokio::time::sleep(random_between(1_000, 2_500)).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if Instant::now() >= next_broker {
                    let down = Command::new("rabbitmqctl")
                        .args(["-q", "stop_app"])
                        .status();
                    tokio::time::sleep(random_between(500, 2_000)).await;
                    let up = Command::new("rabbitmqctl")
                        .args(["-q", "start_app"])
                        .status();
                    if down.is_ok_and(|s| s.success()) && up.is_ok_and(|s| s.success()) {
                        broker_restarts += 1;
                        println!("  fault: broker restarted");
                    } else {
                        println!("  fault: the broker could not be restarted (rabbitmqctl)");
                    }
                    last = Some(Instant::now());
                    next_broker = Instant::now() + random_between(15_000, 30_000);
                    continue;
                }
                let mut processes = system.processes.lock().await;
                let quiet = system.committee_quiet.load(Ordering::Relaxed);
                let candidates: Vec<usize> = (0..processes.len())
                    .filter(|i| !(quiet && processes[*i].name == "committee"))
                    .collect();
                let victim =
                    candidates[random_below(u32::try_from(candidates.len()).unwrap_or(1)) as usize];
                let p = &mut processes[victim];
                p.kill();
                *kills.entry(p.name).or_default() += 1;
                println!("  fault: kill -9 {} #{}", p.name, p.replica);
                drop(processes);
                tokio::time::sleep(random_between(200, 1_000)).await;
                let mut processes = system.processes.lock().await;
                let p = &mut processes[victim];
                if let Err(e) = p.start(&system.binaries, &system.logs) {
                    println!("  could not restart {}: {e}", p.name);
                }
                last = Some(Instant::now());
            }
            (kills, broker_restarts, last)
        }
    });

    // The driver: every application to the panel's decision, their starts spread over the first
    // two thirds of the fault window; the committee meanwhile (below) signs what is decided.
    let started = Instant::now();
    let codes = applicants(options.applications);
    let run = Uuid::now_v7().simple().to_string();
    let assessor = s.login(&harness, ASSESSOR, Some(body_id)).await?;
    let pace = Duration::from_secs(options.seconds) * 2 / 3 / u32::try_from(codes.len())?;
    let (decided, mut decisions) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver_done = AtomicBool::new(false);
    let driver =
        async {
            let driven: Vec<anyhow::Result<(String, String)>> = futures::stream::iter(
        codes.iter().enumerate(),
    )
    .map(|(i, code)| {
        let (harness, staff, assessor, round_id, run, decided) =
            (&harness, &staff, &assessor, &round_id, &run, &decided);
        async move {
            tokio::time::sleep_until((started + pace * u32::try_from(i)?).into()).await;
            let email = format!("chaos-{run}-{i}@example.com");
            let token = s.login(harness, code, None).await?;
            let (status, app) = s.call("intake", "POST", "/applications", &token, Some(&json!({
                    "round_id": round_id, "kind": "prior_learning", "delivery_option": "electronic",
                    "email": email, "given_name": "Kaido", "family_name": format!("Kask-{i}")
                })), Some(&format!("chaos-{run}-{i}"))).await;
            anyhow::ensure!(status == 201, "creating an application: {status} {app}");
            let id = app["id"].as_str().unwrap_or_default().to_owned();
            let cv = b"%PDF-1.7 CV, juuksur 2019-2026".repeat(100);
            s.until("the CV stored", || async {
                let url = format!(
                    "{}/documents?application_id={id}&type=cv",
                    s.url("documents").await
                );
                let r = s
                    .http
                    .post(url)
                    .bearer_auth(&token)
                    .header("content-type", "application/pdf")
                    .body(cv.clone())
                    .send()
                    .await
                    .ok()?;
                (r.status() == 201).then_some(())
            })
            .await?;
            let view = |token: String| {
                let id = id.clone();
                async move {
                    s.call(
                        "intake",
                        "GET",
                        &format!("/applications/{id}"),
                        &token,
                        None,
                        None,
                    )
                    .await
                    .1
                }
            };
            s.until("intake to know the CV", || async {
                (view(token.clone()).await["documents"][0]["document_type"] == "cv").then_some(())
            })
            .await?;
            s.until("the fee confirmed", || async {
                let (status, _) = s
                    .call(
                        "intake",
                        "POST",
                        &format!("/applications/{id}/fee-confirmation"),
                        staff,
                        Some(&json!({})),
                        None,
                    )
                    .await;
                ((200..300).contains(&status) || view(token.clone()).await["fee_confirmed"] == true)
                    .then_some(())
            })
            .await?;
            s.until("the application submitted", || async {
                let (status, _) = s
                    .call(
                        "intake",
                        "POST",
                        &format!("/applications/{id}/submit"),
                        &token,
                        Some(&json!({})),
                        None,
                    )
                    .await;
                ((200..300).contains(&status) || view(token.clone()).await["status"] == "submitted")
                    .then_some(())
            })
            .await?;
            let case = format!("/assessments/{id}");
            s.until("the assessor assigned", || async {
                let (status, _) = s
                    .call(
                        "assessment",
                        "POST",
                        &format!("{case}/assessors"),
                        staff,
                        Some(&json!({ "assessor": ASSESSOR })),
                        None,
                    )
                    .await;
                let (_, view) = s.call("assessment", "GET", &case, staff, None, None).await;
                ((200..300).contains(&status)
                    || view["assessors"].as_array().is_some_and(|a| !a.is_empty()))
                .then_some(())
            })
            .await?;
            for code in ["B.1", "B.2"] {
                s.until("a competence decided", || async {
                    let (status, _) = s
                        .call(
                            "assessment",
                            "PUT",
                            &format!("{case}/competences/{code}"),
                            assessor,
                            Some(&json!({ "accepted": true, "justification": "Töötõendid" })),
                            None,
                        )
                        .await;
                    (200..300).contains(&status).then_some(())
                })
                .await?;
            }
            s.until("the panel's decision", || async {
                let (status, _) = s
                    .call(
                        "assessment",
                        "POST",
                        &format!("{case}/decision"),
                        assessor,
                        Some(&json!({})),
                        None,
                    )
                    .await;
                let (_, view) = s.call("assessment", "GET", &case, staff, None, None).await;
                ((200..300).contains(&status) || view["status"] == "decided").then_some(())
            })
            .await?;
            let _ = decided.send(id.clone());
            Ok((id, email))
        }
    })
    .buffer_unordered(16)
    .collect()
    .await;
            driver_done.store(true, Ordering::Relaxed);
            driven
        };

    // The committee: a session every few seconds for what has been decided, until every decided
    // application is on a signed one.
    let committee = async {
        let mut waiting: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut signed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let deadline = Instant::now() + Duration::from_secs(options.seconds) + STEP * 2;
        loop {
            // A session takes every decided application the committee knows of, which may be
            // one the driver has not reported yet: what was signed is not waited for again.
            while let Ok(id) = decisions.try_recv() {
                if !signed.contains(&id) {
                    waiting.insert(id);
                }
            }
            if waiting.is_empty() {
                if driver_done.load(Ordering::Relaxed) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the committee could not sign every decided application: {} waiting",
                waiting.len()
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
            let member = s.login(&harness, MEMBER, Some(body_id)).await?;
            let staff = s.login(&harness, STAFF, Some(body_id)).await?;
            let chair = s.login(&harness, CHAIR, Some(body_id)).await?;
            system.committee_quiet.store(true, Ordering::Relaxed);
            // The committee may be down at this moment (killed just before): wait until it is up.
            let (status, session) = s
                .call(
                    "committee",
                    "POST",
                    "/sessions",
                    &staff,
                    Some(&json!({ "round_id": round_id, "awarding_body_id": body_id })),
                    None,
                )
                .await;
            system.committee_quiet.store(false, Ordering::Relaxed);
            if status != 201 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            let session_id = session["id"].as_str().unwrap_or_default().to_owned();
            let agenda: Vec<String> = session["agenda"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["application_id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for present in [CHAIR, MEMBER] {
                s.until("presence recorded", || async {
                    let (status, _) = s
                        .call(
                            "committee",
                            "PUT",
                            &format!("/sessions/{session_id}/presence"),
                            &staff,
                            Some(&json!({ "member": present, "present": true })),
                            None,
                        )
                        .await;
                    (200..300).contains(&status).then_some(())
                })
                .await?;
            }
            for application in &agenda {
                for voter in [&chair, &member] {
                    s.until("a vote", || async {
                        let (status, _) = s
                            .call(
                                "committee",
                                "POST",
                                &format!("/sessions/{session_id}/votes"),
                                voter,
                                Some(&json!({ "application_id": application, "in_favour": true })),
                                None,
                            )
                            .await;
                        (200..300).contains(&status).then_some(())
                    })
                    .await?;
                }
            }
            let session_path = format!("/sessions/{session_id}");
            let protocol: Value = s
                .until("the protocol frozen", || async {
                    let (status, frozen) = s
                        .call(
                            "committee",
                            "POST",
                            &format!("{session_path}/protocol"),
                            &staff,
                            Some(&json!({ "chair": format!("EE{CHAIR}") })),
                            None,
                        )
                        .await;
                    if status == 200 {
                        return Some(frozen);
                    }
                    let (_, view) = s
                        .call("committee", "GET", &session_path, &staff, None, None)
                        .await;
                    view.get("protocol").filter(|p| !p.is_null()).cloned()
                })
                .await?;
            let protocol: kutse_protocol::Protocol = serde_json::from_value(protocol)?;
            let jws = kutse_protocol::sign(&protocol, &chair_key, &kid, "kutse-protocol")?;
            s.until("the protocol signed", || async {
                let (status, _) = s
                    .call(
                        "committee",
                        "POST",
                        &format!("{session_path}/signature"),
                        &chair,
                        Some(&json!({ "jws": jws })),
                        None,
                    )
                    .await;
                let (_, view) = s
                    .call("committee", "GET", &session_path, &staff, None, None)
                    .await;
                ((200..300).contains(&status) || view["status"] == "signed").then_some(())
            })
            .await?;
            for application in agenda {
                waiting.remove(&application);
                signed.insert(application);
            }
        }
        anyhow::Ok(())
    };
    let (driven, signed) = tokio::join!(driver, committee);
    let driven_in = started.elapsed();
    let mut applications: BTreeMap<String, String> = BTreeMap::new();
    let mut driver_errors = Vec::new();
    for d in driven {
        match d {
            Ok((id, email)) => {
                applications.insert(id, email);
            }
            Err(e) => driver_errors.push(format!("{e:#}")),
        }
    }
    if let Err(e) = signed {
        driver_errors.push(format!("{e:#}"));
    }
    stop_faults.store(true, Ordering::Relaxed);
    let (kills, broker_restarts, last_fault) = faults.await?;
    let last_fault = last_fault.unwrap_or_else(Instant::now);
    // Every process up again (a restart may have failed while the broker was away).
    {
        let mut processes = system.processes.lock().await;
        for p in processes.iter_mut() {
            let exited = p
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited {
                p.kill();
                p.start(&system.binaries, &system.logs)?;
            }
        }
    }

    // The checker: every application awarded, one certificate each, one e-mail of each kind.
    let intake_db = &system.databases["intake"].pool;
    let register_db = &system.databases["certificates"].pool;
    let expected = applications.len();
    let settle_limit = Duration::from_secs(300);
    let mut settled_after = None;
    // Every driven application is a different applicant's, and the databases are this run's
    // own: so an applicant with two applications, or a holder with two certificates, is a
    // duplicate however it came about (a retried creation that lost its key, an award issued
    // under a second number), whatever the register's own constraints allow.
    let (mut awarded, mut applied, mut doubled, mut certificates, mut mailed);
    loop {
        (awarded, applied, doubled) = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT count(DISTINCT applicant) FILTER (WHERE status = 'awarded'), count(*),
                    count(*) - count(DISTINCT applicant)
               FROM applications",
        )
        .fetch_one(intake_db)
        .await?;
        certificates = sqlx::query_as::<_, (String, String, String)>(
            "SELECT application_id::text, register_number, holder FROM certificates",
        )
        .fetch_all(register_db)
        .await?;
        let inbox: Vec<Value> = match system
            .http
            .get("http://127.0.0.1:1080/api/email")
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        mailed = inbox
            .into_iter()
            .filter_map(|m| {
                let to = m["to"][0]["address"].as_str()?.to_owned();
                applications.values().any(|e| *e == to).then(|| {
                    (
                        to,
                        m["subject"].as_str().unwrap_or_default().to_owned(),
                        m["text"].as_str().unwrap_or_default().to_owned(),
                    )
                })
            })
            .collect::<Vec<_>>();
        let numbers: HashMap<&str, &str> = certificates
            .iter()
            .map(|(a, n, _)| (a.as_str(), n.as_str()))
            .collect();
        let certificate_mails = applications
            .iter()
            .filter(|(id, email)| {
                numbers.get(id.as_str()).is_some_and(|n| {
                    mailed
                        .iter()
                        .any(|(to, _, text)| to == *email && text.contains(n))
                })
            })
            .count();
        if usize::try_from(awarded)? == expected
            && certificates
                .iter()
                .map(|(_, _, holder)| holder)
                .collect::<HashSet<_>>()
                .len()
                == expected
            && certificate_mails == expected
        {
            settled_after = Some(last_fault.elapsed());
            break;
        }
        if last_fault.elapsed() > settle_limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut per_kind: HashMap<(&str, &str), u32> = HashMap::new();
    for (to, subject, _) in &mailed {
        *per_kind.entry((to.as_str(), subject.as_str())).or_default() += 1;
    }
    let duplicate_mails: u32 = per_kind.values().map(|n| n - 1).sum();
    let mut per_holder: HashMap<&str, u32> = HashMap::new();
    for (_, _, holder) in &certificates {
        *per_holder.entry(holder.as_str()).or_default() += 1;
    }
    let duplicate_certificates: u32 = per_holder.values().map(|n| n - 1).sum();
    // Applications intake holds beyond one per applicant.
    let duplicate_applications = doubled;
    let lost = expected.saturating_sub(usize::try_from(awarded)?) + driver_errors.len();
    let total_kills: u32 = kills.values().sum();
    let notifications_kills = kills.get("notifications").copied().unwrap_or(0);

    println!(
        "chaos report ({} replica(s) of each service):",
        options.replicas
    );
    println!(
        "  applications driven        {expected} of {} ({} could not be driven)",
        options.applications,
        driver_errors.len()
    );
    for e in driver_errors.iter().take(5) {
        println!("    {e}");
    }
    println!(
        "  faults                     {total_kills} kills {kills:?}, {broker_restarts} broker restarts"
    );
    println!("  lost applications          {lost}   (goal 0)");
    println!(
        "  applications in intake     {applied} for {} applicants; {duplicate_applications} duplicate (goal 0)",
        codes.len()
    );
    println!(
        "  certificates               {} for {expected} awarded, {} holders; {duplicate_certificates} duplicate (goal 0)",
        certificates.len(),
        per_holder.len()
    );
    println!(
        "  duplicate e-mails          {duplicate_mails}   (goal ≤ {notifications_kills}, the kills of notifications); {} e-mails in all",
        mailed.len()
    );
    match settled_after {
        Some(t) => println!(
            "  settled                    {:.1} s after the last fault (goal ≤ 120 s)",
            t.as_secs_f64()
        ),
        None => println!(
            "  settled                    NOT within {} s of the last fault",
            settle_limit.as_secs()
        ),
    }
    if let Some(after) = settled_after {
        let total = (last_fault + after).duration_since(started).as_secs_f64();
        println!(
            "  throughput                 {expected} applications from the first POST to the last certificate e-mailed in {total:.0} s: {:.2}/s (starts spread over {:.0} s; driven to signed protocols in {:.0} s)",
            expected as f64 / total,
            (pace * u32::try_from(expected)?).as_secs_f64(),
            driven_in.as_secs_f64()
        );
    }

    let mut processes = system.processes.lock().await;
    for p in processes.iter_mut() {
        if let Some(child) = &p.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }
    for p in processes.iter_mut() {
        if let Some(mut child) = p.child.take() {
            let _ = child.wait();
        }
    }
    let ok = lost == 0
        && duplicate_applications == 0
        && duplicate_certificates == 0
        && duplicate_mails <= notifications_kills
        && settled_after.is_some_and(|t| t <= Duration::from_secs(120));
    anyhow::ensure!(ok, "the chaos run missed its goals (above)");
    Ok(())
}
