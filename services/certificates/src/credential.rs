//! The certificate as a standard credential: an Open Badges 3.0 `OpenBadgeCredential` in the
//! W3C Verifiable Credentials Data Model 2.0, secured as a VC-JOSE-COSE JWT (`typ: vc+jwt`,
//! EdDSA, the register's key, verifiable with `/register/jwks.json`).
//!
//! - **Issuer** is the register (it signs); the awarding body is the achievement's `creator`.
//! - **Achievement**: the qualification, its EstQF level aligned to the EQF level of the same
//!   number, and each competence aligned as a `ceasn:Competency`.
//! - **Holder** is identified the Open Badges way, by an `identityHash` of the personal code
//!   (`sha256$hex(sha256(code ‖ salt))`, `hashed: true`). The salt is *not* in the public
//!   credential — an 11-digit code with a check digit is guessed in seconds from its hash — but in
//!   the holder's own view, so the holder can prove the credential is theirs.
//! - **Evidence** is the signed protocol the certificate was issued on.
//! - **Status**: one `BitstringStatusListEntry` per purpose (revocation, suspension), see
//!   [`crate::status_list`].
//!
//! The JSON-LD contexts the credential names are embedded in the binary ([`CONTEXTS`]) and
//! served at `/register/contexts/…` for verifiers that work offline; they are never fetched.

use chrono::{DateTime, NaiveDate, Utc};
use kutse_messaging::catalogue::{CompetenceRef, QualificationRef};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::status_list::{Entry, Purpose};

/// The W3C VC 2.0 base context.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// The JSON-LD contexts the register's credentials name, by URL, with their documents (from the
/// W3C and 1EdTech releases; see `assets/contexts/README.md`).
pub const CONTEXTS: &[(&str, &str, &str)] = &[
    (
        VC_CONTEXT,
        "credentials-v2.jsonld",
        include_str!("../assets/contexts/credentials-v2.jsonld"),
    ),
    (
        OB_CONTEXT,
        "ob-v3p0-context-3.0.3.jsonld",
        include_str!("../assets/contexts/ob-v3p0-context-3.0.3.jsonld"),
    ),
];

/// The JWS `typ` of a credential (VC-JOSE-COSE).
pub const TYP: &str = "vc+jwt";

/// A random salt for the holder's identity hash: 16 bytes, hex.
pub fn new_salt() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// `sha256$<hex>` of the personal code followed by the salt (Open Badges `IdentityHash`).
pub fn identity_hash(isikukood: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{isikukood}{salt}").as_bytes());
    format!("sha256${}", hex::encode(digest))
}

/// What a credential says.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub certificate_id: Uuid,
    pub register_number: &'a str,
    pub isikukood: &'a str,
    pub salt: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub qualification: &'a QualificationRef,
    pub competences: &'a [CompetenceRef],
    pub awarding_body_id: Uuid,
    pub awarding_body_name: Option<&'a str>,
    pub protocol_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
    pub status: &'a [Entry],
}

/// The register's issuer profile (`GET /register`).
pub fn issuer(base_url: &str) -> Value {
    json!({
        "id": format!("{base_url}/register"),
        "type": ["Profile"],
        "name": "Kutseregister",
        "description": "The Estonian register of occupational qualifications (Kutsekoda).",
        "url": format!("{base_url}/register"),
    })
}

/// The unsecured credential (the JWT's payload).
pub fn credential(base_url: &str, s: &Subject<'_>) -> Value {
    let q = s.qualification;
    let mut alignment = vec![json!({
        "type": ["Alignment"],
        "targetName": format!("EQF level {}", q.level),
        "targetDescription": format!("Estonian qualifications framework (EstQF) level {0}, referenced to European Qualifications Framework level {0}", q.level),
        "targetFramework": "European Qualifications Framework",
        "targetCode": q.level.to_string(),
        "targetUrl": "https://europass.europa.eu/en/description-eight-eqf-levels",
    })];
    alignment.extend(s.competences.iter().map(|c| {
        json!({
            "type": ["Alignment"],
            "targetType": "ceasn:Competency",
            "targetName": c.name,
            "targetCode": c.code,
            "targetFramework": q.name,
        })
    }));
    let creator = match s.awarding_body_name {
        Some(name) => json!({
            "id": format!("urn:uuid:{}", s.awarding_body_id),
            "type": ["Profile"],
            "name": name,
        }),
        None => json!({
            "id": format!("urn:uuid:{}", s.awarding_body_id),
            "type": ["Profile"],
        }),
    };
    let status: Vec<Value> = s.status.iter().map(|e| e.to_json(base_url)).collect();
    json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": format!("urn:uuid:{}", s.certificate_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": format!("{} — {}", q.name, s.register_number),
        "issuer": issuer(base_url),
        "validFrom": s.issued_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "validUntil": end_of_day(s.valid_until).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": format!("{} {}", s.given_name, s.family_name),
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "nationalIdentityNumber",
                "hashed": true,
                "identityHash": identity_hash(s.isikukood, s.salt),
            }],
            "achievement": {
                "id": format!("urn:uuid:{}", q.id),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": q.name,
                "description": format!("Occupational qualification {} (EstQF level {}){}.", q.name, q.level, if q.partial { ", partial" } else { "" }),
                "criteria": {
                    "narrative": "Awarded by the qualification committee of the awarding body on the assessment panel's acceptance of every competence listed, under the Occupational Qualifications Act (kutseseadus)."
                },
                "humanCode": s.register_number,
                "alignment": alignment,
                "creator": creator,
            },
        },
        "evidence": [{
            "id": format!("urn:uuid:{}", s.protocol_id),
            "type": ["Evidence"],
            "name": "Kutsekomisjoni protokoll (signed protocol of the qualification committee)",
        }],
        "credentialStatus": status,
    })
}

/// The last second of `day` in Tallinn, in UTC.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let next = day.succ_opt().unwrap_or(day);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    kutse_domain::calendar::TIME_ZONE
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc) - chrono::Duration::seconds(1))
        .unwrap_or_else(|| midnight.and_utc())
}

/// The purposes every certificate has an entry for.
pub const PURPOSES: [Purpose; 2] = [Purpose::Revocation, Purpose::Suspension];

#[cfg(test)]
mod tests {
    use super::*;

    fn qualification() -> QualificationRef {
        QualificationRef {
            id: Uuid::nil(),
            name: "Juuksur, tase 4".to_owned(),
            level: 4,
            partial: false,
        }
    }

    #[test]
    fn identity_hash_is_sha256_of_code_and_salt() {
        // sha256("38001085718" ‖ "abc") computed independently (`printf %s 38001085718abc | sha256sum`).
        assert_eq!(
            identity_hash("38001085718", "abc"),
            "sha256$aa55e313a7fa7fa82e102b58253365d99996fb594cfb216ed1f6d489bb90514e"
        );
        assert_ne!(
            identity_hash("38001085718", "abc"),
            identity_hash("38001085718", "abd")
        );
    }

    #[test]
    fn the_credential_names_no_personal_code_and_only_embedded_contexts() {
        let q = qualification();
        let competences = vec![CompetenceRef {
            code: "B.2.1".to_owned(),
            name: "Juuste lõikamine".to_owned(),
        }];
        let status = [
            Entry {
                purpose: Purpose::Revocation,
                list: 1,
                index: 17,
            },
            Entry {
                purpose: Purpose::Suspension,
                list: 1,
                index: 99,
            },
        ];
        let c = credential(
            "https://kutse.example",
            &Subject {
                certificate_id: Uuid::nil(),
                register_number: "KT-2026-000001",
                isikukood: "38001085718",
                salt: "0011",
                given_name: "Mari",
                family_name: "Maasikas",
                qualification: &q,
                competences: &competences,
                awarding_body_id: Uuid::nil(),
                awarding_body_name: Some("Eesti Juuksurite Liit"),
                protocol_id: Uuid::nil(),
                issued_at: "2026-11-25T10:00:00Z".parse().expect("time"),
                valid_until: NaiveDate::from_ymd_opt(2031, 11, 25).expect("date"),
                status: &status,
            },
        );
        let text = c.to_string();
        assert!(!text.contains("38001085718"), "{text}");
        assert!(!text.contains("\"salt\""), "{text}");
        let contexts: Vec<&str> = c["@context"]
            .as_array()
            .expect("contexts")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for context in contexts {
            assert!(
                CONTEXTS.iter().any(|(url, _, _)| *url == context),
                "{context} is not embedded"
            );
        }
        // Tallinn is UTC+2 in November: the last second of 25 Nov 2031 is 21:59:59Z.
        assert_eq!(c["validUntil"], "2031-11-25T21:59:59Z");
        assert_eq!(c["credentialStatus"][1]["statusListIndex"], "99");
        assert_eq!(
            c["credentialSubject"]["achievement"]["creator"]["name"],
            "Eesti Juuksurite Liit"
        );
    }

    #[test]
    fn embedded_contexts_define_the_terms_used() {
        for (_, _, document) in CONTEXTS {
            let parsed: Value = serde_json::from_str(document).expect("context is JSON");
            assert!(parsed.get("@context").is_some());
        }
        let ob = CONTEXTS[1].2;
        for term in [
            "OpenBadgeCredential",
            "AchievementSubject",
            "identityHash",
            "Alignment",
            "humanCode",
        ] {
            assert!(ob.contains(&format!("\"{term}\"")), "{term}");
        }
        let vc = CONTEXTS[0].2;
        for term in [
            "BitstringStatusListEntry",
            "BitstringStatusListCredential",
            "validFrom",
            "encodedList",
        ] {
            assert!(vc.contains(&format!("\"{term}\"")), "{term}");
        }
    }
}
