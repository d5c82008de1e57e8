//! Every service answers `/healthz`, and `/readyz` tells the truth about its dependencies.

use std::time::Duration;

use kutse_testkit::eventually;
use kutse_tests::{Harness, SERVICES};

async fn readyz(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let response = client
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("readyz answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("readyz json"))
}

fn failing_checks(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_is_ready_with_its_real_dependencies_and_not_ready_without_its_database() {
    let harness = Harness::new().expect("harness");
    let client = reqwest::Client::new();
    for name in SERVICES {
        let running = harness.start(name).await.expect(name);

        let health = client
            .get(format!("{}/healthz", running.url))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200, "{name} /healthz");

        // Ready once it has connected to the broker too.
        let last = std::sync::Mutex::new(serde_json::Value::Null);
        let ready = tokio::time::timeout(
            Duration::from_secs(60),
            eventually(Duration::from_secs(90), "ready", || async {
                let (status, report) = readyz(&client, &running.url).await;
                *last.lock().expect("lock") = report.clone();
                (status == 200).then_some(report)
            }),
        )
        .await;
        let report = ready.unwrap_or_else(|_| {
            panic!(
                "{name} not ready within 60 s: {}",
                last.lock().expect("lock")
            )
        });
        let checks: Vec<&str> = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert!(
            checks.contains(&"database") && checks.contains(&"broker"),
            "{name}: {checks:?}"
        );
        match name {
            "documents" | "certificates" => assert!(checks.contains(&"storage"), "{name}"),
            "notifications" => assert!(checks.contains(&"smtp"), "{name}"),
            _ => {}
        }

        // The database goes away: not ready, naming the database.
        drop_database(&running.db.name).await;
        let (status, report) = readyz(&client, &running.url).await;
        assert_eq!(status, 503, "{name} with its database gone: {report}");
        assert_eq!(
            failing_checks(&report),
            vec!["database"],
            "{name}: {report}"
        );

        running.stop().await.expect("stops cleanly");
    }
}

async fn drop_database(name: &str) {
    use sqlx::{ConnectOptions, Connection};
    let admin: sqlx::postgres::PgConnectOptions =
        kutse_testkit::admin_database_url().parse().expect("url");
    let mut conn = admin.connect().await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .expect("drop");
    conn.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_stops_within_its_grace_period_even_with_a_request_hanging_in_flight() {
    use tokio::io::AsyncWriteExt as _;
    let harness = Harness::new().expect("harness");
    let intake = harness.start("intake").await.expect("intake");
    kutse_tests::wait_ready(&intake).await;
    // A client that starts a request and never finishes its body.
    let address = intake.url.trim_start_matches("http://").to_owned();
    let mut stuck = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    stuck
        .write_all(
            b"POST /applications HTTP/1.1\r\nHost: kutse\r\ncontent-type: application/json\r\n\
              content-length: 100000\r\n\r\n{\"round_id\":",
        )
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(15), intake.stop())
        .await
        .expect("stopped in time, not after the request's own timeout")
        .expect("stopped cleanly");
    // The harness gives services a 2 s grace period.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(stuck);
}

/// The image's user (`deploy/Dockerfile`).
const IMAGE_UID: u32 = 10001;

/// What a container gives the register: its working directory is `/`, its environment holds
/// nothing but the settings, it runs as the image's unprivileged user (when the test runs as root,
/// through `setpriv`), and the sealing key is a read-only mounted file only that user can read.
/// It must migrate, start, publish that key, write nothing where it stands, and stop on SIGTERM
/// within its grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_binary_runs_from_root_with_only_its_mounted_key_and_stops_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};

    let harness = Harness::new().expect("harness");
    let db = kutse_testkit::TestDb::new().await.expect("database");
    let secret_dir = std::env::temp_dir().join(format!("kutse-secret-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&secret_dir).expect("secret dir");
    let key_file = secret_dir.join("register-key.pem");
    let key = kutse_protocol::keys::generate_signing_key(&key_file).expect("key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o400)).expect("0400");
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let drop_to_image_user = as_root && std::path::Path::new("/usr/bin/setpriv").exists();
    if drop_to_image_user {
        std::os::unix::fs::chown(&key_file, Some(IMAGE_UID), Some(IMAGE_UID)).expect("chown");
    }
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let settings = [
        ("DATABASE_URL", db.url.clone()),
        ("AMQP_URL", kutse_testkit::amqp_url()),
        ("AMQP_PREFIX", harness.prefix.clone()),
        ("QUEUE_EXPIRY_SECONDS", "300".to_owned()),
        ("HTTP_ADDR", addr.to_string()),
        ("AUTH_JWKS_FILE", harness.jwks_file().display().to_string()),
        ("REGISTER_SIGNING_KEY_FILE", key_file.display().to_string()),
        ("SHUTDOWN_GRACE_SECONDS", "2".to_owned()),
        ("LOG_FORMAT", "text".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let binary = kutse_tests::built_binary("kutse-certificates");
    let run = |command: Option<&str>| {
        let mut process = if drop_to_image_user {
            let mut setpriv = Command::new("/usr/bin/setpriv");
            let id = IMAGE_UID.to_string();
            setpriv
                .args(["--reuid", &id, "--regid", &id, "--clear-groups"])
                .arg(&binary);
            setpriv
        } else {
            Command::new(&binary)
        };
        process
            .args(command)
            .current_dir("/")
            .env_clear()
            .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null());
        process
    };
    let root_before: Vec<_> = std::fs::read_dir("/")
        .expect("ls /")
        .map(|e| e.expect("entry").file_name())
        .collect();

    let migrated = run(Some("migrate")).output().expect("migrate runs");
    assert!(
        migrated.status.success(),
        "migrate: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let mut serving = run(None)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let client = reqwest::Client::new();
    let url = format!("http://{addr}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        let exited = serving.try_wait().expect("wait");
        if exited.is_some() || std::time::Instant::now() > deadline {
            let _ = serving.kill();
            let output = serving.wait_with_output().expect("output");
            let _ = std::fs::remove_dir_all(&secret_dir);
            panic!(
                "the register did not become ready ({:?}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jwks: serde_json::Value = client
        .get(format!("{url}/register/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json");
    let published = jwks["keys"].as_array().expect("keys");
    assert_eq!(published.len(), 1, "{jwks}");
    let expected = kutse_protocol::keys::okp_jwk("any", &key.verifying_key());
    assert_eq!(
        published[0]["x"], expected["x"],
        "the mounted key is the one published"
    );

    let pid = serving.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = serving.try_wait().expect("wait") {
                return Some((status, serving));
            }
            if std::time::Instant::now() > deadline {
                let _ = serving.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("waiter");
    let (status, serving) = exit.expect("the register stops within its grace after SIGTERM");
    let mut stderr = String::new();
    if let Some(mut pipe) = serving.stderr {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(status.success(), "exit {status}: {stderr}");

    let root_after: Vec<_> = std::fs::read_dir("/")
        .expect("ls /")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(root_before, root_after, "the register wrote nothing in /");
    let _ = std::fs::remove_dir_all(&secret_dir);
}
