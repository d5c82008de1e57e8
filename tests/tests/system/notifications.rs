//! E-mails reach the applicant's inbox (maildev's API), once per event, in their language.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use kutse_domain::{Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationAwaitingFee, ApplicationRefused, ApplicationSubmitted,
    CertificateRendered, CompetenceRef, QualificationRef, RenderedPdf,
};
use kutse_testkit::eventually;
use kutse_tests::{Harness, inbox};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn applicant(email: &str, language: &str) -> ApplicantRef {
    ApplicantRef {
        isikukood: Isikukood::parse("49403136526").expect("code"),
        given_name: "Mari".into(),
        family_name: "Maasikas".into(),
        email: kutse_domain::Email::parse(email).expect("email"),
        language: kutse_domain::Language::parse(language).expect("language"),
    }
}

fn submission(application: Uuid, address: &str, language: &str) -> ApplicationSubmitted {
    ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::now_v7(),
        awarding_body_id: Uuid::now_v7(),
        qualification: qualification(),
        kind: kutse_domain::ApplicationKind::Initial,
        competences: vec![],
        applicant: applicant(address, language),
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: NaiveDate::from_ymd_opt(2026, 12, 18).expect("date"),
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: None,
        awarding_body_email: None,
        certificate_number: None,
        duplicate_reason: None,
    }
}

fn qualification() -> QualificationRef {
    QualificationRef {
        id: Uuid::now_v7(),
        name: "Juuksur, tase 4".into(),
        level: 4,
        partial: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applicant_is_mailed_once_per_event_in_their_language() {
    let harness = Harness::new().expect("harness");
    // The test serves the PDF itself, on a port of its own.
    let notifications = harness
        .start_with(
            "notifications",
            &[("ATTACHMENT_URL_PREFIXES", "http://127.0.0.1:")],
        )
        .await
        .expect("notifications");
    eventually(Duration::from_secs(20), "notifications ready", || async {
        let ok = reqwest::get(format!("{}/readyz", notifications.url))
            .await
            .is_ok_and(|r| r.status() == 200);
        ok.then_some(())
    })
    .await;
    let address = format!("mari-{}@example.com", Uuid::now_v7().simple());
    let application = Uuid::now_v7();

    let submitted = Envelope::new(&submission(application, &address, "et"), Some(application))
        .expect("envelope");
    // Delivered twice: one receipt.
    harness.publish(&submitted).await.expect("publish");
    harness.publish(&submitted).await.expect("publish");

    // The PDF the register would have stored, served from where the event says.
    let pdf = b"%PDF-1.7 not really a certificate".to_vec();
    let pdf_url = serve(pdf.clone()).await;
    let issued = Envelope::new(
        &CertificateRendered {
            certificate_id: Uuid::now_v7(),
            register_number: "KT-2026-000042".into(),
            application_id: application,
            holder: applicant(&address, "et"),
            qualification: qualification(),
            valid_until: NaiveDate::from_ymd_opt(2031, 12, 18).expect("date"),
            verification_url: "http://127.0.0.1:8085/certificates/KT-2026-000042".into(),
            pdf: RenderedPdf {
                url: pdf_url,
                expires_at: Utc::now() + chrono::Duration::days(7),
                sha256: hex::encode(Sha256::digest(&pdf)),
                size_bytes: pdf.len() as i64,
                filename: "KT-2026-000042.pdf".into(),
            },
            edition: None,
        },
        Some(application),
    )
    .expect("envelope");
    harness.publish(&issued).await.expect("publish");

    let english = format!("john-{}@example.com", Uuid::now_v7().simple());
    let refused = Envelope::new(
        &ApplicationRefused {
            application_id: Uuid::now_v7(),
            protocol_id: Uuid::now_v7(),
            applicant: applicant(&english, "en"),
            qualification: qualification(),
            justification: "B.2.2: no evidence of colouring work".into(),
            competences_not_accepted: vec![CompetenceRef {
                code: "B.2.2".into(),
                name: "Juuste värvimine".into(),
            }],
        },
        None,
    )
    .expect("envelope");
    harness.publish(&refused).await.expect("publish");

    eventually(Duration::from_secs(20), "two mails to Mari", || async {
        (inbox(&address).await.len() >= 2).then_some(())
    })
    .await;
    let refusal = eventually(Duration::from_secs(20), "the refusal", || async {
        inbox(&english).await.pop()
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = inbox(&address).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let subjects: Vec<&str> = mails.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("on kätte saadud")),
        "{subjects:?}"
    );
    // Every mail is text and HTML in one message, in the applicant's language.
    for mail in &mails {
        let html = mail["html"].as_str().expect("an HTML part");
        assert!(html.contains("<html lang=\"et\">"), "{html}");
        assert!(html.contains("<p>Lugupeetud Mari</p>"), "{html}");
        let text = mail["text"].as_str().expect("a text part");
        assert!(text.starts_with("Lugupeetud Mari"), "{text}");
    }
    let certificate = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("KT-2026-000042"))
        })
        .expect("certificate mail");
    let text = certificate["text"].as_str().expect("text");
    assert!(text.contains("/certificates/KT-2026-000042"), "{text}");
    let attachments = certificate["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{certificate:#}");
    assert_eq!(attachments[0]["filename"], "KT-2026-000042.pdf");
    assert_eq!(attachments[0]["contentType"], "application/pdf");
    assert_eq!(attachments[0]["size"], pdf.len());
    assert!(
        refusal["subject"]
            .as_str()
            .expect("subject")
            .starts_with("Decision on your application")
    );
    assert!(
        refusal["text"]
            .as_str()
            .expect("text")
            .contains("no evidence of colouring work")
    );
    let html = refusal["html"].as_str().expect("html");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("How to appeal"), "{html}");
}

/// Submitted before the fee: a receipt saying it waits, then (once) the fee's confirmation — not a
/// second receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_waiting_for_its_fee_gets_a_receipt_then_the_confirmation() {
    let harness = Harness::new().expect("harness");
    let notifications = harness.start("notifications").await.expect("notifications");
    kutse_tests::wait_ready(&notifications).await;
    let address = format!("jaan-{}@example.com", Uuid::now_v7().simple());
    let application = Uuid::now_v7();
    let waiting = Envelope::new(
        &ApplicationAwaitingFee(submission(application, &address, "en")),
        Some(application),
    )
    .expect("envelope");
    harness.publish(&waiting).await.expect("publish");
    harness.publish(&waiting).await.expect("publish");
    eventually(Duration::from_secs(20), "the receipt", || async {
        (!inbox(&address).await.is_empty()).then_some(())
    })
    .await;
    let submitted = Envelope::new(&submission(application, &address, "en"), Some(application))
        .expect("envelope");
    harness.publish(&submitted).await.expect("publish");
    let mails = eventually(Duration::from_secs(20), "the confirmation", || async {
        let mails = inbox(&address).await;
        (mails.len() >= 2).then_some(mails)
    })
    .await;
    // An awaiting-fee event heard after the submission (a late retry) queues nothing more.
    let late = Envelope::new(
        &ApplicationAwaitingFee(submission(application, &address, "en")),
        Some(application),
    )
    .expect("envelope");
    harness.publish(&late).await.expect("publish");
    eventually(
        Duration::from_secs(20),
        "the late event handled",
        || async {
            let handled: i64 =
                sqlx::query_scalar("SELECT count(*) FROM messaging.inbox WHERE message_id = $1")
                    .bind(late.id)
                    .fetch_one(&notifications.db.pool)
                    .await
                    .ok()?;
            (handled == 1).then_some(())
        },
    )
    .await;
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM mails WHERE recipient = $1")
        .bind(&address)
        .fetch_one(&notifications.db.pool)
        .await
        .expect("count");
    assert_eq!(queued, 2);
    let subjects: Vec<&str> = mails.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert!(subjects[0].ends_with("the fee is awaited"), "{subjects:?}");
    assert!(subjects[1].starts_with("Fee received"), "{subjects:?}");
}

/// Serves `bytes` from a local server for as long as the test runs; its URL.
async fn serve(bytes: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new().route(
        "/file.pdf",
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { bytes }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/file.pdf")
}

/// Queues one certificate mail whose attachment is announced as `announced` (fetched from `url`)
/// and tries to send it once, with attachments allowed from `prefixes`; the mail's row after.
async fn send_with_attachment(
    url: String,
    announced_sha256: String,
    prefixes: &str,
) -> (
    Option<chrono::DateTime<Utc>>,
    Option<chrono::DateTime<Utc>>,
    Option<String>,
    String,
) {
    let address = format!("attach-{}@example.com", Uuid::now_v7().simple());
    let db = queued(0, &address).await;
    let announced = kutse_notifications::domain::Attachment {
        url,
        sha256: announced_sha256,
        filename: "KT-2026-000001.pdf".into(),
        content_type: "application/pdf".into(),
    };
    let mut conn = db.pool.acquire().await.expect("connection");
    kutse_notifications::db::mails::queue(
        &mut conn,
        &kutse_notifications::db::mails::NewMail {
            cause: Uuid::now_v7(),
            kind: "certificate_issued",
            recipient: &address,
            mail: &kutse_notifications::templates::Rendered {
                subject: "Kutsetunnistus".into(),
                text: "Tere".into(),
                html: "<p>Tere</p>".into(),
            },
            attachment: Some(&announced),
            application_id: None,
        },
    )
    .await
    .expect("queued");
    drop(conn);
    let sent = kutse_notifications::sender::send_next(
        &db.pool,
        &mailer(&[("ATTACHMENT_URL_PREFIXES", prefixes)]),
    )
    .await
    .expect("a send attempt");
    assert!(sent, "the mail was tried");
    let (sent_at, given_up_at, error) =
        sqlx::query_as("SELECT sent_at, given_up_at, last_error FROM mails")
            .fetch_one(&db.pool)
            .await
            .expect("mail");
    (sent_at, given_up_at, error, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_whose_digest_differs_from_its_announcement_is_never_sent() {
    let url = serve(b"%PDF-1.7 swapped on the way".to_vec()).await;
    let (sent_at, given_up_at, error, address) = send_with_attachment(
        url,
        hex::encode(Sha256::digest(b"%PDF-1.7 the real certificate")),
        "http://127.0.0.1:",
    )
    .await;
    assert!(
        sent_at.is_none(),
        "a mail with a swapped attachment was sent"
    );
    assert!(given_up_at.is_some(), "a swapped attachment is not retried");
    let error = error.expect("the reason is kept");
    assert!(error.contains("SHA-256"), "{error}");
    assert!(inbox(&address).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_named_outside_the_allowed_places_is_never_fetched() {
    let pdf = b"%PDF-1.7 elsewhere".to_vec();
    let url = serve(pdf.clone()).await;
    let (sent_at, given_up_at, error, _) = send_with_attachment(
        url,
        hex::encode(Sha256::digest(&pdf)),
        "http://127.0.0.1:8333/",
    )
    .await;
    assert!(sent_at.is_none() && given_up_at.is_some());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("ATTACHMENT_URL_PREFIXES")),
        "{error:?}"
    );
}

/// A notifications database with `n` mails queued to `recipient`.
async fn queued(n: usize, recipient: &str) -> kutse_testkit::TestDb {
    let db = kutse_testkit::TestDb::new().await.expect("database");
    kutse_notifications::MIGRATOR
        .run(&db.pool)
        .await
        .expect("migrations");
    // A sent mail is counted (DVVK) through the outbox.
    kutse_messaging::migrate(&db.pool)
        .await
        .expect("messaging schema");
    for i in 0..n {
        sqlx::query(
            "INSERT INTO mails (id, cause_id, kind, recipient, subject, body)
             VALUES ($1, $2, 'receipt', $3, $4, 'Tere')",
        )
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .bind(recipient)
        .bind(format!("Kiri {i}"))
        .execute(&db.pool)
        .await
        .expect("queued");
    }
    db
}

fn mailer(settings: &[(&str, &str)]) -> kutse_notifications::mail::Mailer {
    let vars = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let config =
        kutse_notifications::mail::SmtpConfig::from_env(&mut kutse_config::Env::from_map(vars));
    kutse_notifications::mail::Mailer::new(&config).expect("mailer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_dies_in_the_middle_repeats_at_most_the_one_mail_it_was_sending() {
    let address = format!("crash-{}@example.com", Uuid::now_v7().simple());
    let db = queued(5, &address).await;
    let mailer = mailer(&[]);
    // The sender dies (its task dropped, as a killed process) as soon as the first mail arrived.
    let sender = tokio::spawn(kutse_notifications::sender::run(
        db.pool.clone(),
        mailer.clone(),
        tokio_util::sync::CancellationToken::new(),
    ));
    eventually(
        Duration::from_secs(20),
        "the first mail delivered",
        || async { (!inbox(&address).await.is_empty()).then_some(()) },
    )
    .await;
    sender.abort();
    let _ = sender.await;
    // A new sender (a new process: its own connections) finishes the rest.
    drop(mailer);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let again = tokio::spawn(kutse_notifications::sender::run(
        db.pool.clone(),
        self::mailer(&[]),
        shutdown.clone(),
    ));
    eventually(
        Duration::from_secs(60),
        "every mail marked sent",
        || async {
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM mails WHERE sent_at IS NULL")
                .fetch_one(&db.pool)
                .await
                .expect("count");
            (left == 0).then_some(())
        },
    )
    .await;
    shutdown.cancel();
    again.await.expect("joined").expect("sender");
    let delivered = inbox(&address).await.len();
    assert!(
        (5..=6).contains(&delivered),
        "{delivered} mails delivered for 5 queued"
    );
    // Repeats carry the same Message-ID, so a mail client can collapse them.
    let ids: std::collections::BTreeSet<String> = inbox(&address)
        .await
        .iter()
        .filter_map(|m| m["headers"]["message-id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_that_can_never_be_delivered_is_parked_with_its_reason_not_retried() {
    let db = queued(1, "not an address").await;
    let sent = kutse_notifications::sender::send_next(&db.pool, &mailer(&[]))
        .await
        .expect("send");
    assert!(sent);
    let (given_up, error): (bool, Option<String>) =
        sqlx::query_as("SELECT given_up_at IS NOT NULL, last_error FROM mails")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert!(given_up);
    assert!(error.is_some_and(|e| !e.is_empty()));
    // Nothing is due any more.
    assert!(
        !kutse_notifications::sender::send_next(&db.pool, &mailer(&[]))
            .await
            .expect("send")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_stops_in_time_while_its_mail_server_hangs() {
    // A mail server that accepts connections and never says a word.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = black_hole.local_addr().expect("addr").port().to_string();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    let harness = Harness::new().expect("harness");
    let notifications = harness
        .start_with("notifications", &[("SMTP_PORT", &port)])
        .await
        .expect("notifications");
    let submitted = Envelope::new(&submission(Uuid::now_v7(), "hang@example.com", "et"), None)
        .expect("envelope");
    // Published once the service has declared its queue (its readiness says no: the mail server
    // does not answer).
    harness.wait_for_queue("notifications").await;
    // ...and is connected to the broker (its readiness lists the broker's check as passing).
    let http = reqwest::Client::new();
    eventually(
        Duration::from_secs(30),
        "notifications on the broker",
        || async {
            let report: serde_json::Value = http
                .get(format!("{}/readyz", notifications.url))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            report["checks"]
                .as_array()?
                .iter()
                .any(|c| c["name"] == "broker" && c["ok"] == true)
                .then_some(())
        },
    )
    .await;
    harness.publish(&submitted).await.expect("published");
    eventually(
        Duration::from_secs(30),
        "the sender stuck at the mail server",
        || async { (connections.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(()) },
    )
    .await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(20), notifications.stop())
        .await
        .expect("stopped")
        .expect("stopped cleanly");
    // The harness gives services a 2 s grace period; the mail server's own timeout is 10 s.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A TCP relay to maildev that counts the SMTP sessions opened through it and can cut them all.
struct CountingRelay {
    port: u16,
    sessions: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl CountingRelay {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let sessions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counted, kept) = (sessions.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:1025").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                kept.lock().expect("lock").push(relay);
            }
        });
        Self {
            port,
            sessions,
            open,
        }
    }

    fn sessions(&self) -> usize {
        self.sessions.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops every open session, as a mail server that closes idle connections does.
    fn cut(&self) {
        for relay in self.open.lock().expect("lock").drain(..) {
            relay.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_over_one_smtp_session_kept_open_and_a_dropped_session_is_opened_again() {
    let relay = CountingRelay::start().await;
    let address = format!("session-{}@example.com", Uuid::now_v7().simple());
    let db = queued(20, &address).await;
    let port = relay.port.to_string();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let sender = tokio::spawn(kutse_notifications::sender::run(
        db.pool.clone(),
        mailer(&[("SMTP_PORT", &port)]),
        shutdown.clone(),
    ));
    let unsent = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM mails WHERE sent_at IS NULL")
            .fetch_one(&db.pool)
            .await
            .expect("count")
    };
    eventually(Duration::from_secs(30), "twenty mails sent", || async {
        (unsent().await == 0).then_some(())
    })
    .await;
    assert_eq!(relay.sessions(), 1, "twenty mails, one session");

    // The server drops the session; the next mails open a new one, and none is lost.
    relay.cut();
    for i in 0..3 {
        sqlx::query(
            "INSERT INTO mails (id, cause_id, kind, recipient, subject, body)
             VALUES ($1, $2, 'receipt', $3, $4, 'Tere')",
        )
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .bind(&address)
        .bind(format!("Hiljem {i}"))
        .execute(&db.pool)
        .await
        .expect("queued");
    }
    eventually(Duration::from_secs(30), "the later mails sent", || async {
        (unsent().await == 0).then_some(())
    })
    .await;
    assert_eq!(relay.sessions(), 2, "one new session after the cut");
    // Reopened at once, not after a failed attempt and its retry delay.
    let retried: i64 = sqlx::query_scalar("SELECT count(*) FROM mails WHERE attempts > 1")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(retried, 0);
    shutdown.cancel();
    sender.await.expect("joined").expect("sender");
    eventually(Duration::from_secs(10), "all 23 in the inbox", || async {
        (inbox(&address).await.len() == 23).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queueing_a_mail_notifies_the_sender_instead_of_waiting_for_its_poll() {
    let db = queued(0, "nobody@example.com").await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .expect("listener");
    listener.listen("kutse_mail_queued").await.expect("listen");
    sqlx::query(
        "INSERT INTO mails (id, cause_id, kind, recipient, subject, body)
         VALUES ($1, $2, 'receipt', 'someone@example.com', 'Tere', 'Tere')",
    )
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .execute(&db.pool)
    .await
    .expect("queued");
    let notification = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("a notification within 10 s")
        .expect("notification");
    assert_eq!(notification.channel(), "kutse_mail_queued");
}
