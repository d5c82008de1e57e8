//! The e-mails, in Estonian and English. Plain text: they must read well in any mail client.

use kutse_domain::Language;
use kutse_messaging::catalogue::{
    AppealLodged, AppealResolved, ApplicantRef, ApplicationRefused, ApplicationSubmitted,
    AssessmentDecided, CertificateExpiring, CertificateRendered, CertificateStatusChanged,
    CompetenceRef, DocumentsRequested, ExamRegistered, OverdueDigest, QualificationRef,
};

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

fn english(language: Language) -> bool {
    language == Language::En
}

/// The receipt for a submitted application.
pub fn receipt(e: &ApplicationSubmitted) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    if english(e.applicant.language) {
        Rendered {
            subject: format!("Your application for {q} has been received"),
            body: format!(
                "Dear {name},\n\nyour application for the qualification {q} was submitted on {}.\n\
                 Application number: {}\n\nThe assessment panel reviews applications within 10 working days of the \
                 round's deadline ({}).\n\nKutse",
                kutse_domain::tallinn_date(e.submitted_at),
                e.application_id,
                e.round_deadline
            ),
        }
    } else {
        Rendered {
            subject: format!("Teie taotlus kutsele {q} on kätte saadud"),
            body: format!(
                "Lugupeetud {name}\n\nTeie taotlus kutsele {q} esitati {}.\nTaotluse number: {}\n\n\
                 Hindamiskomisjon vaatab taotlused läbi 10 tööpäeva jooksul pärast taotlusvooru tähtaega ({}).\n\nKutse",
                kutse_domain::tallinn_date(e.submitted_at),
                e.application_id,
                e.round_deadline
            ),
        }
    }
}

/// The certificate has been issued (sent once its PDF is rendered, which is attached); or a
/// duplicate of it.
pub fn issued(e: &CertificateRendered) -> Rendered {
    let name = &e.holder.given_name;
    let q = &e.qualification.name;
    let n = &e.register_number;
    if e.edition.is_some() {
        return duplicate(e);
    }
    if english(e.holder.language) {
        Rendered {
            subject: format!("Certificate {n} issued: {q}"),
            body: format!(
                "Dear {name},\n\nthe qualification committee awarded you the qualification {q}.\n\
                 Certificate number: {n}\nValid until: {}\n\nThe certificate is attached as a PDF. Anyone can verify it with its QR code or at:\n{}\n\nKutse",
                e.valid_until, e.verification_url
            ),
        }
    } else {
        Rendered {
            subject: format!("Kutsetunnistus {n} on välja antud: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nkutsekomisjon otsustas anda Teile kutse {q}.\n\
                 Kutsetunnistuse number: {n}\nKehtib kuni: {}\n\nKutsetunnistus on lisatud PDF-failina. Selle ehtsust saab igaüks kontrollida QR-koodi abil või aadressil:\n{}\n\nKutse",
                e.valid_until, e.verification_url
            ),
        }
    }
}

/// A duplicate of the certificate, with the new document attached.
fn duplicate(e: &CertificateRendered) -> Rendered {
    let name = &e.holder.given_name;
    let q = &e.qualification.name;
    let n = &e.register_number;
    if english(e.holder.language) {
        Rendered {
            subject: format!("Duplicate of certificate {n} issued: {q}"),
            body: format!(
                "Dear {name},\n\na duplicate of your certificate {n} ({q}) has been issued, as you asked. \
                 It is the same certificate, valid until {}; the duplicate replaces the earlier document, which is no longer used.\n\n\
                 The duplicate is attached as a PDF. Anyone can verify it with its QR code or at:\n{}\n\nKutse",
                e.valid_until, e.verification_url
            ),
        }
    } else {
        Rendered {
            subject: format!("Kutsetunnistuse {n} duplikaat on välja antud: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nTeie soovil on välja antud Teie kutsetunnistuse {n} ({q}) duplikaat. \
                 See on sama kutsetunnistus, mis kehtib kuni {}; duplikaat asendab varasemat dokumenti, mida enam ei kasutata.\n\n\
                 Duplikaat on lisatud PDF-failina. Selle ehtsust saab igaüks kontrollida QR-koodi abil või aadressil:\n{}\n\nKutse",
                e.valid_until, e.verification_url
            ),
        }
    }
}

/// Six months before a certificate expires: when, and how to recertify.
pub fn expiring(e: &CertificateExpiring) -> Rendered {
    let name = &e.holder.given_name;
    let q = &e.qualification.name;
    let n = &e.register_number;
    let until = e.valid_until.format("%d.%m.%Y");
    let url = &e.verification_url;
    if english(e.holder.language) {
        Rendered {
            subject: format!("Certificate {n} expires on {until}: {q}"),
            body: format!(
                "Dear {name},\n\nyour certificate {n} ({q}) is valid until {until}.\n\n\
                 To keep the qualification, apply for recertification in a round of the awarding body \
                 before then (application kind: recertification, naming this certificate).\n\n\
                 The certificate: {url}\n\nKutse"
            ),
        }
    } else {
        Rendered {
            subject: format!("Kutsetunnistus {n} aegub {until}: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nTeie kutsetunnistus {n} ({q}) kehtib kuni {until}.\n\n\
                 Kutse säilitamiseks taotlege enne seda kutse taastõendamist kutse andja taotlusvoorus \
                 (taotluse liik: taastõendamine, märkides selle kutsetunnistuse).\n\n\
                 Kutsetunnistus: {url}\n\nKutse"
            ),
        }
    }
}

/// The applicant registered for an exam: when, where, what it assesses.
pub fn exam_registered(e: &ExamRegistered) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    let at = e
        .starts_at
        .with_timezone(&kutse_domain::calendar::TIME_ZONE)
        .format("%d.%m.%Y %H:%M");
    let place = &e.place;
    let competences = e.competences.join(", ");
    if english(e.applicant.language) {
        Rendered {
            subject: format!("You are registered for the exam: {q}, {at}"),
            body: format!(
                "Dear {name},\n\nyou are registered for the exam of {q} on {at} (Tallinn time) at {place}.\n\
                 It assesses the competences {competences}.\n\nKutse"
            ),
        }
    } else {
        Rendered {
            subject: format!("Olete registreeritud eksamile: {q}, {at}"),
            body: format!(
                "Lugupeetud {name}\n\nOlete registreeritud kutse {q} eksamile {at} (Eesti aja järgi), \
                 toimumiskoht: {place}.\nEksam hindab kompetentse {competences}.\n\nKutse"
            ),
        }
    }
}

/// The applicant's receipt for an appeal.
pub fn appeal_receipt(e: &AppealLodged) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    let id = e.application_id;
    if english(e.applicant.language) {
        let what = if e.against == "committee" {
            "the qualification committee's decision"
        } else {
            "the assessment panel's decision"
        };
        Rendered {
            subject: format!("Your appeal has been registered: {q}"),
            body: format!(
                "Dear {name},\n\nyour appeal against {what} on your application for {q} ({id}) was registered \
                 on {}.\nAppeal number: {}\n\nThe qualification committee resolves it; you will be told its \
                 resolution and the reasons.\n\nKutse",
                kutse_domain::tallinn_date(e.lodged_at).format("%d.%m.%Y"),
                e.appeal_id
            ),
        }
    } else {
        let what = if e.against == "committee" {
            "kutsekomisjoni otsuse"
        } else {
            "hindamiskomisjoni otsuse"
        };
        Rendered {
            subject: format!("Teie vaie on registreeritud: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nTeie vaie {what} peale taotluses kutsele {q} ({id}) registreeriti \
                 {}.\nVaide number: {}\n\nVaide lahendab kutsekomisjon; selle otsusest ja põhjendustest \
                 teatatakse Teile.\n\nKutse",
                kutse_domain::tallinn_date(e.lodged_at).format("%d.%m.%Y"),
                e.appeal_id
            ),
        }
    }
}

/// The body is told of an appeal, at its desk (Estonian, with English beneath).
pub fn appeal_to_body(e: &AppealLodged) -> Rendered {
    let q = &e.qualification.name;
    let who = format!("{} {}", e.applicant.given_name, e.applicant.family_name);
    Rendered {
        subject: format!("Uus vaie / New appeal: {who}, {q}"),
        body: format!(
            "Tere\n\n{who} esitas vaide ({}) taotluses {} kutsele {q}.\nPõhjendus: {}\n\n\
             Vaide lahendab kutsekomisjon (Kutse: /appeals).\n\n\
             {who} lodged an appeal ({}) on application {} for {q}. The committee resolves it.\n\nKutse",
            e.against, e.application_id, e.reasons, e.against, e.application_id
        ),
    }
}

/// The committee's resolution of an appeal, to the applicant.
pub fn appeal_resolved(e: &AppealResolved) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    let reasons = &e.reasons;
    let upheld = e.outcome == "upheld";
    if english(e.applicant.language) {
        let what = if upheld {
            "upheld your appeal: your application is assessed again, and you will be told the new decision"
        } else {
            "dismissed your appeal"
        };
        Rendered {
            subject: format!("Your appeal has been resolved: {q}"),
            body: format!(
                "Dear {name},\n\nthe qualification committee {what}.\nReasons: {reasons}\n\nKutse"
            ),
        }
    } else {
        let what = if upheld {
            "rahuldas Teie vaide: Teie taotlust hinnatakse uuesti ja uuest otsusest teatatakse Teile"
        } else {
            "jättis Teie vaide rahuldamata"
        };
        Rendered {
            subject: format!("Teie vaie on lahendatud: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nkutsekomisjon {what}.\nPõhjendus: {reasons}\n\nKutse"
            ),
        }
    }
}

/// The daily digest of a body's overdue clocks, to its desk: Estonian, with English beneath
/// (the desk's language is not known).
pub fn overdue_digest(e: &OverdueDigest) -> Rendered {
    let clock = |c: &str| match c {
        "review" => "hindamine / review",
        "decision" => "otsus kutsekomisjonile / decision to the committee",
        _ => "otsusest teatamine / telling the applicant",
    };
    let lines: Vec<String> = e
        .items
        .iter()
        .map(|i| {
            format!(
                "- {} · {} · {} · {}: {}",
                i.due.format("%d.%m.%Y"),
                clock(&i.clock),
                i.applicant_name,
                i.qualification,
                i.application_id
            )
        })
        .collect();
    let n = e.items.len();
    let day = e.day.format("%d.%m.%Y");
    Rendered {
        subject: format!("Tähtaja ületanud taotlused: {n} ({day}) / Overdue applications: {n}"),
        body: format!(
            "Tere\n\njärgmised taotluste menetlustähtajad on {day} seisuga ületatud \
             (tähtaeg · mis · taotleja · kutse: taotlus):\n\n{}\n\n\
             These assessment deadlines are overdue as of {day} (due · what · applicant · qualification: \
             application).\n\nKutse",
            lines.join("\n")
        ),
    }
}

/// The assessment panel asks for more documents.
pub fn documents_requested(e: &DocumentsRequested) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    let list: Vec<String> = e
        .documents
        .iter()
        .map(|d| format!("- {} ({})", d.description, d.document_type.as_str()))
        .collect();
    let list = list.join("\n");
    let due = e.due_on.format("%d.%m.%Y");
    let reason = &e.reason;
    let id = e.application_id;
    if english(e.applicant.language) {
        Rendered {
            subject: format!("More documents needed for your application: {q}"),
            body: format!(
                "Dear {name},\n\nthe assessment panel needs more documents to assess your application for {q} ({id}):\n\n\
                 {list}\n\nWhy: {reason}\n\nPlease upload them to your application by {due}. The assessment period is extended \
                 by the working days until they arrive.\n\nKutse"
            ),
        }
    } else {
        Rendered {
            subject: format!("Taotluse hindamiseks on vaja lisadokumente: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nhindamiskomisjon vajab Teie taotluse ({q}, {id}) hindamiseks lisadokumente:\n\n\
                 {list}\n\nPõhjus: {reason}\n\nPalun laadige need taotluse juurde üles hiljemalt {due}. Hindamise tähtaeg \
                 pikeneb dokumentide saabumiseni kulunud tööpäevade võrra.\n\nKutse"
            ),
        }
    }
}

/// The certificate was revoked, suspended or reinstated.
pub fn status_changed(e: &CertificateStatusChanged) -> Rendered {
    let name = &e.holder.given_name;
    let q = &e.qualification.name;
    let n = &e.register_number;
    let reason = &e.reason;
    let url = &e.verification_url;
    if english(e.holder.language) {
        let (subject, what) = match e.action.as_str() {
            "revoked" => ("revoked", "has been revoked and is no longer valid"),
            "suspended" => (
                "suspended",
                "has been suspended; it is not valid while suspended",
            ),
            _ => ("reinstated", "has been reinstated and is valid again"),
        };
        let by = if e.changed_by == "authority" {
            "the Qualifications Authority"
        } else {
            "the awarding body"
        };
        Rendered {
            subject: format!("Certificate {n} {subject}: {q}"),
            body: format!(
                "Dear {name},\n\nyour certificate {n} ({q}) {what}.\nDecided by {by} on {}.\nReason: {reason}\n\n\
                 The certificate's status can be checked at:\n{url}\n\nKutse",
                kutse_domain::tallinn_date(e.changed_at)
            ),
        }
    } else {
        let (subject, what) = match e.action.as_str() {
            "revoked" => (
                "kehtetuks tunnistatud",
                "on kehtetuks tunnistatud ega kehti enam",
            ),
            "suspended" => (
                "peatatud",
                "kehtivus on peatatud; peatamise ajal see ei kehti",
            ),
            _ => ("taastatud", "kehtivus on taastatud"),
        };
        let by = if e.changed_by == "authority" {
            "Kutsekoda"
        } else {
            "kutse andja"
        };
        Rendered {
            subject: format!("Kutsetunnistus {n} {subject}: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nTeie kutsetunnistuse {n} ({q}) {what}.\nOtsustas {by} {}.\nPõhjus: {reason}\n\n\
                 Kutsetunnistuse kehtivust saab kontrollida aadressil:\n{url}\n\nKutse",
                kutse_domain::tallinn_date(e.changed_at)
            ),
        }
    }
}

/// The application was refused, with the reasons.
pub fn refused(e: &ApplicationRefused) -> Rendered {
    let name = &e.applicant.given_name;
    let q = &e.qualification.name;
    let missing: Vec<String> = e
        .competences_not_accepted
        .iter()
        .map(|c| format!("  - {} {}", c.code, c.name))
        .collect();
    if english(e.applicant.language) {
        Rendered {
            subject: format!("Decision on your application for {q}"),
            body: format!(
                "Dear {name},\n\nthe qualification committee decided not to award you the qualification {q}.\n\n\
                 Reasons:\n{}\n\nCompetences still to be proven:\n{}\n\nYou may contest the decision under the \
                 Administrative Procedure Act.\n\nKutse",
                e.justification,
                missing.join("\n")
            ),
        }
    } else {
        Rendered {
            subject: format!("Otsus Teie taotluse kohta: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nkutsekomisjon otsustas jätta Teile kutse {q} andmata.\n\n\
                 Põhjendus:\n{}\n\nVeel tõendamata kompetentsid:\n{}\n\nOtsuse saab vaidlustada haldusmenetluse \
                 seaduses sätestatud korras.\n\nKutse",
                e.justification,
                missing.join("\n")
            ),
        }
    }
}

/// The assessment panel's decision (the decision notice the procedure requires within 14
/// calendar days): each competence accepted or not, with the justification, and the panel's
/// recommendations. The committee's award or refusal follows in its own e-mail.
pub fn decision(
    applicant: &ApplicantRef,
    q: &QualificationRef,
    competences: &[CompetenceRef],
    e: &AssessmentDecided,
) -> Rendered {
    let name = &applicant.given_name;
    let q = &q.name;
    let en = english(applicant.language);
    let named = |code: &str| {
        competences
            .iter()
            .find(|c| c.code == code)
            .map_or_else(|| code.to_owned(), |c| format!("{} {}", c.code, c.name))
    };
    let lines: Vec<String> = e
        .decisions
        .iter()
        .map(|d| {
            let verdict = match (d.accepted, en) {
                (true, true) => "accepted",
                (false, true) => "not accepted",
                (true, false) => "arvestatud",
                (false, false) => "arvestamata",
            };
            let evidence = match (d.evidence.len(), en) {
                (0, _) => String::new(),
                (n, true) => format!(
                    " (evidence: {n} document(s) of your application: {})",
                    ids(&d.evidence)
                ),
                (n, false) => format!(
                    " (tõendid: {n} Teie taotluse dokument(i): {})",
                    ids(&d.evidence)
                ),
            };
            format!(
                "  - {}: {verdict}. {}{evidence}",
                named(&d.code),
                d.justification
            )
        })
        .collect();
    let still: Vec<String> = e
        .decisions
        .iter()
        .filter(|d| !d.accepted)
        .map(|d| format!("  - {}", named(&d.code)))
        .collect();
    let recommendations = e.recommendations.as_deref().unwrap_or("-");
    let number = e.decision_number.as_deref().unwrap_or("-");
    let date = kutse_domain::tallinn_date(e.decided_at).format("%d.%m.%Y");
    if en {
        let still = if still.is_empty() {
            String::new()
        } else {
            format!("\n\nCompetences still to be proven:\n{}", still.join("\n"))
        };
        Rendered {
            subject: format!("The assessment panel's decision {number}: {q}"),
            body: format!(
                "Dear {name},\n\nthe assessment panel has decided on your application for the qualification {q}.\n\
                 Decision {number} of {date}.\n\nCompetences:\n{}{still}\n\nRecommendations: {recommendations}\n\n\
                 The qualification committee decides on awarding the qualification next; you will be told its decision. \
                 You may contest this decision within 30 days of receiving it.\n\nKutse",
                lines.join("\n")
            ),
        }
    } else {
        let still = if still.is_empty() {
            String::new()
        } else {
            format!(
                "\n\nVeel tõendamist vajavad kompetentsid:\n{}",
                still.join("\n")
            )
        };
        Rendered {
            subject: format!("Hindamiskomisjoni otsus {number}: {q}"),
            body: format!(
                "Lugupeetud {name}\n\nhindamiskomisjon on teinud otsuse Teie taotluse kohta kutsele {q}.\n\
                 Otsus {number}, {date}.\n\nKompetentsid:\n{}{still}\n\nSoovitused: {recommendations}\n\n\
                 Kutse andmise üle otsustab järgmisena kutsekomisjon; selle otsusest teatatakse Teile. \
                 Otsuse peale võib esitada vaide 30 päeva jooksul selle kättesaamisest.\n\nKutse",
                lines.join("\n")
            ),
        }
    }
}

/// Document ids, as the application's document list shows them.
fn ids(documents: &[uuid::Uuid]) -> String {
    documents
        .iter()
        .map(uuid::Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
