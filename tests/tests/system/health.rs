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
