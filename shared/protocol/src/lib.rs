//! Signed documents: the committee protocol and the certificate seal.
//!
//! Both are compact JWS (RFC 7515) with `alg: EdDSA` (Ed25519) whose payload is the RFC 8785
//! canonical JSON of the document (`serde_jcs`), so that the bytes signed are the same whoever
//! serialises the document. A verifier refuses a payload that is not in canonical form: two
//! encodings of one protocol must not both verify.
//!
//! Ed25519 comes from `ed25519-dalek`; the JWS compact form (three base64url parts) is assembled
//! here, because the JOSE crates serialise the payload themselves and cannot sign canonical bytes
//! given to them.

pub mod keys;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The qualification committee's protocol: per application, award or refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub protocol_id: Uuid,
    pub awarding_body_id: Uuid,
    pub session_id: Uuid,
    pub round_id: Uuid,
    /// The chair who signs, e.g. `EE38001085718`.
    pub chair: String,
    pub signed_at: DateTime<Utc>,
    pub decisions: Vec<ProtocolDecision>,
    /// When and where the session was held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_on: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The committee as the register's roster had it on the session's day (`EE…`, the chair
    /// among them). When given, the register checks presence and tallies against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roster: Vec<String>,
    /// The members present (`EE…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<String>,
    /// Members present needed for the votes to count: more than half the roster unless the
    /// body set otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
}

/// The quorum of a committee of `members`: more than half of them.
pub fn default_quorum(members: usize) -> u32 {
    u32::try_from(members / 2 + 1).unwrap_or(u32::MAX)
}

/// Why a protocol's session could not decide, if it could not: its presence and tallies are
/// checked against its own roster (an older protocol without a roster is not checked here).
pub fn session_fault(protocol: &Protocol) -> Option<String> {
    if protocol.roster.is_empty() {
        let partial = !protocol.present.is_empty()
            || protocol.quorum.is_some()
            || protocol.decisions.iter().any(|d| !d.recused.is_empty());
        return partial
            .then(|| "presence, quorum or recusals are given without the roster".to_owned());
    }
    let distinct =
        |list: &[String]| list.iter().collect::<std::collections::HashSet<_>>().len() == list.len();
    if !distinct(&protocol.present) || !distinct(&protocol.roster) {
        return Some("someone is listed twice in the roster or among those present".to_owned());
    }
    if protocol.quorum == Some(0) {
        return Some("a quorum of 0".to_owned());
    }
    if let Some(stranger) = protocol
        .present
        .iter()
        .find(|p| !protocol.roster.contains(p))
    {
        return Some(format!(
            "{stranger} is recorded present but is not on the roster"
        ));
    }
    let quorum = protocol
        .quorum
        .unwrap_or_else(|| default_quorum(protocol.roster.len()));
    let present = u32::try_from(protocol.present.len()).unwrap_or(u32::MAX);
    if present < quorum {
        return Some(format!(
            "no quorum: {present} present of {} members, {quorum} needed",
            protocol.roster.len()
        ));
    }
    for d in &protocol.decisions {
        if let Some(stranger) = d.recused.iter().find(|r| !protocol.present.contains(r)) {
            return Some(format!(
                "application {}: {stranger} recused but is not recorded present",
                d.application_id
            ));
        }
        let voters = present.saturating_sub(u32::try_from(d.recused.len()).unwrap_or(u32::MAX));
        if d.votes_for.saturating_add(d.votes_against) > voters {
            return Some(format!(
                "application {}: {} votes cast by {voters} members present and not recused",
                d.application_id,
                d.votes_for.saturating_add(d.votes_against)
            ));
        }
    }
    None
}

/// One application's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolDecision {
    pub application_id: Uuid,
    pub outcome: Outcome,
    pub votes_for: u32,
    pub votes_against: u32,
    /// The committee's reasons; required for a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Members who recused themselves from this application (`EE…`); they did not vote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recused: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Award,
    Refuse,
}

/// Why a signed document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not a compact JWS: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not accepted (EdDSA only)")]
    Algorithm(String),
    #[error("signed with an unknown key {0:?}")]
    UnknownKey(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("payload is not RFC 8785 canonical JSON")]
    NotCanonical,
    #[error("payload is not a valid document: {0}")]
    Payload(String),
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

/// The RFC 8785 canonical JSON of a document.
pub fn canonical<T: Serialize>(document: &T) -> Result<Vec<u8>, SignatureError> {
    serde_jcs::to_vec(document).map_err(|e| SignatureError::Payload(e.to_string()))
}

/// Signs a document: compact JWS, EdDSA, canonical JSON payload, `kid` naming the key.
pub fn sign<T: Serialize>(
    document: &T,
    key: &SigningKey,
    kid: &str,
    typ: &str,
) -> Result<String, SignatureError> {
    let header = serde_json::to_vec(&Header {
        alg: "EdDSA".to_owned(),
        kid: kid.to_owned(),
        typ: Some(typ.to_owned()),
    })
    .map_err(|e| SignatureError::Payload(e.to_string()))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(canonical(document)?)
    );
    let signature = key.sign(input.as_bytes());
    Ok(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// The key id a JWS names, without verifying anything (to look the key up).
pub fn key_id(jws: &str) -> Result<String, SignatureError> {
    header(jws).map(|h| h.kid)
}

/// The `typ` a JWS's header declares (read without verifying), e.g. `kutse-certificate` or
/// `vc+jwt`: one key signs several kinds of document, and a reader checks it has the kind it
/// expects.
pub fn type_of(jws: &str) -> Result<Option<String>, SignatureError> {
    header(jws).map(|h| h.typ)
}

fn header(jws: &str) -> Result<Header, SignatureError> {
    let header = jws
        .split('.')
        .next()
        .ok_or_else(|| SignatureError::Malformed("empty".to_owned()))?;
    let header: Header = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|e| SignatureError::Malformed(format!("header: {e}")))?,
    )
    .map_err(|e| SignatureError::Malformed(format!("header: {e}")))?;
    Ok(header)
}

/// Verifies a JWS with the key `lookup` returns for its `kid`, and reads its document.
pub fn verify<T: Serialize + DeserializeOwned>(
    jws: &str,
    lookup: impl FnOnce(&str) -> Option<VerifyingKey>,
) -> Result<T, SignatureError> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err(SignatureError::Malformed(format!(
            "{} parts, not 3",
            parts.len()
        )));
    };
    let header: Header = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|e| SignatureError::Malformed(format!("header: {e}")))?,
    )
    .map_err(|e| SignatureError::Malformed(format!("header: {e}")))?;
    if header.alg != "EdDSA" {
        return Err(SignatureError::Algorithm(header.alg));
    }
    let key = lookup(&header.kid).ok_or(SignatureError::UnknownKey(header.kid))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or_else(|| SignatureError::Malformed("signature".to_owned()))?;
    key.verify(format!("{header_b64}.{payload_b64}").as_bytes(), &signature)
        .map_err(|_| SignatureError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|e| SignatureError::Malformed(format!("payload: {e}")))?;
    // The signature covers the bytes received. Those bytes must be the canonical form of
    // themselves *as JSON*, whoever wrote them: comparing with our own re-serialisation of the
    // typed document would refuse canonical payloads that spell a value another way (`null`
    // for an absent reason, `+00:00`, `.000Z`, an upper-case UUID).
    let generic: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|e| SignatureError::Payload(format!("not JSON: {e}")))?;
    if canonical(&generic)? != payload {
        return Err(SignatureError::NotCanonical);
    }
    serde_json::from_value(generic).map_err(|e| SignatureError::Payload(e.to_string()))
}

/// The payload of a compact JWS, decoded but **not verified**: for naming a refused document in
/// a log or an answer (its id, its body), never for acting on it.
pub fn unverified_payload(jws: &str) -> Option<serde_json::Value> {
    let payload = jws.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// Signs `payload` bytes as they are (already canonical JSON), for tools and tests that bring
/// canonical bytes made elsewhere.
pub fn sign_bytes(payload: &[u8], key: &SigningKey, kid: &str, typ: &str) -> String {
    let header = serde_json::json!({ "alg": "EdDSA", "kid": kid, "typ": typ }).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The award rule, the same for the committee that proposes it and the register that checks
/// it: every competence applied for accepted by the panel, and more votes for than against.
pub fn awarded(all_accepted: bool, votes_for: u32, votes_against: u32) -> bool {
    all_accepted && votes_for > votes_against
}

/// A public key from its base64url form (32 bytes), as signer keys are registered.
pub fn verifying_key(base64url: &str) -> Result<VerifyingKey, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(base64url.trim())
        .map_err(|e| format!("not base64url: {e}"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "an Ed25519 public key is 32 bytes".to_owned())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

/// The base64url form of a public key.
pub fn encode_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol() -> Protocol {
        Protocol {
            protocol_id: Uuid::now_v7(),
            awarding_body_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            round_id: Uuid::now_v7(),
            chair: "EE38001085718".to_owned(),
            signed_at: Utc::now(),
            decisions: vec![ProtocolDecision {
                application_id: Uuid::now_v7(),
                outcome: Outcome::Award,
                votes_for: 5,
                votes_against: 0,
                reason: None,
                recused: Vec::new(),
            }],
            held_on: None,
            place: None,
            roster: Vec::new(),
            present: Vec::new(),
            quorum: None,
        }
    }

    #[test]
    fn a_session_decides_only_with_a_quorum_and_within_those_present() {
        let member = |n: u64| format!("EE3800108571{n}");
        let mut p = protocol();
        assert_eq!(
            session_fault(&p),
            None,
            "a protocol without a roster is not checked"
        );
        p.present = vec![member(0)];
        assert!(session_fault(&p).is_some_and(|f| f.contains("without the roster")));
        p.roster = (0..5).map(member).collect();
        p.present = (0..2).map(member).collect();
        assert!(session_fault(&p).is_some_and(|f| f.contains("no quorum")));
        p.present = (0..3).map(member).collect();
        // 5 votes with 3 present.
        assert!(session_fault(&p).is_some_and(|f| f.contains("votes cast")));
        p.decisions[0].votes_for = 2;
        p.decisions[0].votes_against = 0;
        assert_eq!(session_fault(&p), None);
        p.decisions[0].recused = vec![member(2)];
        assert_eq!(session_fault(&p), None, "two may vote");
        p.decisions[0].votes_against = 1;
        assert!(session_fault(&p).is_some_and(|f| f.contains("votes cast")));
        p.decisions[0].votes_against = 0;
        p.decisions[0].recused = vec![member(4)];
        assert!(session_fault(&p).is_some_and(|f| f.contains("not recorded present")));
        p.decisions[0].recused.clear();
        p.present.push("EE49403136526".to_owned());
        assert!(session_fault(&p).is_some_and(|f| f.contains("not on the roster")));
        // The body may set its own quorum.
        p.present = (0..2).map(member).collect();
        p.quorum = Some(2);
        assert_eq!(session_fault(&p), None);
        p.present = vec![member(0), member(0)];
        assert!(session_fault(&p).is_some_and(|f| f.contains("twice")));
        p.present = (0..2).map(member).collect();
        p.quorum = Some(0);
        assert!(session_fault(&p).is_some_and(|f| f.contains("quorum of 0")));
        assert_eq!(default_quorum(5), 3);
        assert_eq!(default_quorum(4), 3);
        assert_eq!(default_quorum(1), 1);
    }

    #[test]
    fn a_signed_protocol_verifies_with_its_key_and_nothing_else() {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let other = SigningKey::generate(&mut rand_core::OsRng);
        let p = protocol();
        let jws = sign(&p, &key, "chair-1", "kutse-protocol").expect("sign");
        assert_eq!(key_id(&jws).expect("kid"), "chair-1");
        let back: Protocol =
            verify(&jws, |kid| (kid == "chair-1").then(|| key.verifying_key())).expect("verify");
        assert_eq!(back, p);
        assert_eq!(
            verify::<Protocol>(&jws, |_| Some(other.verifying_key())),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify::<Protocol>(&jws, |_| None),
            Err(SignatureError::UnknownKey("chair-1".to_owned()))
        );
    }

    #[test]
    fn a_protocol_altered_after_signing_does_not_verify() {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let mut p = protocol();
        let jws = sign(&p, &key, "k", "kutse-protocol").expect("sign");
        p.decisions[0].outcome = Outcome::Refuse;
        let forged_payload = URL_SAFE_NO_PAD.encode(canonical(&p).expect("jcs"));
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            verify::<Protocol>(&forged, |_| Some(key.verifying_key())),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn a_non_canonical_payload_is_refused_even_when_signed() {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let p = protocol();
        // Pretty-printed JSON, correctly signed, but not canonical.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec_pretty(&p).expect("json"));
        let input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).to_bytes());
        assert_eq!(
            verify::<Protocol>(&format!("{input}.{sig}"), |_| Some(key.verifying_key())),
            Err(SignatureError::NotCanonical)
        );
    }

    #[test]
    fn only_eddsa_is_accepted() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k"}"#);
        let key = SigningKey::generate(&mut rand_core::OsRng);
        assert_eq!(
            verify::<Protocol>(&format!("{header}.e30."), |_| Some(key.verifying_key())),
            Err(SignatureError::Algorithm("none".to_owned()))
        );
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let value = serde_json::json!({ "b": 1, "a": [true, null], "c": "õ" });
        assert_eq!(
            String::from_utf8(canonical(&value).expect("jcs")).expect("utf8"),
            r#"{"a":[true,null],"b":1,"c":"õ"}"#
        );
    }
}

#[cfg(test)]
mod contract {
    use super::*;

    const FIXTURES: &str = include_str!("../../../tests/fixtures/canonical_protocols.json");
    const SCHEMA: &str = include_str!("../../../docs/protocol.schema.json");

    #[test]
    fn payloads_canonicalised_elsewhere_verify_and_non_canonical_ones_do_not() {
        let fixtures: serde_json::Value = serde_json::from_str(FIXTURES).expect("fixtures");
        let key = SigningKey::generate(&mut rand_core::OsRng);
        for case in fixtures["cases"].as_array().expect("cases") {
            let payload = case["payload"].as_str().expect("payload");
            let jws = sign_bytes(payload.as_bytes(), &key, "k", "kutse-protocol");
            let result = verify::<Protocol>(&jws, |_| Some(key.verifying_key()));
            if case["canonical"] == true {
                assert!(result.is_ok(), "{}: {result:?}", case["name"]);
            } else {
                assert_eq!(
                    result,
                    Err(SignatureError::NotCanonical),
                    "{}",
                    case["name"]
                );
            }
        }
    }

    #[test]
    fn the_published_schema_names_exactly_the_protocols_fields() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema");
        let keys = |v: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
            k.sort();
            k
        };
        let document = serde_json::to_value(Protocol {
            protocol_id: Uuid::nil(),
            awarding_body_id: Uuid::nil(),
            session_id: Uuid::nil(),
            round_id: Uuid::nil(),
            chair: "EE38001085718".into(),
            signed_at: Utc::now(),
            decisions: vec![ProtocolDecision {
                application_id: Uuid::nil(),
                outcome: Outcome::Refuse,
                votes_for: 0,
                votes_against: 1,
                reason: Some("x".into()),
                recused: vec!["EE38001085718".into()],
            }],
            held_on: Some(chrono::NaiveDate::MIN),
            place: Some("Tallinn".into()),
            roster: vec!["EE38001085718".into()],
            present: vec!["EE38001085718".into()],
            quorum: Some(1),
        })
        .expect("json");
        // Every field, the optional ones filled in.
        assert_eq!(keys(&schema["properties"]), keys(&document));
        assert_eq!(
            keys(&schema["properties"]["decisions"]["items"]["properties"]),
            keys(&document["decisions"][0])
        );
    }
}
