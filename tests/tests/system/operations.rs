//! What an operator watches and mends: every service's `/metrics` after a whole application's
//! journey, and a forged message parked and counted; parked messages listed, replayed once what
//! they waited for arrived, a forgery refused and purged (`kutse-ops`).

use kutse_messaging::Envelope;
use kutse_messaging::catalogue::NoticeSent;
use kutse_testkit::eventually;
use uuid::Uuid;

use kutse_operator::parked::{Action, Parking};
use kutse_protocol::Outcome;

use super::certificates::Register;
use super::flow::{Flow, WAIT, run_flow};

/// The value of the series `name` whose labels include every one of `labels`.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            (series_name == name
                && labels
                    .iter()
                    .all(|(k, v)| series_labels.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse().ok())?
        })
}

async fn scrape(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_reports_its_requests_messages_queues_and_outbox_in_metrics() {
    let Flow { s, .. } = run_flow(true).await;
    let prefix = s.harness.prefix.clone();
    // A path no route matches is counted under one series, whatever was typed.
    let missing = s
        .http
        .get(format!("{}/no/such/{}", s.intake.url, Uuid::now_v7()))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);

    for running in [
        &s.intake,
        &s.documents,
        &s.assessment,
        &s.committee,
        &s.certificates,
        &s.notifications,
    ] {
        let service = running.name;
        let text = scrape(&s.http, &running.url).await;
        let own = [("service", service)];
        assert_eq!(
            metric(&text, "kutse_broker_connected", &own),
            Some(1.0),
            "{service}"
        );
        let pending = metric(&text, "kutse_outbox_pending", &own)
            .unwrap_or_else(|| panic!("{service}: no outbox figure in\n{text}"));
        assert!(pending >= 0.0);
        assert!(
            metric(&text, "kutse_outbox_oldest_pending_age_seconds", &own).is_some(),
            "{service}"
        );
        let queue = format!("{prefix}.{service}");
        let parked = format!("{prefix}.{service}.parked");
        assert!(
            metric(&text, "kutse_queue_depth", &[("queue", &queue)]).is_some(),
            "{service}: no depth of {queue}"
        );
        assert_eq!(
            metric(&text, "kutse_parked_queue_depth", &[("queue", &parked)]),
            Some(0.0),
            "{service}"
        );
        assert!(
            metric(
                &text,
                "kutse_messages_consumed_total",
                &[("service", service), ("outcome", "handled")]
            )
            .is_some_and(|n| n >= 1.0),
            "{service} handled nothing?\n{text}"
        );
    }

    let intake = scrape(&s.http, &s.intake.url).await;
    let created = [
        ("route", "/applications"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(
        metric(&intake, "kutse_http_requests_total", &created),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &intake,
            "kutse_http_request_duration_seconds_count",
            &[("route", "/applications"), ("method", "POST")]
        ),
        Some(1.0)
    );
    // The application's own page, by its template, not by its id.
    assert!(
        metric(
            &intake,
            "kutse_http_requests_total",
            &[("route", "/applications/{id}"), ("method", "GET")]
        )
        .is_some_and(|n| n >= 1.0),
        "{intake}"
    );
    assert_eq!(
        metric(
            &intake,
            "kutse_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert!(
        !intake.contains("/no/such/"),
        "a typed path became a series"
    );

    let certificates = scrape(&s.http, &s.certificates.url).await;
    let issued = metric(&certificates, "kutse_issuance_latency_seconds_count", &[])
        .expect("issuance latency");
    assert_eq!(issued, 1.0, "one protocol issued certificates");
    let notifications = scrape(&s.http, &s.notifications.url).await;
    assert!(
        metric(&notifications, "kutse_emails_total", &[("outcome", "sent")])
            .is_some_and(|n| n >= 1.0),
        "{notifications}"
    );

    // A forged message (its type is not the routing key it came under) is parked and counted.
    let application = Uuid::now_v7();
    let forged = Envelope::new(
        &NoticeSent {
            cause_id: Uuid::now_v7(),
            application_id: application,
            kind: "decision".to_owned(),
            sent_at: chrono::Utc::now(),
        },
        Some(application),
    )
    .expect("envelope");
    let connection = kutse_testkit::broker().await.expect("broker");
    s.harness
        .publish_on(&connection, &forged, "document.stored")
        .await
        .expect("published");
    let parked = format!("{prefix}.intake.parked");
    eventually(WAIT, "the forgery parked and counted", || async {
        let text = scrape(&s.http, &s.intake.url).await;
        let depth = metric(&text, "kutse_parked_queue_depth", &[("queue", &parked)])?;
        let counted = metric(
            &text,
            "kutse_messages_consumed_total",
            &[("outcome", "parked")],
        )?;
        (depth == 1.0 && counted == 1.0).then_some(())
    })
    .await;
}

/// Two messages parked in the register's (certificates') parking queue: a protocol that
/// arrived before its application's facts (retried, then parked: exhausted), and a submission
/// forged under the routing key a pipeline may use (parked unread: misrouted).
struct Parked {
    /// The protocol's application.
    application: Uuid,
    protocol: Envelope,
    forged: Envelope,
    parking: Parking,
}

impl Parked {
    async fn in_(register: &Register) -> Self {
        let application = Uuid::now_v7();
        let protocol = register
            .sign_and_publish(&register.protocol(vec![(application, Outcome::Award)]))
            .await;
        let (submitted, _) = register.facts(application, true);
        let forged = Envelope::new(&submitted, Some(application)).expect("envelope");
        let connection = kutse_testkit::broker().await.expect("broker");
        register
            .harness
            .publish_on(&connection, &forged, "protocol.signed")
            .await
            .expect("published");
        let parking = Parking::open(
            &kutse_testkit::amqp_url(),
            &register.harness.prefix,
            "certificates",
        )
        .await
        .expect("open");
        eventually(WAIT, "both parked", || async {
            (parking.count().await.ok()? == 2).then_some(())
        })
        .await;
        Self {
            application,
            protocol,
            forged,
            parking,
        }
    }

    /// `application`'s facts reach the register, so that the protocol can now be handled.
    async fn facts_arrive(register: &Register, application: Uuid) {
        let (submitted, decided) = register.facts(application, true);
        for event in [
            Envelope::new(&submitted, Some(application)).expect("e"),
            Envelope::new(&decided, Some(application)).expect("e"),
        ] {
            register.harness.publish(&event).await.expect("publish");
        }
        eventually(WAIT, "the facts recorded", || async {
            (register
                .count(
                    "SELECT count(*) FROM messaging.inbox WHERE message_type <> 'protocol.signed'",
                )
                .await
                >= 2)
                .then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_messages_are_listed_without_loss_replayed_when_they_can_succeed_and_forgeries_only_purged()
 {
    let register = Register::new().await;
    let Parked {
        application,
        protocol,
        forged,
        parking,
    } = Parked::in_(&register).await;

    // Listing takes nothing away, however often.
    for _ in 0..3 {
        let walked = parking
            .walk(|_| Action::Keep, |_, _, _, _| {})
            .await
            .expect("list");
        assert_eq!(walked.kept.len(), 2);
        assert!(walked.replayed.is_empty() && walked.purged.is_empty());
    }
    assert_eq!(parking.count().await.expect("count"), 2);
    let listed = parking
        .walk(|_| Action::Keep, |_, _, _, _| {})
        .await
        .expect("list")
        .kept;
    let exhausted = listed
        .iter()
        .find(|m| m.message_id.as_deref() == Some(protocol.id.to_string().as_str()))
        .expect("the protocol is listed by its id");
    assert_eq!(exhausted.reason, "exhausted");
    assert_eq!(exhausted.routing_key.as_deref(), Some("protocol.signed"));
    assert_eq!(exhausted.message_type.as_deref(), Some("protocol.signed"));
    assert!(
        exhausted
            .error
            .as_deref()
            .is_some_and(|e| e.contains("have not arrived yet")),
        "{:?}",
        exhausted.error
    );
    assert!(exhausted.refusal().is_none());
    let forgery = listed
        .iter()
        .find(|m| m.message_id.as_deref() == Some(forged.id.to_string().as_str()))
        .expect("the forgery is listed by its id");
    assert_eq!(forgery.reason, "misrouted");
    assert!(
        forgery
            .refusal()
            .is_some_and(|why| why.contains("never replayed")),
        "{:?}",
        forgery.refusal()
    );
    assert!(forgery.body_text().contains("application.submitted"));

    // Nothing issued yet; the facts arrive; everything is replayed: the forgery is refused and
    // stays, the protocol is handled and its certificate issued.
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 0);
    Parked::facts_arrive(&register, application).await;
    let mut progress = Vec::new();
    let replayed = parking
        .walk(
            |_| Action::Replay,
            |position, total, action, _| progress.push((position, total, action)),
        )
        .await
        .expect("replay");
    // Progress is told of each message, in order, with the total.
    assert_eq!(
        progress
            .iter()
            .map(|(p, t, _)| (*p, *t))
            .collect::<Vec<_>>(),
        vec![(1, 2), (2, 2)]
    );
    let mut actions: Vec<_> = progress.iter().map(|(_, _, a)| format!("{a:?}")).collect();
    actions.sort();
    assert_eq!(actions, ["Keep", "Replay"]);
    assert_eq!(replayed.replayed.len(), 1, "the protocol replayed");
    assert_eq!(replayed.kept.len(), 1, "the forgery refused");
    assert_eq!(replayed.kept[0].reason, "misrouted");
    eventually(WAIT, "the replayed protocol's certificate", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
    assert_eq!(parking.count().await.expect("count"), 1);

    // The forgery is purged by its id; nothing else is touched.
    let forged_id = forged.id.to_string();
    let purged = parking
        .walk(
            |m| {
                if m.message_id.as_deref() == Some(forged_id.as_str()) {
                    Action::Purge
                } else {
                    Action::Keep
                }
            },
            |_, _, _, _| {},
        )
        .await
        .expect("purge");
    assert_eq!(purged.purged.len(), 1);
    assert_eq!(parking.count().await.expect("count"), 0);
    parking.close().await;
}

/// What one run of `kutse-ops` printed, and whether it succeeded.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs the operator's tool on `service`'s parking queue of this test's topology.
fn kutse_ops(prefix: &str, service: &str, args: &[&str]) -> Ran {
    let output = std::process::Command::new(kutse_tests::built_binary("kutse-ops"))
        .args(["--service", service, "--prefix", prefix])
        .args(args)
        .env("AMQP_URL", kutse_testkit::amqp_url())
        .output()
        .expect("kutse-ops runs");
    Ran {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_tool_lists_shows_replays_and_purges_what_is_parked_and_never_replays_a_forgery()
 {
    let register = Register::new().await;
    let harness = &register.harness;
    let prefix = harness.prefix.clone();
    let on = move |service: &'static str, args: &[&str]| {
        let (prefix, args) = (
            prefix.clone(),
            args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(),
        );
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                kutse_ops(&prefix, service, &args)
            })
            .await
            .expect("joined")
        }
    };
    let ops = |args: &[&str]| on("certificates", args);

    // Its help names the services it opens, and the reasons it knows.
    let general = ops(&["--help"]).await;
    assert!(general.ok, "{}", general.stderr);
    for service in ["documents", "certificates", "notifications"] {
        assert!(general.stdout.contains(service), "{}", general.stdout);
    }
    let help = ops(&["replay", "--help"]).await;
    assert!(help.ok, "{}", help.stderr);
    for reason in [
        "rejected",
        "exhausted",
        "delivery_limit",
        "misrouted",
        "malformed",
    ] {
        assert!(help.stdout.contains(reason), "{}", help.stdout);
    }
    let wrong = on("nobody", &["list"]).await;
    assert!(!wrong.ok);
    assert!(
        wrong.stderr.contains("certificates") && wrong.stderr.contains("notifications"),
        "an unknown service is answered with the valid ones: {}",
        wrong.stderr
    );

    // A protocol that arrives before its application's facts (parked, exhausted), and a
    // submission forged under protocol.signed's routing key (parked unread, misrouted).
    let Parked {
        application,
        protocol,
        forged,
        parking,
    } = Parked::in_(&register).await;
    let (protocol_id, forged_id) = (protocol.id.to_string(), forged.id.to_string());

    // `list`: a line each, with its reason; `--json`, an object each; nothing taken away.
    let listed = ops(&["list"]).await;
    assert!(listed.ok, "{}", listed.stderr);
    let line_of = |id: &str| {
        listed
            .stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} listed: {}", listed.stdout))
            .to_owned()
    };
    assert!(line_of(&protocol_id).contains("protocol.signed  exhausted"));
    assert!(line_of(&forged_id).contains("misrouted"));
    assert!(listed.stderr.contains("2 parked"), "{}", listed.stderr);
    let as_json = ops(&["list", "--json"]).await;
    let objects: Vec<serde_json::Value> = as_json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 2);
    let forgery = objects
        .iter()
        .find(|o| o["message_id"] == forged_id.as_str())
        .expect("the forgery");
    assert_eq!(forgery["replayable"], false);
    assert_eq!(parking.count().await.expect("count"), 2);

    // `show`: the forgery whole, with why it is never replayed; an id not parked is an error.
    let shown = ops(&["show", &forged_id]).await;
    assert!(shown.ok, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("reason:       misrouted"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("replayable:   no"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("application.submitted"),
        "{}",
        shown.stdout
    );
    let missing = ops(&["show", &Uuid::now_v7().to_string()]).await;
    assert!(
        !missing.ok && missing.stderr.contains("no message"),
        "{}",
        missing.stderr
    );

    // The facts arrive; `replay --all` replays the protocol and refuses the forgery, telling of
    // each in turn, and fails because one was refused.
    Parked::facts_arrive(&register, application).await;
    let replayed = ops(&["replay", "--all"]).await;
    assert!(!replayed.ok, "a refused replay fails: {}", replayed.stderr);
    assert!(replayed.stderr.contains("[1/2]") && replayed.stderr.contains("[2/2]"));
    assert!(
        replayed.stderr.contains("1 replayed") && replayed.stderr.contains("1 refused"),
        "{}",
        replayed.stderr
    );
    eventually(WAIT, "the replayed protocol's certificate", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
    assert_eq!(parking.count().await.expect("count"), 1);

    // Purging needs --yes; then the forgery goes by its id.
    let unsure = ops(&["purge", "--all"]).await;
    assert!(
        !unsure.ok && unsure.stderr.contains("--yes"),
        "{}",
        unsure.stderr
    );
    assert_eq!(parking.count().await.expect("count"), 1);
    let purged = ops(&["purge", &forged_id, "--yes"]).await;
    assert!(purged.ok, "{}", purged.stderr);
    assert!(
        purged.stderr.contains("1 purged, 0 left parked"),
        "{}",
        purged.stderr
    );
    assert_eq!(parking.count().await.expect("count"), 0);
    parking.close().await;
}
