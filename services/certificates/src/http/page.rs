//! The public verification page: what a person sees when they scan a certificate's QR code.
//! Estonian or English, rendered from `templates/verification.html` (minijinja, HTML
//! auto-escaping) with the same data as the JSON verification. It never shows a personal code.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kutse_domain::Language;
use kutse_http::ApiError;
use serde_json::{Value, json};

use super::AppState;

/// The page templates, loaded once.
pub fn templates() -> Arc<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.add_template(
        "verification.html",
        include_str!("../../templates/verification.html"),
    )
    .unwrap_or_else(|e| panic!("templates/verification.html does not parse: {e}"));
    Arc::new(env)
}

/// The page's language: `?lang=` first, then the first of `Accept-Language` we speak;
/// Estonian otherwise.
pub fn language(query: Option<&str>, headers: &HeaderMap) -> Language {
    if let Some(lang) = query.and_then(|l| Language::parse(l).ok()) {
        return lang;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for range in accept.split(',') {
        let tag = range.split(';').next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        if let Ok(lang) = Language::parse(&primary) {
            return lang;
        }
    }
    Language::Et
}

fn labels(language: Language) -> Value {
    match language {
        Language::En => json!({
            "title": "Occupational qualification certificate",
            "other_language": "Eesti keeles",
            "status": {
                "valid": "VALID",
                "suspended": "SUSPENDED",
                "revoked": "REVOKED",
                "expired": "EXPIRED",
            },
            "explanation": {
                "valid": "This certificate is in the Estonian register of occupational qualifications and is valid.",
                "suspended": "The validity of this certificate has been suspended.",
                "revoked": "This certificate has been revoked and is no longer valid.",
                "expired": "This certificate was valid until the date below and has expired.",
            },
            "number": "Register number",
            "holder": "Holder",
            "qualification": "Qualification",
            "partial": "partial qualification",
            "level": "EstQF / EQF level",
            "competences": "Competences",
            "body": "Awarding body",
            "issued_on": "Issued",
            "valid_until": "Valid until",
            "pdf_checksum": "PDF checksum (SHA-256)",
            "successor_of": "Renews the certificate",
            "superseded_by": "Recertified: succeeded by",
            "duplicate": "Duplicate",
            "seal": "The certificate is sealed by the register; its seal was verified with the register's published key when this page was made.",
            "credential": "Digital credential (Open Badges 3.0, vc+jwt)",
            "json": "Machine-readable verification (JSON)",
            "jwks": "The register's public keys (JWKS)",
            "not_found": "NOT FOUND",
            "not_found_explanation": "The register holds no certificate with the number",
        }),
        Language::Et => json!({
            "title": "Kutsetunnistus",
            "other_language": "In English",
            "status": {
                "valid": "KEHTIV",
                "suspended": "PEATATUD",
                "revoked": "KEHTETUKS TUNNISTATUD",
                "expired": "AEGUNUD",
            },
            "explanation": {
                "valid": "See kutsetunnistus on kantud kutseregistrisse ja kehtib.",
                "suspended": "Selle kutsetunnistuse kehtivus on peatatud.",
                "revoked": "See kutsetunnistus on kehtetuks tunnistatud.",
                "expired": "See kutsetunnistus kehtis allpool nimetatud kuupäevani ja on aegunud.",
            },
            "number": "Registreerimisnumber",
            "holder": "Omanik",
            "qualification": "Kutse",
            "partial": "osakutse",
            "level": "EKR / EQF tase",
            "competences": "Kompetentsid",
            "body": "Kutse andja",
            "issued_on": "Välja antud",
            "valid_until": "Kehtib kuni",
            "pdf_checksum": "PDF-i kontrollsumma (SHA-256)",
            "successor_of": "Taastõendab kutsetunnistust",
            "superseded_by": "Taastõendatud, järglane",
            "duplicate": "Duplikaat",
            "seal": "Kutsetunnistus on registri pitseriga; pitser kontrolliti registri avaliku võtmega selle lehe koostamisel.",
            "credential": "Digitaalne tõend (Open Badges 3.0, vc+jwt)",
            "json": "Masinloetav kontroll (JSON)",
            "jwks": "Registri avalikud võtmed (JWKS)",
            "not_found": "EI LEITUD",
            "not_found_explanation": "Kutseregistris ei ole kutsetunnistust numbriga",
        }),
    }
}

fn date(language: Language, date: &Value) -> String {
    let Some(date) = date
        .as_str()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
    else {
        return String::new();
    };
    match language {
        Language::Et => date.format("%d.%m.%Y").to_string(),
        Language::En => date.format("%-d %B %Y").to_string(),
    }
}

fn page(state: &AppState, context: Value) -> Result<String, ApiError> {
    state
        .templates
        .get_template("verification.html")
        .and_then(|t| t.render(minijinja::value::Serde(&context)))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("verification page: {e}")))
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Language, Authorization"),
        ],
        body,
    )
        .into_response()
}

fn base(state: &AppState, language: Language, number: &str) -> serde_json::Map<String, Value> {
    let mut context = serde_json::Map::new();
    context.insert("lang".into(), json!(language.as_str()));
    context.insert(
        "other_lang".into(),
        json!(match language {
            Language::Et => "en",
            Language::En => "et",
        }),
    );
    context.insert("t".into(), labels(language));
    context.insert("number".into(), json!(number));
    context.insert("base_url".into(), json!(state.public_base_url));
    context
}

/// The page of a certificate the register holds.
pub fn render<V: serde::Serialize>(
    state: &AppState,
    language: Language,
    verification: &V,
) -> Result<Response, ApiError> {
    let v = serde_json::to_value(verification).map_err(|e| ApiError::Internal(e.into()))?;
    let number = v["certificate"]["register_number"].as_str().unwrap_or("");
    let mut context = base(state, language, number);
    context.insert(
        "issued_on".into(),
        json!(date(language, &v["certificate"]["issued_on"])),
    );
    context.insert(
        "valid_until".into(),
        json!(date(language, &v["certificate"]["valid_until"])),
    );
    context.insert("found".into(), json!(true));
    context.insert("v".into(), v);
    Ok(html(StatusCode::OK, page(state, Value::Object(context))?))
}

/// The page for a number the register does not hold (404, still a page a person can read).
pub fn not_found(state: &AppState, language: Language, number: &str) -> Response {
    let mut context = base(state, language, number);
    context.insert("found".into(), json!(false));
    match page(state, Value::Object(context)) {
        Ok(body) => html(StatusCode::NOT_FOUND, body),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page of a certificate in `status`, in `language`, as the template renders it.
    fn rendered(language: Language, status: &str) -> String {
        let context = json!({
            "lang": language.as_str(),
            "t": labels(language),
            "found": true,
            "v": { "certificate": { "status": status, "register_number": "KT-2026-000001",
                                   "holder": { "given_name": "Žanna", "family_name": "Õunapuu" },
                                   "qualification": { "name": "Juuksur, tase 4", "level": 4 },
                                   "competences": [] } },
        });
        templates()
            .get_template("verification.html")
            .and_then(|t| t.render(minijinja::value::Serde(&context)))
            .expect("renders")
    }

    #[test]
    fn every_status_a_certificate_can_show_has_its_words_in_both_languages() {
        for (status, et, en) in [
            ("valid", "KEHTIV", "VALID"),
            ("suspended", "PEATATUD", "SUSPENDED"),
            ("revoked", "KEHTETUKS TUNNISTATUD", "REVOKED"),
            ("expired", "AEGUNUD", "EXPIRED"),
        ] {
            let estonian = rendered(Language::Et, status);
            assert!(
                estonian.contains(&format!(">{et}</p>")),
                "{status}: {estonian}"
            );
            assert!(estonian.contains(&format!("data-status=\"{status}\"")));
            let english = rendered(Language::En, status);
            assert!(
                english.contains(&format!(">{en}</p>")),
                "{status}: {english}"
            );
        }
    }
}
