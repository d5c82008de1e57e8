//! Documents under load: the memory of the documents service while 20 clients upload 100 MiB
//! each at once, and how fast the virus scanner gets through them (`make bench`).
//!
//! The service runs as its own release process (`target/release/kutse-documents`) against the
//! local stack (PostgreSQL, RabbitMQ, SeaweedFS, clamd), so its resident memory is measured alone:
//! the peak (`VmHWM` from `/proc/<pid>/status`) against the same process idle before the uploads
//! (the baseline). Every upload is a PDF by its bytes, so each is stored and then scanned.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kutse_auth::access::{AccessTokenIssuer, Grant};
use kutse_protocol::keys::{KeyRing, KeySettings};
use uuid::Uuid;

const CLIENTS: usize = 20;
const FILE_BYTES: usize = 100 * 1024 * 1024;
const APPLICANT: &str = "49403136526";

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "kutse-documents"])
        .current_dir(workspace)
        .status()?;
    anyhow::ensure!(built.success(), "building kutse-documents failed");

    let dir = std::env::temp_dir().join(format!("kutse-bench-{}", Uuid::now_v7()));
    let keys = KeyRing::load(
        &KeySettings {
            current: dir.join("token-key.pem"),
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
    std::fs::write(dir.join("jwks.json"), issuer.jwks_json().to_string())?;
    let token = issuer.mint(&Grant {
        subject: format!("EE{APPLICANT}"),
        client_id: "bench".into(),
        ttl_seconds: 3600,
        ..Grant::default()
    })?;

    let db = kutse_testkit::TestDb::new().await?;
    let topology = kutse_testkit::topology();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let settings = [
        ("DATABASE_URL", db.url.clone()),
        ("AMQP_URL", kutse_testkit::amqp_url()),
        ("AMQP_PREFIX", topology.prefix.clone()),
        ("QUEUE_EXPIRY_SECONDS", "300".to_owned()),
        ("HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("HTTP_REQUEST_TIMEOUT_SECONDS", "600".to_owned()),
        (
            "AUTH_JWKS_FILE",
            dir.join("jwks.json").display().to_string(),
        ),
        ("DOCUMENT_MAX_BYTES", (FILE_BYTES + 1024).to_string()),
        (
            "DOCUMENT_BYTES_PER_APPLICATION",
            (4 * 1024 * 1024 * 1024u64).to_string(),
        ),
        ("DOCUMENTS_PER_APPLICATION", "1000".to_owned()),
        ("DOCUMENT_UPLOADS_IN_FLIGHT", CLIENTS.to_string()),
        ("LOG_FORMAT", "text".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let binary = workspace.join("target/release/kutse-documents");
    let run = |command: Option<&str>| {
        let mut process = Command::new(&binary);
        process
            .args(command)
            .env_clear()
            .envs(settings.iter().map(|(k, v)| (*k, v.as_str())));
        process
    };
    anyhow::ensure!(run(Some("migrate")).status()?.success(), "migrate failed");
    let application = Uuid::now_v7();
    sqlx::query("INSERT INTO applications (application_id, awarding_body_id, applicant) VALUES ($1, $2, $3)")
        .bind(application)
        .bind(Uuid::now_v7())
        .bind(APPLICANT)
        .execute(&db.pool)
        .await?;
    let mut service = run(None).stdout(Stdio::null()).spawn()?;
    let pid = service.id();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "documents not ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let idle_kib = status_kib(pid, "VmRSS:");

    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend((0..FILE_BYTES - 9).map(|i| (i % 251) as u8));
    let body = axum::body::Bytes::from(file);
    let upload_started = Instant::now();
    let uploads = (0..CLIENTS).map(|_| {
        let http = http.clone();
        let url = format!("{url}/documents?application_id={application}&type=evidence");
        let token = token.clone();
        let body = body.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .header("content-type", "application/pdf")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    });
    let mut statuses = Vec::new();
    for upload in uploads.collect::<Vec<_>>() {
        statuses.push(upload.await??);
    }
    let upload_seconds = upload_started.elapsed().as_secs_f64();
    anyhow::ensure!(statuses.iter().all(|s| *s == 201), "uploads: {statuses:?}");
    let peak_kib = status_kib(pid, "VmHWM:");

    let scan_started = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM documents WHERE scan_status = 'pending'")
                .fetch_one(&db.pool)
                .await?;
        if pending == 0 {
            break;
        }
        anyhow::ensure!(
            scan_started.elapsed() < Duration::from_secs(900),
            "scans did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scan_seconds = upload_seconds.max(0.0) + scan_started.elapsed().as_secs_f64();
    let clean: i64 =
        sqlx::query_scalar("SELECT count(*) FROM documents WHERE scan_status = 'clean'")
            .fetch_one(&db.pool)
            .await?;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = service.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = topology.prefix.clone();
    kutse_testkit::delete_on_broker(&prefix, move |channel| async move {
        topology.delete_all(&channel).await
    });

    let total_mib = (CLIENTS * FILE_BYTES) as f64 / (1024.0 * 1024.0);
    println!(
        "documents under {CLIENTS} parallel uploads of {} MiB (release, this machine):",
        FILE_BYTES / (1024 * 1024)
    );
    println!(
        "  resident memory idle (baseline)   {:>8.1} MiB",
        idle_kib as f64 / 1024.0
    );
    println!(
        "  resident memory peak              {:>8.1} MiB   ({:.2}× idle; {:.1} MiB per upload in flight)",
        peak_kib as f64 / 1024.0,
        peak_kib as f64 / idle_kib.max(1) as f64,
        (peak_kib.saturating_sub(idle_kib)) as f64 / 1024.0 / CLIENTS as f64
    );
    println!(
        "  uploaded {total_mib:.0} MiB in {upload_seconds:.1} s   ({:.0} MiB/s)",
        total_mib / upload_seconds
    );
    println!(
        "  scanned  {clean} documents clean, all done {scan_seconds:.1} s after the first byte   ({:.0} MiB/s through clamd)",
        total_mib / scan_seconds
    );
    Ok(())
}
