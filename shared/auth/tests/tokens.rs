//! Token validation: what TARA's rules require us to refuse, and the 401 a client then sees.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse as _;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kutse_auth::access::{AccessTokenIssuer, Grant};
use kutse_auth::dev::{DEV_AUDIENCE, DEV_ISSUER, DevTara, TaraLogin};
use kutse_auth::{AuthConfig, AuthError, Authenticated, JwksSource, Role, Verifier};
use tower::ServiceExt;

fn applicant() -> Grant {
    Grant {
        subject: "EE38001085718".to_owned(),
        client_id: "kutse-portal".to_owned(),
        ttl_seconds: 600,
        ..Grant::default()
    }
}

/// An access-token issuer with a fresh key, named `issuer`, minting for `audience`.
fn issuer_named(issuer: &str, audience: &str) -> AccessTokenIssuer {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let keys = kutse_protocol::keys::KeyRing::from_key(key, "kutse");
    AccessTokenIssuer::new(keys, issuer, audience).expect("issuer")
}

fn generate() -> AccessTokenIssuer {
    issuer_named(DEV_ISSUER, DEV_AUDIENCE)
}

fn config(jwks: JwksSource) -> AuthConfig {
    AuthConfig {
        issuer: DEV_ISSUER.to_owned(),
        audience: vec![DEV_AUDIENCE.to_owned()],
        token_type: Some(kutse_auth::access::ACCESS_TOKEN_TYPE.to_owned()),
        algorithms: AuthConfig::parse_algorithms(&["RS256".into(), "EdDSA".into()]).expect("algs"),
        jwks,
        leeway: Duration::from_secs(10),
        min_refresh: Duration::from_millis(50),
    }
}

async fn verifier_for(issuer: &AccessTokenIssuer) -> Verifier {
    Verifier::new(config(JwksSource::Static(issuer.jwks())))
        .await
        .expect("verifier")
}

#[tokio::test]
async fn a_valid_token_names_the_person_and_their_roles() {
    let issuer = generate();
    let verifier = verifier_for(&issuer).await;
    let body = uuid::Uuid::now_v7();
    let token = issuer
        .mint(&Grant {
            roles: vec![Role::AwardingBodyStaff],
            awarding_body_id: Some(body),
            given_name: Some("Mari".into()),
            ..applicant()
        })
        .expect("token");
    let principal = verifier.verify(&token).await.expect("valid");
    assert_eq!(principal.subject, "EE38001085718");
    assert_eq!(
        principal.isikukood.expect("code").to_string(),
        "38001085718"
    );
    assert!(principal.acts_for(Role::AwardingBodyStaff, body));
    assert!(
        principal.has_role(Role::Applicant),
        "a person may always apply"
    );
    assert_eq!(principal.given_name.as_deref(), Some("Mari"));

    let plain = verifier
        .verify(&issuer.mint(&applicant()).expect("token"))
        .await
        .expect("valid");
    assert!(
        plain.has_role(Role::Applicant),
        "every person may act as an applicant"
    );
    assert_eq!(plain.client_id, "kutse-portal");

    let machine = verifier
        .verify(
            &issuer
                .mint(&Grant {
                    subject: "0190c0de-0000-7000-8000-000000000001".into(),
                    roles: vec![Role::AwardingBodyStaff],
                    awarding_body_id: Some(body),
                    ..applicant()
                })
                .expect("token"),
        )
        .await
        .expect("valid");
    assert!(machine.isikukood.is_none(), "a machine client is no person");
    assert!(!machine.has_role(Role::Applicant));
    assert!(machine.acts_for(Role::AwardingBodyStaff, body));
}

/// Replaces the payload of a signed token, keeping header and signature.
fn with_payload(token: &str, payload: &serde_json::Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).expect("json"));
    parts.join(".")
}

fn payload_of(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

#[tokio::test]
async fn tokens_that_break_a_rule_are_refused() {
    let issuer = generate();
    let verifier = verifier_for(&issuer).await;
    let good = issuer.mint(&applicant()).expect("token");

    let other_key = generate();
    let wrong_issuer = issuer_named("https://evil.example", DEV_AUDIENCE);
    let wrong_issuer_verifier = verifier_for(&wrong_issuer).await;
    let wrong_audience = issuer_named(DEV_ISSUER, "someone-else");
    let wrong_audience_verifier = verifier_for(&wrong_audience).await;

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = good.split('.').nth(1).expect("payload");
    let alg_none = format!("{none_header}.{payload}.");

    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(issuer.keys().current().1.to_owned()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &payload_of(&good),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
    )
    .expect("hs256");

    let mut tampered_claims = payload_of(&good);
    tampered_claims["sub"] = "EE49403136526".into();
    let tampered = with_payload(&good, &tampered_claims);

    let expired = issuer
        .mint(&Grant {
            ttl_seconds: -120,
            ..applicant()
        })
        .expect("token");

    type Case<'a> = (&'a str, &'a Verifier, String, fn(&AuthError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "wrong issuer",
            &wrong_issuer_verifier,
            wrong_issuer.mint(&applicant()).expect("t"),
            |e| matches!(e, AuthError::Invalid(m) if m.contains("Issuer") || m.contains("issuer")),
        ),
        (
            "wrong audience",
            &wrong_audience_verifier,
            wrong_audience.mint(&applicant()).expect("t"),
            |e| matches!(e, AuthError::Invalid(m) if m.contains("Audience") || m.contains("audience")),
        ),
        (
            "expired",
            &verifier,
            expired,
            |e| matches!(e, AuthError::Invalid(m) if m.contains("Expired") || m.contains("expired")),
        ),
        ("alg none", &verifier, alg_none, |e| {
            matches!(e, AuthError::Malformed(_))
        }),
        ("HS256 with a guessed secret", &verifier, hs256, |e| {
            matches!(e, AuthError::AlgorithmNotAllowed(_))
        }),
        (
            "unknown key id",
            &verifier,
            other_key.mint(&applicant()).expect("t"),
            |e| matches!(e, AuthError::UnknownKey(_)),
        ),
        (
            "tampered payload",
            &verifier,
            tampered,
            |e| matches!(e, AuthError::Invalid(m) if m.contains("Signature") || m.contains("signature")),
        ),
        ("not a JWT", &verifier, "abc.def".to_owned(), |e| {
            matches!(e, AuthError::Malformed(_))
        }),
    ];
    for (name, verifier, token, expected) in cases {
        let err = verifier.verify(&token).await.expect_err(name);
        assert!(expected(&err), "{name}: got {err:?}");
    }
}

#[tokio::test]
async fn an_invalid_personal_code_in_the_subject_is_refused() {
    let issuer = generate();
    let verifier = verifier_for(&issuer).await;
    let token = issuer
        .mint(&Grant {
            subject: "EE38001085719".into(),
            ..applicant()
        })
        .expect("token");
    assert!(matches!(
        verifier.verify(&token).await,
        Err(AuthError::Claims(_))
    ));
}

#[tokio::test]
async fn only_a_kutse_access_token_passes_not_a_tara_id_token_nor_a_token_without_its_type() {
    let issuer = generate();
    let verifier = verifier_for(&issuer).await;
    // A TARA ID token (RS256, TARA's issuer, its own key): refused as an API token.
    let tara = DevTara::from_pem(include_str!(
        "../../../tests/fixtures/tara-stand-in-key.pem"
    ))
    .expect("stand-in");
    let id_token = tara
        .mint(&TaraLogin::new("38001085718", "Mari", "Maasikas"))
        .expect("id token");
    let refused = verifier
        .verify(&id_token)
        .await
        .expect_err("ID token refused");
    assert!(
        matches!(refused, AuthError::Claims(ref m) if m.contains("at+jwt")),
        "{refused}"
    );
    // Our own key and claims, but without `typ: at+jwt` (as an ID token would be): refused.
    let good = issuer.mint(&applicant()).expect("token");
    let untyped = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(issuer.keys().current().1.to_owned()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA)
        },
        &payload_of(&good),
        &{
            use ed25519_dalek::pkcs8::EncodePrivateKey;
            let der = issuer.keys().current().0.to_pkcs8_der().expect("der");
            jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes())
        },
    )
    .expect("untyped");
    let refused = verifier
        .verify(&untyped)
        .await
        .expect_err("untyped refused");
    assert!(refused.to_string().contains("at+jwt"), "{refused}");
}

#[test]
fn symmetric_algorithms_cannot_be_configured() {
    assert!(AuthConfig::parse_algorithms(&["HS256".into()]).is_err());
    assert!(AuthConfig::parse_algorithms(&["none".into()]).is_err());
    assert!(AuthConfig::parse_algorithms(&[]).is_err());
}

#[derive(Clone)]
struct AppState {
    verifier: Arc<Verifier>,
}

impl axum::extract::FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[tokio::test]
async fn an_api_answers_401_problem_json_for_a_bad_token() {
    let issuer = generate();
    let app = Router::new()
        .route(
            "/me",
            get(|Authenticated(p): Authenticated| async move { p.subject }),
        )
        .with_state(AppState {
            verifier: Arc::new(verifier_for(&issuer).await),
        });
    let good = issuer.mint(&applicant()).expect("token");
    let expired = issuer
        .mint(&Grant {
            ttl_seconds: -120,
            ..applicant()
        })
        .expect("token");
    for (auth, status) in [
        (Some(format!("Bearer {good}")), StatusCode::OK),
        (None, StatusCode::UNAUTHORIZED),
        (Some(format!("Bearer {expired}")), StatusCode::UNAUTHORIZED),
        (Some(format!("Basic {good}")), StatusCode::UNAUTHORIZED),
    ] {
        let mut request = Request::get("/me");
        if let Some(auth) = &auth {
            request = request.header("authorization", auth);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), status, "{auth:?}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
        }
    }
}

#[tokio::test]
async fn keys_are_fetched_from_a_jwks_url_and_refetched_for_a_new_key_id() {
    // A real HTTP JWKS endpoint on loopback, whose key set we rotate mid-test.
    let first = generate();
    let second = generate();
    let served = Arc::new(std::sync::Mutex::new(first.jwks_json()));
    let jwks = served.clone();
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks.lock().expect("lock").clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let verifier = Verifier::new(config(JwksSource::Url(url)))
        .await
        .expect("verifier");
    verifier
        .verify(&first.mint(&applicant()).expect("token"))
        .await
        .expect("first key works");

    // The provider rotates: both keys published; a token with the new kid triggers a refetch.
    let mut both = first.jwks_json();
    let new_key = second.jwks_json()["keys"][0].clone();
    both["keys"].as_array_mut().expect("keys").push(new_key);
    *served.lock().expect("lock") = both;
    verifier
        .verify(&second.mint(&applicant()).expect("token"))
        .await
        .expect("new key found after refetch");
}

/// A JWKS endpoint whose answer the test changes: `None` is an outage (503).
async fn provider(served: Arc<std::sync::Mutex<Option<serde_json::Value>>>) -> String {
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let served = served.clone();
            async move {
                match served.lock().ok().and_then(|s| s.clone()) {
                    Some(keys) => (
                        StatusCode::OK,
                        [("cache-control", "public, max-age=0")],
                        axum::Json(keys),
                    )
                        .into_response(),
                    None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn keys_follow_the_provider_a_withdrawn_key_stops_working_and_an_outage_at_start_only_delays_readiness()
 {
    let issuer = generate();
    let served = Arc::new(std::sync::Mutex::new(None));
    let url = provider(served.clone()).await;

    // The provider is down: the verifier starts anyway, not ready.
    let verifier = Arc::new(
        Verifier::new(config(JwksSource::Url(url)))
            .await
            .expect("starts while the provider is down"),
    );
    assert!(verifier.ready().is_err());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let fresh = verifier.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move { fresh.keep_fresh(stop).await });

    // The provider comes back: keys load, tokens verify.
    *served.lock().expect("lock") = Some(issuer.jwks_json());
    kutse_testkit::eventually(Duration::from_secs(20), "keys loaded", || async {
        verifier.ready().ok()
    })
    .await;
    let token = issuer.mint(&applicant()).expect("token");
    verifier.verify(&token).await.expect("verifies");

    // The provider withdraws the key: within its max-age the key is no longer trusted.
    *served.lock().expect("lock") = Some(serde_json::json!({ "keys": [] }));
    kutse_testkit::eventually(
        Duration::from_secs(20),
        "the withdrawn key refused",
        || async {
            matches!(verifier.verify(&token).await, Err(AuthError::UnknownKey(_))).then_some(())
        },
    )
    .await;
    shutdown.cancel();
}
