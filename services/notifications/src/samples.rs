//! Sample events for every notice, with fixed ids and dates: `kutse-mail-preview` renders them
//! for a maintainer to look at, and the snapshot tests hold what they render.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kutse_domain::{
    ApplicationKind, DeliveryOption, DocumentType, Dvvk, Email, Isikukood, Language,
};
use kutse_messaging::catalogue::{
    AppealLodged, AppealResolved, ApplicantRef, ApplicationRefused, ApplicationSubmitted,
    AssessmentDecided, CertificateExpiring, CertificateRendered, CertificateStatusChanged,
    CompetenceDecision, CompetenceRef, DocumentsRequested, ExamRegistered, OverdueDigest,
    OverdueItem, QualificationRef, QuestionAnswered, QuestionAsked, QuestionParty, RenderedPdf,
    RequestedDocument,
};
use uuid::Uuid;

use crate::templates::{self, Rendered, TemplateError};

const APPLICATION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
const ROUND: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);
const BODY: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003);
const CERTIFICATE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0004);
const APPEAL: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0005);
const DOCUMENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0006);

// The samples are fixed, valid values: `expect` cannot fail on them.

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a sample date")
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a sample instant")
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("a sample address")
}

fn document_type(s: &str) -> DocumentType {
    DocumentType::parse(s).expect("a sample document type")
}

/// Mari Maasikas, who writes in `language`.
pub fn applicant(language: Language) -> ApplicantRef {
    ApplicantRef {
        // A valid personal code from python-stdnum's vectors.
        isikukood: Isikukood::parse("49403136526").expect("a sample personal code"),
        given_name: "Mari".to_owned(),
        family_name: "Maasikas".to_owned(),
        email: email("mari.maasikas@example.ee"),
        language,
    }
}

pub fn qualification() -> QualificationRef {
    QualificationRef {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0010),
        name: "Juuksur, tase 4".to_owned(),
        level: 4,
        partial: false,
    }
}

pub fn competences() -> Vec<CompetenceRef> {
    vec![
        CompetenceRef {
            code: "B.2.1".to_owned(),
            name: "Juuste lõikamine".to_owned(),
        },
        CompetenceRef {
            code: "B.2.2".to_owned(),
            name: "Juuste värvimine".to_owned(),
        },
    ]
}

pub fn submitted(language: Language) -> ApplicationSubmitted {
    ApplicationSubmitted {
        application_id: APPLICATION,
        round_id: ROUND,
        awarding_body_id: BODY,
        qualification: qualification(),
        kind: ApplicationKind::Initial,
        competences: competences(),
        applicant: applicant(language),
        delivery_option: DeliveryOption::Electronic,
        round_deadline: day(2027, 1, 15),
        submitted_at: at(2026, 12, 4, 10),
        dvvk: Dvvk::WebForm,
        awarding_body_name: Some("Eesti Juuksurite Liit".to_owned()),
        awarding_body_email: Some(email("kutse@juuksurid.example.ee")),
        certificate_number: None,
        duplicate_reason: None,
    }
}

pub fn documents_requested(language: Language) -> DocumentsRequested {
    DocumentsRequested {
        request_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0020),
        application_id: APPLICATION,
        awarding_body_id: BODY,
        applicant: applicant(language),
        qualification: qualification(),
        documents: vec![
            RequestedDocument {
                document_type: document_type("work_experience"),
                description: "Tööandja tõend 2024–2026 / employer's certificate".to_owned(),
            },
            RequestedDocument {
                document_type: document_type("portfolio"),
                description: "Portfoolio: 5 tööd / portfolio of 5 works".to_owned(),
            },
        ],
        reason: "Töökogemus on tõendamata / the work experience is not proven".to_owned(),
        due_on: day(2027, 1, 8),
        requested_at: at(2026, 12, 18, 9),
    }
}

pub fn decided(all_accepted: bool) -> AssessmentDecided {
    AssessmentDecided {
        application_id: APPLICATION,
        round_id: ROUND,
        awarding_body_id: BODY,
        decisions: vec![
            CompetenceDecision {
                code: "B.2.1".to_owned(),
                accepted: true,
                justification: "Praktiline eksam sooritatud / practical exam passed.".to_owned(),
                evidence: vec![DOCUMENT],
            },
            CompetenceDecision {
                code: "B.2.2".to_owned(),
                accepted: all_accepted,
                justification: "Värvimise töö näidis puudub / no sample of colouring work."
                    .to_owned(),
                evidence: vec![],
            },
        ],
        recommendations: Some(
            "Täiendkoolitus värvimises / further training in colouring".to_owned(),
        ),
        all_accepted,
        decided_at: at(2027, 1, 20, 13),
        review_due: day(2027, 1, 29),
        decision_number: Some("HK-2027/7".to_owned()),
        notice_due: Some(day(2027, 2, 3)),
    }
}

pub fn exam(language: Language) -> ExamRegistered {
    ExamRegistered {
        exam_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0030),
        application_id: APPLICATION,
        applicant: applicant(language),
        qualification: qualification(),
        starts_at: at(2027, 2, 10, 8),
        place: "Tallinna Teeninduskool, Mustamäe tee 59, ruum 204".to_owned(),
        competences: vec!["B.2.1".to_owned(), "B.2.2".to_owned()],
    }
}

pub fn rendered(language: Language, edition: Option<u32>) -> CertificateRendered {
    CertificateRendered {
        certificate_id: CERTIFICATE,
        register_number: "KT-2027-000042".to_owned(),
        application_id: APPLICATION,
        holder: applicant(language),
        qualification: qualification(),
        valid_until: day(2032, 2, 16),
        verification_url: "https://kutse.example.ee/verify/KT-2027-000042".to_owned(),
        pdf: RenderedPdf {
            url: "http://127.0.0.1:8333/certificates/KT-2027-000042.pdf".to_owned(),
            expires_at: at(2027, 2, 24, 12),
            sha256: "0".repeat(64),
            size_bytes: 48_213,
            filename: "KT-2027-000042.pdf".to_owned(),
        },
        edition,
    }
}

pub fn refusal(language: Language) -> ApplicationRefused {
    ApplicationRefused {
        application_id: APPLICATION,
        protocol_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0040),
        applicant: applicant(language),
        qualification: qualification(),
        justification: "Kompetents B.2.2 jäi tõendamata / competence B.2.2 was not proven."
            .to_owned(),
        competences_not_accepted: vec![CompetenceRef {
            code: "B.2.2".to_owned(),
            name: "Juuste värvimine".to_owned(),
        }],
    }
}

pub fn status_changed(language: Language, action: &str) -> CertificateStatusChanged {
    CertificateStatusChanged {
        certificate_id: CERTIFICATE,
        register_number: "KT-2027-000042".to_owned(),
        action: action.to_owned(),
        status: match action {
            "revoked" => "revoked",
            "suspended" => "suspended",
            _ => "valid",
        }
        .to_owned(),
        reason: "Kutse andja otsus nr 12 / the body's decision no. 12".to_owned(),
        changed_at: at(2028, 3, 1, 11),
        changed_by: if action == "revoked" {
            "authority"
        } else {
            "awarding_body"
        }
        .to_owned(),
        holder: applicant(language),
        qualification: qualification(),
        verification_url: "https://kutse.example.ee/verify/KT-2027-000042".to_owned(),
    }
}

pub fn expiring(language: Language) -> CertificateExpiring {
    CertificateExpiring {
        certificate_id: CERTIFICATE,
        register_number: "KT-2027-000042".to_owned(),
        holder: applicant(language),
        qualification: qualification(),
        awarding_body_id: BODY,
        valid_until: day(2032, 2, 16),
        verification_url: "https://kutse.example.ee/verify/KT-2027-000042".to_owned(),
    }
}

pub fn appeal(language: Language, against: &str) -> AppealLodged {
    AppealLodged {
        appeal_id: APPEAL,
        application_id: APPLICATION,
        awarding_body_id: BODY,
        against: against.to_owned(),
        reasons: "Portfoolio jäeti arvesse võtmata / my portfolio was not considered.".to_owned(),
        documents: vec![DOCUMENT],
        lodged_at: at(2027, 1, 25, 15),
        applicant: applicant(language),
        qualification: qualification(),
        awarding_body_email: Some(email("kutse@juuksurid.example.ee")),
    }
}

pub fn appeal_resolved(language: Language, outcome: &str) -> AppealResolved {
    AppealResolved {
        appeal_id: APPEAL,
        application_id: APPLICATION,
        awarding_body_id: BODY,
        against: "assessment".to_owned(),
        outcome: outcome.to_owned(),
        reasons: "Portfoolio tuleb hinnata / the portfolio is to be assessed.".to_owned(),
        resolved_at: at(2027, 2, 5, 10),
        applicant: applicant(language),
        qualification: qualification(),
    }
}

pub fn overdue() -> OverdueDigest {
    OverdueDigest {
        awarding_body_id: BODY,
        email: email("kutse@juuksurid.example.ee"),
        day: day(2027, 1, 21),
        items: vec![
            OverdueItem {
                application_id: APPLICATION,
                applicant_name: "Mari Maasikas".to_owned(),
                qualification: "Juuksur, tase 4".to_owned(),
                clock: "review".to_owned(),
                due: day(2027, 1, 20),
            },
            OverdueItem {
                application_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0050),
                applicant_name: "Jaan Tamm".to_owned(),
                qualification: "Juuksur, tase 5".to_owned(),
                clock: "notice".to_owned(),
                due: day(2027, 1, 19),
            },
        ],
    }
}

fn desk(kind: &str, name: &str, address: &str) -> QuestionParty {
    QuestionParty {
        kind: kind.to_owned(),
        name: name.to_owned(),
        email: Some(email(address)),
        language: Language::Et,
    }
}

fn holder(language: Language) -> QuestionParty {
    QuestionParty {
        kind: "holder".to_owned(),
        name: "Mari Maasikas".to_owned(),
        email: Some(email("mari.maasikas@example.ee")),
        language,
    }
}

const QUESTION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0060);

/// Mari's question about her certificate to its body; `forwarded`, passed on to the authority.
pub fn question_asked(forwarded: bool) -> QuestionAsked {
    QuestionAsked {
        question_id: QUESTION,
        campaign_id: None,
        register_number: Some("KT-2027-000042".to_owned()),
        from: holder(Language::Et),
        to: if forwarded {
            desk("authority", "Kutsekoda", "kutseregister@kutsekoda.example")
        } else {
            desk(
                "awarding_body",
                "Eesti Juuksurite Liit",
                "kutse@juuksurid.example.ee",
            )
        },
        text: "Kas minu kutsetunnistus kehtib ka Soomes? / Is my certificate valid in Finland?"
            .to_owned(),
        asked_at: at(2028, 5, 2, 9),
        forwarded_by: forwarded.then(|| "Eesti Juuksurite Liit (Siim Sekretär)".to_owned()),
        note: forwarded.then(|| "Välisriigis tunnustamine on Kutsekoja pädevuses.".to_owned()),
    }
}

/// The authority's question to holders, as one of them gets it.
pub fn question_to_holder(language: Language) -> QuestionAsked {
    QuestionAsked {
        question_id: QUESTION,
        campaign_id: Some(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0061)),
        register_number: None,
        from: desk("authority", "Kutsekoda", "kutseregister@kutsekoda.example"),
        to: holder(language),
        text: "Kas töötate praegu oma kutsealal? / Do you work in your occupation now?".to_owned(),
        asked_at: at(2028, 6, 1, 8),
        forwarded_by: None,
        note: None,
    }
}

/// An answer: to Mari (`to_holder`), or Mari's answer to the authority.
pub fn question_answered(language: Language, to_holder: bool) -> QuestionAnswered {
    let authority = desk(
        "authority",
        "Kutsekoda (Kati Kutsekoda)",
        "kutseregister@kutsekoda.example",
    );
    let (from, to) = if to_holder {
        (authority, holder(language))
    } else {
        (holder(language), authority)
    };
    QuestionAnswered {
        question_id: QUESTION,
        campaign_id: None,
        register_number: to_holder.then(|| "KT-2027-000042".to_owned()),
        from,
        to,
        question: "Kas minu kutsetunnistus kehtib ka Soomes? / Is my certificate valid in Finland?"
            .to_owned(),
        answer: "Jah, Euroopa kvalifikatsiooniraamistiku kaudu / yes, through the EQF <level 4>."
            .to_owned(),
        answered_at: at(2028, 5, 3, 14),
    }
}

/// A sample: its name (`<template>[.<variant>]`), the template it renders, what it rendered.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub template: String,
    pub mail: Result<Rendered, TemplateError>,
}

/// Every notice, in each of its languages and variants.
pub fn all() -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut add = |template: String, variant: &str, mail| {
        let name = if variant.is_empty() {
            template.clone()
        } else {
            format!("{template}.{variant}")
        };
        samples.push(Sample {
            name,
            template,
            mail,
        });
    };
    for language in Language::ALL.iter().copied() {
        let l = language.as_str();
        let t = |kind: &str| format!("{kind}.{l}");
        add(t("receipt"), "", templates::receipt(&submitted(language)));
        add(
            t("receipt_awaiting_fee"),
            "",
            templates::receipt_awaiting_fee(&submitted(language)),
        );
        add(
            t("fee_confirmed"),
            "",
            templates::fee_confirmed(&submitted(language)),
        );
        add(
            t("documents_requested"),
            "",
            templates::documents_requested(&documents_requested(language)),
        );
        for (variant, all_accepted) in [("all_accepted", true), ("some_not", false)] {
            add(
                t("decision"),
                variant,
                templates::decision(
                    &applicant(language),
                    &qualification(),
                    &competences(),
                    &decided(all_accepted),
                ),
            );
        }
        add(
            t("exam_registered"),
            "",
            templates::exam_registered(&exam(language)),
        );
        add(
            t("certificate_issued"),
            "",
            templates::issued(&rendered(language, None)),
        );
        add(
            t("certificate_duplicate"),
            "",
            templates::issued(&rendered(language, Some(2))),
        );
        add(t("refusal"), "", templates::refused(&refusal(language)));
        for action in ["revoked", "suspended", "reinstated"] {
            add(
                t("certificate_status"),
                action,
                templates::status_changed(&status_changed(language, action)),
            );
        }
        add(
            t("certificate_expiring"),
            "",
            templates::expiring(&expiring(language)),
        );
        for against in ["assessment", "committee"] {
            add(
                t("appeal_receipt"),
                against,
                templates::appeal_receipt(&appeal(language, against)),
            );
        }
        for outcome in ["upheld", "dismissed"] {
            add(
                t("appeal_resolved"),
                outcome,
                templates::appeal_resolved(&appeal_resolved(language, outcome)),
            );
        }
        add(
            t("question_to_holder"),
            "",
            templates::question_to_holder(&question_to_holder(language)),
        );
        add(
            t("question_answered"),
            "",
            templates::question_answered(&question_answered(language, true)),
        );
    }
    for (variant, forwarded) in [("asked", false), ("forwarded", true)] {
        add(
            "question_received".to_owned(),
            variant,
            templates::question_received(&question_asked(forwarded)),
        );
    }
    add(
        "question_answered_desk".to_owned(),
        "",
        templates::question_answered(&question_answered(Language::Et, false)),
    );
    add(
        "appeal_to_body".to_owned(),
        "",
        templates::appeal_to_body(&appeal(Language::Et, "assessment")),
    );
    add(
        "overdue_digest".to_owned(),
        "",
        templates::overdue_digest(&overdue()),
    );
    samples
}

/// A sample as one document: the subject, the text part and the HTML part.
pub fn document(subject: &str, mail: &Rendered) -> String {
    format!(
        "Subject: {subject}\n\n----- text/plain -----\n{}\n----- text/html -----\n{}",
        mail.text, mail.html
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every notice in every language renders as its snapshot under `src/snapshots/` holds.
    /// After changing a template, `cargo insta review` (or `INSTA_UPDATE=always`) updates them;
    /// read the diff before accepting it.
    #[test]
    fn every_notice_renders_as_its_snapshot() {
        for sample in all() {
            let mail = sample
                .mail
                .unwrap_or_else(|e| panic!("{}: {e}", sample.name));
            insta::assert_snapshot!(sample.name.clone(), document(&mail.subject, &mail));
        }
    }

    /// A template added without a sample would escape the snapshots (both languages of a notice
    /// are declared together by `templates!`).
    #[test]
    fn every_template_has_a_sample() {
        let samples = all();
        for (template, _) in crate::templates::TEMPLATES {
            assert!(
                samples.iter().any(|s| s.template == *template),
                "no sample renders {template}"
            );
        }
    }

    #[test]
    fn the_applicants_language_chooses_the_template() {
        let et = crate::templates::receipt(&submitted(Language::Et)).expect("et");
        let en = crate::templates::receipt(&submitted(Language::En)).expect("en");
        assert!(et.subject.starts_with("Teie taotlus"), "{}", et.subject);
        assert!(en.subject.starts_with("Your application"), "{}", en.subject);
        assert!(en.html.contains("lang=\"en\""));
    }
}
