//! The data tracker's cost on the read path (`make bench`, release build): the same application
//! read through intake's `GET /applications/{id}` by its applicant (not tracked: their own data)
//! and by the body's staff (tracked: one durable insert into intake's tracker in the read's
//! connection). Both paths are otherwise the same handler and
//! queries, so the difference is the tracking. Printed: latency percentiles of each,
//! one client at a time and eight at once, and the ratio.
//!
//! Intake runs in this process (the tests' harness) against the local stack.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_tests::{AUTHORITY_CODE, Harness, call};
use serde_json::json;

const READS: usize = 2000;
const CLIENTS: usize = 8;
const MARI: &str = "EE49403136526";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `READS` reads of `url` with `token`, `clients` at a time; each read's latency, sorted.
async fn reads(
    url: &str,
    token: &str,
    clients: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, token) = (http.clone(), url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(READS / clients);
            for _ in 0..READS / clients {
                let t = Instant::now();
                let response = http.get(&url).bearer_auth(&token).send().await?;
                anyhow::ensure!(response.status() == 200, "read: {}", response.status());
                response.bytes().await?;
                latencies.push(t.elapsed());
            }
            Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(READS);
    for task in tasks {
        all.extend(task.await??);
    }
    let wall = started.elapsed();
    all.sort();
    Ok((all, wall))
}

fn line(label: &str, latencies: &[Duration], wall: Duration) {
    println!(
        "  {label:<34} p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms   {:>6.0} reads/s",
        percentile(latencies, 0.50).as_secs_f64() * 1e3,
        percentile(latencies, 0.95).as_secs_f64() * 1e3,
        percentile(latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len() as f64 / wall.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let harness = Harness::new()?;
    let intake = harness.start("intake").await?;
    kutse_tests::wait_ready(&intake).await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: String, body: serde_json::Value| {
        let url = format!("{}{path}", intake.url);
        let http = http.clone();
        async move {
            let (status, answer) =
                call(&http, "POST", &url, &token, Some(&body.to_string()), None).await;
            anyhow::ensure!(
                (200..300).contains(&status),
                "POST {url}: {status} {answer}"
            );
            Ok(answer)
        }
    };
    let authority = harness.token_for(&format!("EE{AUTHORITY_CODE}"), &[Role::Authority], None);
    let body = post("/awarding-bodies", authority, json!({ "name": "Bench" })).await?;
    let body_id: uuid::Uuid = body["id"].as_str().unwrap_or_default().parse()?;
    let staff = harness.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body_id));
    let qualification = post(
        "/qualifications",
        staff.clone(),
        json!({
            "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
            "competences": [ { "code": "B.1", "name": "Juuste lõikamine" } ]
        }),
    )
    .await?;
    let round = post(
        "/rounds",
        staff.clone(),
        json!({
            "qualification_id": qualification["id"],
            "deadline": (Utc::now().date_naive() + Days::new(30)).to_string(),
            "fees": [ { "kind": "prior_learning", "amount_cents": 17000 } ],
            "delivery_options": [ { "option": "electronic" } ]
        }),
    )
    .await?;
    let mari = harness.token_for(MARI, &[], None);
    let application = post(
        "/applications",
        mari.clone(),
        json!({
            "round_id": round["id"], "kind": "prior_learning", "delivery_option": "electronic",
            "email": "mari@example.com"
        }),
    )
    .await?;
    let url = format!(
        "{}/applications/{}",
        intake.url,
        application["id"].as_str().unwrap_or_default()
    );
    // Warm both paths up.
    reads(&url, &mari, 1).await?;
    reads(&url, &staff, 1).await?;

    println!("Data tracker: GET /applications/{{id}}, {READS} reads each (release)");
    let mut ratios = Vec::new();
    for clients in [1, CLIENTS] {
        let (own, own_wall) = reads(&url, &mari, clients).await?;
        let (tracked, tracked_wall) = reads(&url, &staff, clients).await?;
        line(
            &format!("applicant, untracked ({clients} client(s))"),
            &own,
            own_wall,
        );
        line(
            &format!("staff, tracked ({clients} client(s))"),
            &tracked,
            tracked_wall,
        );
        let ratio = percentile(&tracked, 0.5).as_secs_f64() / percentile(&own, 0.5).as_secs_f64();
        println!("  tracked / untracked p50: {ratio:.2}");
        ratios.push(ratio);
    }
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM data_reads")
        .fetch_one(&intake.db.pool)
        .await?;
    println!("  reads recorded: {recorded} (every staff read, none of the applicant's)");
    anyhow::ensure!(
        recorded as usize >= 2 * READS,
        "not every staff read was tracked"
    );
    Ok(())
}
