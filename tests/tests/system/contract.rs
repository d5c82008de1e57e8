//! Every service's API against its own OpenAPI document, driven by an implementation we did not
//! write: schemathesis (PyPI; `make stack` installs it into `.local/contract`) generates requests
//! from each document, valid and invalid, and checks that no answer is a 5xx and that every
//! answer's status, media type and body are what the document says.

use std::process::Command;

use kutse_auth::Role;
use serde_json::Value;
use uuid::Uuid;

use kutse_tests::Harness;

/// Examples per operation and phase: enough to reach every branch of input validation the
/// schema implies, few enough to keep the whole run near a minute.
const EXAMPLES: &str = "12";

fn schemathesis() -> std::path::PathBuf {
    kutse_tests::outside::root().join(".local/contract/bin/schemathesis")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_as_its_openapi_document_says_and_never_with_a_5xx() {
    let harness = Harness::new().expect("harness");
    let mut services = Vec::new();
    for name in kutse_tests::SERVICES {
        // An upload for an application nobody created is answered at once, not after the wait
        // for one created a moment ago (which would make every generated upload take 3 s).
        let settings: &[(&str, &str)] = match name {
            "documents" => &[("DOCUMENT_ARRIVAL_WAIT_MS", "0")],
            _ => &[],
        };
        services.push(harness.start_with(name, settings).await.expect(name));
    }
    let http = reqwest::Client::new();
    let body = Uuid::now_v7();
    // One caller holding every role, acting for a body: the operations' own checks are what is
    // exercised, not only their 401s and 403s.
    let token = harness.token_for(
        "EE38001085718",
        &[
            Role::Applicant,
            Role::BodyAdministrator,
            Role::AwardingBodyStaff,
            Role::Assessor,
            Role::CommitteeMember,
            Role::CommitteeChair,
            Role::Authority,
        ],
        Some(body),
    );
    // Reports (JUnit, one file per service) and schemathesis' own cache stay out of the tree.
    let reports = kutse_tests::outside::artefacts().join("contract");
    std::fs::create_dir_all(&reports).expect("reports directory");
    let mut failed = Vec::new();
    for running in &services {
        let document: Value = http
            .get(format!("{}/openapi.json", running.url))
            .send()
            .await
            .expect("GET /openapi.json")
            .json()
            .await
            .expect("a JSON document");
        assert_eq!(document["openapi"], "3.1.0", "{}", running.name);
        assert!(
            document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer",
            "{}: no bearer scheme",
            running.name
        );
        assert!(
            document["components"]["schemas"]["Problem"].is_object(),
            "{}: no Problem schema",
            running.name
        );
        if document["paths"]
            .as_object()
            .is_none_or(|paths| paths.is_empty())
        {
            // notifications has no API of its own: its document says so, and that is all.
            assert_eq!(
                running.name, "notifications",
                "{}: no operations",
                running.name
            );
            continue;
        }
        let url = running.url.clone();
        let token = token.clone();
        let junit = reports.join(format!("{}.xml", running.name));
        let dir = reports.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(schemathesis())
                .current_dir(dir)
                .args([
                    "run",
                    &format!("{url}/openapi.json"),
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                    "--max-examples",
                    EXAMPLES,
                    "--seed",
                    "20261204",
                    "--phases",
                    "examples,coverage,fuzzing",
                    // One worker: Python 3.11's `ast` is not thread-safe (CPython gh-106905), and
                    // Hypothesis parses lambdas while describing strategies; with two threads
                    // it fails now and then with "AST constructor recursion depth mismatch".
                    "--workers",
                    "1",
                    "--request-timeout",
                    "10",
                    "--suppress-health-check",
                    "all",
                    "--no-color",
                    "--report",
                    "junit",
                    "--report-junit-path",
                    junit.to_str().expect("utf-8 path"),
                    "-H",
                    &format!("Authorization: Bearer {token}"),
                ])
                .output()
        })
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("{}: {e} (run `make stack` to install it)", schemathesis().display()));
        if !output.status.success() {
            failed.push(format!(
                "{}:\n{}\n{}",
                running.name,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Checks `body` against `schema` (a schema of `spec`, its `$ref`s resolved in `spec`) with
/// `jsonschema_rs`, the validator schemathesis itself uses; the errors, if any.
fn schema_errors(spec: &Value, schema: &Value, body: &Value) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("kutse-schema-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut root = schema.clone();
    root["components"] = spec["components"].clone();
    std::fs::write(dir.join("schema.json"), root.to_string()).expect("schema");
    std::fs::write(dir.join("body.json"), body.to_string()).expect("body");
    let output = Command::new(kutse_tests::outside::root().join(".local/contract/bin/python"))
        .args([
            "-c",
            "import json, sys\n\
             from jsonschema_rs import Draft202012Validator\n\
             schema = json.load(open(sys.argv[1])); body = json.load(open(sys.argv[2]))\n\
             for e in Draft202012Validator(schema).iter_errors(body):\n\
             \x20   print(f'{list(e.instance_path)}: {e.message}')\n",
        ])
        .arg(dir.join("schema.json"))
        .arg(dir.join("body.json"))
        .output()
        .expect("the contract tools' Python (run `make stack` to install it)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Generated requests seldom get past input validation, so the answers of a real application's
/// journey are checked against the documents as well: each body against the schema its
/// operation names for its status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answers_of_a_whole_application_are_as_documented() {
    let flow = super::flow::run_flow(true).await;
    let s = &flow.s;
    let mari = s
        .login(super::flow::MARI, ("Mari", "Maasikas"), None, None)
        .await;
    let intake = &s.intake.url;
    let register = &s.certificates.url;
    let (_, application) = kutse_tests::call(
        &s.http,
        "GET",
        &format!("{intake}/applications/{}", flow.id),
        &mari,
        None,
        None,
    )
    .await;
    let number = application["history"]
        .as_array()
        .and_then(|h| {
            h.iter()
                .rev()
                .find_map(|e| e["detail"]["register_number"].as_str())
        })
        .expect("the certificate's number in the history")
        .to_owned();
    let post =
        serde_json::json!({ "delivery_option": "post", "address": "Tartu mnt 1, 10115 Tallinn" });
    let body = flow.body_id;
    let calls = [
        (
            intake,
            "get",
            format!("/applications/{}", flow.id),
            "/applications/{id}",
            &flow.staff,
            None,
        ),
        (
            intake,
            "get",
            "/me/applications".to_owned(),
            "/me/applications",
            &mari,
            None,
        ),
        (
            intake,
            "post",
            format!("/applications/{}/print-orders", flow.id),
            "/applications/{id}/print-orders",
            &mari,
            Some(post),
        ),
        (
            intake,
            "get",
            format!("/desk/print-queue?awarding_body_id={body}"),
            "/desk/print-queue",
            &flow.staff,
            None,
        ),
        (
            intake,
            "get",
            "/me/questions".to_owned(),
            "/me/questions",
            &mari,
            None,
        ),
        (
            intake,
            "get",
            format!("/desk/applications?awarding_body_id={body}"),
            "/desk/applications",
            &flow.staff,
            None,
        ),
        (
            register,
            "put",
            format!("/certificates/{number}/publication"),
            "/certificates/{number}/publication",
            &mari,
            Some(serde_json::json!({ "published": true })),
        ),
        (
            register,
            "get",
            "/status".to_owned(),
            "/status",
            &mari,
            None,
        ),
    ];
    let mut specs: std::collections::HashMap<&str, Value> = std::collections::HashMap::new();
    for base in [intake, register] {
        let spec = s
            .http
            .get(format!("{base}/openapi.json"))
            .send()
            .await
            .expect("openapi.json")
            .json()
            .await
            .expect("JSON");
        specs.insert(base.as_str(), spec);
    }
    let mut failures = Vec::new();
    for (base, method, path, template, token, body) in calls {
        let (status, answer) = kutse_tests::call(
            &s.http,
            &method.to_uppercase(),
            &format!("{base}{path}"),
            token,
            body.map(|b| b.to_string()).as_deref(),
            None,
        )
        .await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        let spec = &specs[base.as_str()];
        let schema = &spec["paths"][template][method]["responses"][status.to_string()]["content"]["application/json"]
            ["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} documents no {status} body"
        );
        assert_ne!(
            schema.get("$ref").and_then(Value::as_str),
            Some("#/components/schemas/AnyJson"),
            "{method} {template}: documented as any JSON"
        );
        for error in schema_errors(spec, schema, &answer) {
            failures.push(format!("{method} {path}: {error}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
