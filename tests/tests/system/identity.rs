//! Who is who: TARA logins exchanged for Kutse access tokens at intake, roles held in the
//! register, machine clients — and every refusal the issue names: a person acting for a body
//! they were removed from, a token from another issuer, a TARA token used directly as an API
//! token, an expired exchange.

use std::time::Duration;

use kutse_auth::access::Grant;
use kutse_auth::dev::{DEV_TARA_CLIENT_ID, DevTara, TaraLogin};
use kutse_testkit::eventually;
use kutse_tests::{AUTHORITY_CODE, Harness, Running, call, exchange};
use serde_json::{Value, json};
use uuid::Uuid;

const ADMIN: &str = "48704147433";
const STAFF: &str = "36805280109";
const OTHER: &str = "47004122368";

/// Intake (the token endpoint and the registry), with one awarding body and its administrator.
struct Registry {
    intake: Running,
    http: reqwest::Client,
    body: Uuid,
    authority: String,
    admin: String,
    harness: Harness,
}

impl Registry {
    async fn start(settings: &[(&str, &str)]) -> Self {
        let harness = Harness::new().expect("harness");
        let intake = harness
            .start_with("intake", settings)
            .await
            .expect("intake");
        let http = reqwest::Client::new();
        let authority = harness
            .login(
                &http,
                &intake.url,
                &TaraLogin::new(AUTHORITY_CODE, "Kati", "Kutsekoda"),
                None,
            )
            .await;
        let (status, body) = call(
            &http,
            "POST",
            &format!("{}/awarding-bodies", intake.url),
            &authority,
            Some(&json!({ "name": "Eesti Juuksurite Ühendus" }).to_string()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let body: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        let mut registry = Self {
            intake,
            http,
            body,
            authority,
            admin: String::new(),
            harness,
        };
        let (status, appointed) = registry
            .appoint(&registry.authority.clone(), ADMIN, "body_administrator")
            .await;
        assert_eq!(status, 201, "{appointed}");
        registry.admin = registry.login(ADMIN, Some(body)).await;
        registry
    }

    async fn login(&self, code: &str, body: Option<Uuid>) -> String {
        self.harness
            .login(
                &self.http,
                &self.intake.url,
                &TaraLogin::new(code, "Eesnimi", "Perenimi"),
                body,
            )
            .await
    }

    async fn exchange(&self, id_token: &str, body: Option<Uuid>) -> (u16, Value) {
        exchange(&self.http, &self.intake.url, id_token, body).await
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(
            &self.http,
            method,
            &format!("{}{path}", self.intake.url),
            token,
            body.map(|b| b.to_string()).as_deref(),
            None,
        )
        .await
    }

    async fn appoint(&self, by: &str, code: &str, role: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/awarding-bodies/{}/appointments", self.body),
            by,
            Some(json!({ "personal_code": code, "role": role, "reason": "the board's decision of 3 March" })),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tara_login_becomes_a_short_access_token_with_the_roles_held_now_for_one_body() {
    let r = Registry::start(&[]).await;
    let (status, appointed) = r.appoint(&r.admin, STAFF, "awarding_body_staff").await;
    assert_eq!(status, 201, "{appointed}");
    assert_eq!(
        appointed["appointed_by"],
        format!("body_administrator:{ADMIN}")
    );
    assert_eq!(appointed["in_force"], true);

    let id_token = r.harness.id_token(STAFF, "Siim", "Sekretär");
    let (status, issued) = r.exchange(&id_token, Some(r.body)).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["token_type"], "Bearer");
    assert_eq!(
        issued["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(issued["expires_in"], 300);
    assert_eq!(issued["scope"], format!("body:{}", r.body));
    let token = issued["access_token"].as_str().expect("token");
    let claims = payload(token);
    assert_eq!(claims["sub"], format!("EE{STAFF}"));
    assert_eq!(claims["client_id"], DEV_TARA_CLIENT_ID);
    assert_eq!(claims["roles"], json!(["awarding_body_staff"]));
    assert_eq!(claims["awarding_body_id"], r.body.to_string());
    assert_eq!(claims["given_name"], "Siim");
    assert_eq!(claims["amr"], json!(["mID"]));
    assert_eq!(claims["acr"], "high");
    assert!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat") <= 300);

    // The same ID token is exchanged once per scope: a replay is refused.
    let (status, replayed) = r.exchange(&id_token, Some(r.body)).await;
    assert_eq!(status, 400, "{replayed}");
    assert!(
        replayed["error_description"]
            .as_str()
            .expect("why")
            .contains("already exchanged")
    );

    // Without a body the same person is an applicant only; for a body where they hold nothing,
    // the exchange is refused.
    let (_, plain) = r
        .exchange(&r.harness.id_token(STAFF, "Siim", "Sekretär"), None)
        .await;
    assert_eq!(
        payload(plain["access_token"].as_str().expect("token"))["roles"],
        json!([])
    );
    let (status, refused) = r
        .exchange(
            &r.harness.id_token(STAFF, "Siim", "Sekretär"),
            Some(Uuid::now_v7()),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_scope");

    // The caller sees their own roles; the keys that sign are published.
    let (status, mine) = r.call("GET", "/me/appointments", token, None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine[0]["role"], "awarding_body_staff");
    let (status, jwks) = r.call("GET", "/oauth/jwks.json", "", None).await;
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    let (_, metadata) = r
        .call("GET", "/.well-known/oauth-authorization-server", "", None)
        .await;
    assert!(
        metadata["token_endpoint"]
            .as_str()
            .expect("endpoint")
            .ends_with("/oauth/token")
    );
}

/// The payload of a JWT, unverified (the test only reads what the token says).
fn payload(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64"),
    )
    .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_removed_from_a_body_loses_it_within_one_token_lifetime() {
    // Tokens live 2 s here, and the clock skew allowed is 1 s.
    let r = Registry::start(&[
        ("ACCESS_TOKEN_TTL_SECONDS", "2"),
        ("AUTH_LEEWAY_SECONDS", "1"),
    ])
    .await;
    let registry_path = format!("/awarding-bodies/{}/appointments", r.body);
    let (status, list) = r.call("GET", &registry_path, &r.admin, None).await;
    assert_eq!(status, 200, "{list}");
    let appointment = list[0]["id"].as_str().expect("id").to_owned();

    // The authority ends the administrator's appointment, with a reason.
    let authority = r.login(AUTHORITY_CODE, None).await;
    let (status, removed) = r
        .call(
            "POST",
            &format!("/appointments/{appointment}/removal"),
            &authority,
            Some(json!({ "reason": "left the body" })),
        )
        .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["in_force"], false);
    assert_eq!(removed["removed_by"], format!("authority:{AUTHORITY_CODE}"));
    assert_eq!(removed["removal_reason"], "left the body");

    // No new token for the body...
    let (status, refused) = r
        .exchange(&r.harness.id_token(ADMIN, "Anu", "Haldur"), Some(r.body))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_scope");
    // ...and the one already held stops working when it expires (2 s here).
    eventually(
        Duration::from_secs(15),
        "the removed administrator's token refused",
        || async {
            let (status, _) = r.call("GET", &registry_path, &r.admin, None).await;
            (status == 401).then_some(())
        },
    )
    .await;
    // The authority (with a fresh token: the first one expired too) sees the whole record.
    let authority = r.login(AUTHORITY_CODE, None).await;
    let (status, all) = r
        .call(
            "GET",
            &format!("/appointments?person={ADMIN}"),
            &authority,
            None,
        )
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all[0]["removal_reason"], "left the body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_elsewhere_tara_tokens_as_api_tokens_and_expired_ones_are_refused() {
    let r = Registry::start(&[]).await;
    let other_key = include_str!("../../fixtures/tara-stand-in-key.pem");

    // Another issuer, and a token for another portal (audience), with the stand-in's own key.
    for (issuer, client) in [
        ("https://evil.example", DEV_TARA_CLIENT_ID),
        (kutse_auth::dev::DEV_TARA_ISSUER, "someone-elses-portal"),
    ] {
        let stand_in = DevTara::from_pem(other_key)
            .expect("stand-in")
            .with_issuer(issuer, client);
        let token = stand_in
            .mint(&TaraLogin::new(STAFF, "Siim", "Sekretär"))
            .expect("token");
        let (status, refused) = r.exchange(&token, None).await;
        assert_eq!(status, 400, "{issuer} {client}: {refused}");
        assert_eq!(refused["error"], "invalid_grant");
        assert!(
            refused["error_description"]
                .as_str()
                .expect("why")
                .starts_with("subject_token:")
        );
    }
    // A Kutse access token is not an ID token either.
    let access = r.login(STAFF, None).await;
    let (status, refused) = r.exchange(&access, None).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("not accepted"), "{refused}");

    // A TARA ID token used directly as an API token.
    let id_token = r.harness.id_token(STAFF, "Siim", "Sekretär");
    let (status, problem) = r.call("GET", "/me/appointments", &id_token, None).await;
    assert_eq!(status, 401, "{problem}");
    assert!(problem.to_string().contains("not accepted"), "{problem}");

    // An expired exchange: an access token past its time, and a TARA login too old to exchange.
    let expired = r.harness.token(&Grant {
        subject: format!("EE{STAFF}"),
        client_id: DEV_TARA_CLIENT_ID.to_owned(),
        ttl_seconds: -120,
        ..Grant::default()
    });
    let (status, problem) = r.call("GET", "/me/appointments", &expired, None).await;
    assert_eq!(status, 401);
    assert!(
        problem.to_string().contains("ExpiredSignature"),
        "{problem}"
    );
    // A login whose token lives longer than TARA's do (an hour): refused however fresh.
    let mut long_lived = TaraLogin::new(STAFF, "Siim", "Sekretär");
    long_lived.issued_seconds_ago = 3_600;
    long_lived.ttl_seconds = 3_700;
    let (status, refused) = r
        .exchange(&r.harness.tara.mint(&long_lived).expect("token"), None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("valid for"), "{refused}");

    let mut expired_login = TaraLogin::new(STAFF, "Siim", "Sekretär");
    expired_login.issued_seconds_ago = 100;
    expired_login.ttl_seconds = 40;
    let (status, refused) = r
        .exchange(&r.harness.tara.mint(&expired_login).expect("token"), None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("ExpiredSignature"),
        "{refused}"
    );

    // A low level of assurance.
    let mut low = TaraLogin::new(STAFF, "Siim", "Sekretär");
    low.acr = "low".into();
    let (status, refused) = r
        .exchange(&r.harness.tara.mint(&low).expect("token"), None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error_description"]
            .as_str()
            .expect("why")
            .contains("assurance")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_keeps_its_rules_and_shows_personal_codes_only_to_those_who_administer_it() {
    let r = Registry::start(&[]).await;
    let path = format!("/awarding-bodies/{}/appointments", r.body);
    // Administrators appoint staff; the authority does not, nor does an administrator appoint
    // another administrator or themselves.
    let (status, problem) = r.appoint(&r.authority, STAFF, "awarding_body_staff").await;
    assert_eq!(status, 403);
    assert!(
        problem.to_string().contains("only an administrator"),
        "{problem}"
    );
    let (status, problem) = r.appoint(&r.admin, OTHER, "body_administrator").await;
    assert_eq!(status, 403);
    assert!(
        problem.to_string().contains("only the authority"),
        "{problem}"
    );

    let (status, problem) = r.appoint(&r.admin, ADMIN, "assessor").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "personal_code");
    // Bad input names every field at fault, and nothing is written.
    let (status, problem) = r
        .call(
            "POST",
            &path,
            &r.admin,
            Some(json!({ "personal_code": "38001085719", "role": "king", "reason": "" })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = kutse_tests::problem_fields(&problem);
    assert_eq!(fields, ["personal_code", "role", "reason"]);
    // One chair at a time.
    let (status, _) = r.appoint(&r.admin, STAFF, "committee_chair").await;
    assert_eq!(status, 201);
    let (status, problem) = r.appoint(&r.admin, OTHER, "committee_chair").await;
    assert_eq!(status, 409, "{problem}");
    let (_, list) = r.call("GET", &path, &r.admin, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");

    // A chair is a committee member too; staff of the body do not see its registry.
    let chair = r.login(STAFF, Some(r.body)).await;
    assert_eq!(
        payload(&chair)["roles"],
        json!(["committee_member", "committee_chair"])
    );
    let (status, _) = r.call("GET", &path, &chair, None).await;
    assert_eq!(status, 404);
    let (status, problem) = r.call("GET", "/appointments", &chair, None).await;
    assert_eq!(status, 403);
    assert!(problem.to_string().contains("authority"), "{problem}");

    // The authority's people come from configuration; the API cannot remove them.
    let (_, authority_rows) = r
        .call(
            "GET",
            &format!("/appointments?person={AUTHORITY_CODE}"),
            &r.authority,
            None,
        )
        .await;
    let configured = authority_rows[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(authority_rows[0]["appointed_by"], "configuration");
    let (status, problem) = r
        .call(
            "POST",
            &format!("/appointments/{configured}/removal"),
            &r.authority,
            Some(json!({ "reason": "test" })),
        )
        .await;
    assert_eq!(status, 409, "{problem}");

    // Partners: a partner's person needs an authorised organisation; withdrawing it ends the role
    // in new tokens.
    let (status, problem) = r
        .call(
            "POST",
            &path,
            &r.admin,
            Some(json!({ "personal_code": OTHER, "role": "partner", "partner_code": "10000000", "reason": "x" })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let partners = format!("/awarding-bodies/{}/partners", r.body);
    let (status, partner) = r
        .call(
            "POST",
            &partners,
            &r.admin,
            Some(json!({ "registry_code": "10000000", "name": "Kool OÜ" })),
        )
        .await;
    assert_eq!(status, 201, "{partner}");
    let (status, _) = r
        .call(
            "POST",
            &path,
            &r.admin,
            Some(json!({ "personal_code": OTHER, "role": "partner", "partner_code": "10000000", "reason": "x" })),
        )
        .await;
    assert_eq!(status, 201);
    let partner_token = r.login(OTHER, Some(r.body)).await;
    assert_eq!(payload(&partner_token)["partner"], "10000000");
    let (status, _) = r
        .call(
            "POST",
            &format!("{partners}/10000000/withdrawal"),
            &r.admin,
            Some(json!({ "reason": "contract ended" })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = r
        .exchange(&r.harness.id_token(OTHER, "Pia", "Partner"), Some(r.body))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("no role"), "{refused}");
    // The partner's people's appointments ended with it, recorded with the reason.
    let (_, list) = r.call("GET", &path, &r.admin, None).await;
    let partner_row = list
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["role"] == "partner")
        .expect("partner appointment");
    assert_eq!(partner_row["in_force"], false, "{partner_row}");
    assert!(
        partner_row["removal_reason"]
            .as_str()
            .expect("reason")
            .contains("contract ended")
    );
    // Authorised again, it is a new record; the old one stays.
    let (status, _) = r
        .call(
            "POST",
            &partners,
            &r.admin,
            Some(json!({ "registry_code": "10000000", "name": "Kool OÜ" })),
        )
        .await;
    assert_eq!(status, 201);
    let (_, history) = r.call("GET", &partners, &r.admin, None).await;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_client_is_named_acts_in_its_roles_and_is_revocable() {
    let r = Registry::start(&[]).await;
    let clients = format!("/awarding-bodies/{}/clients", r.body);
    let (status, problem) = r
        .call(
            "POST",
            &clients,
            &r.admin,
            Some(json!({ "name": "pipeline", "roles": ["authority"] })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "roles[0]");
    let (status, client) = r
        .call(
            "POST",
            &clients,
            &r.admin,
            Some(json!({ "name": "Issuance pipeline", "roles": ["awarding_body_staff"], "broker_user": "kutse-pipeline" })),
        )
        .await;
    assert_eq!(status, 201, "{client}");
    let id = client["client_id"].as_str().expect("id").to_owned();
    let secret = client["client_secret"].as_str().expect("secret").to_owned();
    let (_, listed) = r.call("GET", &clients, &r.admin, None).await;
    assert!(
        listed[0].get("client_secret").is_none(),
        "the secret is shown once: {listed}"
    );

    let grant = |secret: String| {
        let http = r.http.clone();
        let url = format!("{}/oauth/token", r.intake.url);
        let id = id.clone();
        async move {
            let response = http
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, issued) = grant(secret.clone()).await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["access_token"].as_str().expect("token").to_owned();
    let claims = payload(&token);
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["roles"], json!(["awarding_body_staff"]));
    // It acts as the body's staff: it may create a qualification of its body.
    let (status, created) = r
        .call(
            "POST",
            "/qualifications",
            &token,
            Some(
                json!({ "awarding_body_id": r.body, "name": "Juuksur, tase 4", "level": 4,
                         "competences": [ { "code": "B.1", "name": "Juuste lõikamine" } ] }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let (status, refused) = grant("wrong".to_owned()).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"], "invalid_client");
    let (status, revoked) = r
        .call(
            "POST",
            &format!("/clients/{id}/revocation"),
            &r.admin,
            Some(json!({ "reason": "key leaked" })),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let (status, refused) = grant(secret).await;
    assert_eq!(status, 401, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_names_what_is_wrong_with_a_request() {
    let r = Registry::start(&[]).await;
    let url = format!("{}/oauth/token", r.intake.url);
    let post = |form: Vec<(&'static str, &'static str)>| {
        let http = r.http.clone();
        let url = url.clone();
        async move {
            let response = http.post(url).form(&form).send().await.expect("answer");
            assert_eq!(response.headers()["cache-control"], "no-store");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    let exchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    for (form, error, field) in [
        (vec![], "invalid_request", "grant_type"),
        (
            vec![("grant_type", "password")],
            "unsupported_grant_type",
            "grant_type",
        ),
        (
            vec![("grant_type", exchange)],
            "invalid_request",
            "subject_token",
        ),
        (
            vec![
                ("grant_type", exchange),
                ("subject_token", "x"),
                ("subject_token_type", "saml"),
            ],
            "invalid_request",
            "subject_token_type",
        ),
        (
            vec![
                ("grant_type", exchange),
                ("subject_token", "x"),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
                ("scope", "everything"),
            ],
            "invalid_scope",
            "scope",
        ),
        (
            vec![
                ("grant_type", exchange),
                ("subject_token", "not-a-jwt"),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
            ],
            "invalid_grant",
            "subject_token",
        ),
        (
            vec![("grant_type", "client_credentials")],
            "invalid_request",
            "client_id",
        ),
    ] {
        let (status, answer) = post(form).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], error, "{answer}");
        assert!(
            answer["error_description"]
                .as_str()
                .expect("description")
                .starts_with(field),
            "{answer}"
        );
    }
    // JSON instead of a form.
    let response = r
        .http
        .post(&url)
        .json(&json!({ "grant_type": exchange }))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_service_trusts_intakes_published_keys_as_production_does() {
    let r = Registry::start(&[]).await;
    let jwks_url = format!("{}/oauth/jwks.json", r.intake.url);
    let documents = r
        .harness
        .start_with(
            "documents",
            &[("AUTH_JWKS_URL", &jwks_url), ("AUTH_JWKS_FILE", "")],
        )
        .await
        .expect("documents");
    let token = r.login(STAFF, None).await;
    // An application unknown to documents: the token is accepted, so the answer is 404, not 401.
    let (status, answer) = call(
        &r.http,
        "GET",
        &format!("{}/documents/{}", documents.url, Uuid::now_v7()),
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let id_token = r.harness.id_token(STAFF, "Siim", "Sekretär");
    let (status, problem) = call(
        &r.http,
        "GET",
        &format!("{}/documents/{}", documents.url, Uuid::now_v7()),
        &id_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(problem.to_string().contains("not accepted"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_taras_keys_intake_is_not_ready_and_logins_wait_with_a_503() {
    let harness = Harness::new().expect("harness");
    let intake = harness
        .start_with(
            "intake",
            &[("TARA_JWKS_FILE", "/nonexistent/tara-jwks.json")],
        )
        .await
        .expect("intake starts while TARA's keys are missing");
    let http = reqwest::Client::new();
    let (status, report) = call(
        &http,
        "GET",
        &format!("{}/readyz", intake.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 503, "{report}");
    assert!(report.to_string().contains("TARA keys"), "{report}");
    let (status, answer) = exchange(
        &http,
        &intake.url,
        &harness.id_token(STAFF, "Siim", "Sekretär"),
        None,
    )
    .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "temporarily_unavailable");
}
