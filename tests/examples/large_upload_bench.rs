//! P4, one 1 GiB upload through the documents service (`make bench`, release build), against
//! the best direct S3 multipart upload of the same bytes measured in the same run: 8 MiB parts,
//! ten at a time (what S3 client libraries do by default, e.g. the AWS CLI). Also shown: the same
//! direct upload one part at a time.
//!
//! Targets: through the service ≥ 80 % of the concurrent direct upload; the service's peak
//! resident memory ≤ 64 MiB meanwhile.
//!
//! The service runs as its own release process (`target/release/kutse-documents`) against the
//! local stack, so its memory is its own: sampled every 20 ms during the upload and read as
//! `VmHWM` (the peak) afterwards. The body is streamed from a 1 MiB block repeated, so the
//! client holds no gigabyte either. The virus scanner is pointed at a closed port for the run
//! (so the service is live but not ready; the benchmark waits for `/healthz`):
//! the scan of the stored file comes after the upload and is not what is measured here.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::{StreamExt as _, TryStreamExt as _};
use kutse_auth::access::{AccessTokenIssuer, Grant};
use kutse_protocol::keys::{KeyRing, KeySettings};
use uuid::Uuid;

const MIB: usize = 1024 * 1024;
const FILE_MIB: usize = 1024;
const PART_MIB: usize = 8;
const APPLICANT: &str = "49403136526";

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The file's first MiB (a PDF by its first bytes), repeated to make the whole.
fn block() -> axum::body::Bytes {
    let mut block = b"%PDF-1.7\n".to_vec();
    block.extend((0..MIB - 9).map(|i| (i % 251) as u8));
    axum::body::Bytes::from(block)
}

/// The whole file uploaded straight to S3 in 8 MiB parts, `at_once` parts at a time; MiB/s.
async fn direct(client: &aws_sdk_s3::Client, bucket: &str, at_once: usize) -> anyhow::Result<f64> {
    let part: axum::body::Bytes = axum::body::Bytes::from(block().repeat(PART_MIB));
    let key = format!("direct-{}", Uuid::now_v7());
    let started = Instant::now();
    let upload = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(&key)
        .content_type("application/pdf")
        .send()
        .await?;
    let upload_id = upload.upload_id().unwrap_or_default().to_owned();
    let mut parts: Vec<CompletedPart> =
        futures::stream::iter(1..=i32::try_from(FILE_MIB / PART_MIB)?)
            .map(|number| {
                let (client, key, upload_id, part) =
                    (client.clone(), key.clone(), upload_id.clone(), part.clone());
                async move {
                    let sent = client
                        .upload_part()
                        .bucket(bucket)
                        .key(&key)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .body(ByteStream::from(part))
                        .send()
                        .await?;
                    anyhow::Ok(
                        CompletedPart::builder()
                            .part_number(number)
                            .set_e_tag(sent.e_tag().map(str::to_owned))
                            .build(),
                    )
                }
            })
            .buffer_unordered(at_once)
            .try_collect()
            .await?;
    parts.sort_by_key(|p| p.part_number());
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    client
        .delete_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await?;
    Ok(FILE_MIB as f64 / seconds)
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

    let bucket = kutse_tests::TestBucket::new().await?;
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
        ("S3_BUCKET", bucket.name.clone()),
        ("CLAMD_ADDRESS", "127.0.0.1:9".to_owned()),
        ("DOCUMENT_MAX_BYTES", (FILE_MIB * MIB + MIB).to_string()),
        (
            "DOCUMENT_BYTES_PER_APPLICATION",
            (4 * FILE_MIB * MIB).to_string(),
        ),
        ("LOG_FORMAT", "text".to_owned()),
        ("RUST_LOG", "error".to_owned()),
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
    let mut service = run(None)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = service.id();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while http
        .get(format!("{url}/healthz"))
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

    let s3 = kutse_storage::S3Config::from_env(
        &mut kutse_config::Env::from_map(std::collections::HashMap::new()),
        &bucket.name,
    )
    .client();
    let concurrent = direct(&s3, &bucket.name, 10).await?;
    let sequential = direct(&s3, &bucket.name, 1).await?;

    // Through the service, with its memory sampled meanwhile.
    let peak_sampled = Arc::new(AtomicU64::new(0));
    let sampling = tokio::spawn({
        let peak = peak_sampled.clone();
        async move {
            loop {
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    // A plain HTTP/1.1 request with its length, written a block at a time.
    let upload_started = Instant::now();
    let (status, answer) = {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let head = format!(
            "POST /documents?application_id={application}&type=evidence HTTP/1.1\r\n\
             host: 127.0.0.1:{port}\r\nauthorization: Bearer {token}\r\n\
             content-type: application/pdf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            FILE_MIB * MIB
        );
        stream.write_all(head.as_bytes()).await?;
        let one = block();
        for _ in 0..FILE_MIB {
            stream.write_all(&one).await?;
        }
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let status: u16 = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, response)
    };
    let through = FILE_MIB as f64 / upload_started.elapsed().as_secs_f64();
    sampling.abort();
    let peak_kib = status_kib(pid, "VmHWM:").max(peak_sampled.load(Ordering::Relaxed));
    anyhow::ensure!(status == 201, "the upload was answered: {answer}");

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = service.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = topology.prefix.clone();
    kutse_testkit::delete_on_broker(&prefix, move |channel| async move {
        topology.delete_all(&channel).await
    });

    println!("P4, one {FILE_MIB} MiB upload (release, this machine, SeaweedFS):");
    println!(
        "  direct S3 multipart, {PART_MIB} MiB parts, 10 at a time (baseline)  {concurrent:>6.0} MiB/s"
    );
    println!(
        "  direct S3 multipart, {PART_MIB} MiB parts, one at a time            {sequential:>6.0} MiB/s"
    );
    println!(
        "  through the documents service                        {through:>6.0} MiB/s   ({:.0} % of the baseline; target ≥ 80 %)",
        100.0 * through / concurrent
    );
    println!(
        "  the service's resident memory: idle {:.1} MiB, peak {:.1} MiB (target ≤ 64 MiB)",
        idle_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );
    Ok(())
}
