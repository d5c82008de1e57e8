//! The e-mails, in Estonian and English: minijinja templates under `templates/`, compiled into
//! the binary, each mail sent as plain text and HTML in one message.
//!
//! A notice is one template per language, `<kind>.<lang>.txt` (notices to a body's desk, whose
//! language is not known, are one bilingual `<kind>.txt`), with two blocks: `subject` and
//! `body`. The body is written once, as plain text in a small convention — paragraphs separated
//! by a blank line, list items starting with `- ` — and rendered twice:
//! - as it is, for the `text/plain` part;
//! - with HTML escaping of every value, then laid out by `layout.html` (paragraphs, lists, links)
//!   for the `text/html` part.
//!
//! So the wording lives in one place per language, and a value (a reason, a name) can never
//! inject markup. The functions here turn an event into the template's context: dates as the
//! reader writes them (`dd.mm.yyyy`), names rather than codes. `kutse-mail-preview` renders every
//! template with [`crate::samples`], and the snapshot tests hold their output.

use std::sync::LazyLock;

use kutse_domain::Language;
use kutse_messaging::catalogue::{
    AppealLodged, AppealResolved, ApplicantRef, ApplicationRefused, ApplicationSubmitted,
    AssessmentDecided, CertificateExpiring, CertificateRendered, CertificateStatusChanged,
    CompetenceRef, DocumentsRequested, ExamRegistered, OverdueDigest, QualificationRef,
    QuestionAnswered, QuestionAsked,
};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};

/// A rendered e-mail: its subject, and its body as plain text and as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that failed to render (a programming error: every template is rendered by the
/// snapshot tests). The message that needed it is parked with this reason.
#[derive(Debug, thiserror::Error)]
#[error("e-mail template {template}: {source}")]
pub struct TemplateError {
    template: String,
    #[source]
    source: minijinja::Error,
}

impl From<TemplateError> for kutse_messaging::HandlerError {
    fn from(e: TemplateError) -> Self {
        kutse_messaging::HandlerError::Permanent(e.to_string())
    }
}

/// The templates of notices in both languages (`<kind>.et.txt`, `<kind>.en.txt`) and of the
/// bilingual ones to a desk (`<kind>.txt`), compiled in, by name (the file name without `.txt`).
macro_rules! templates {
    ($($kind:literal),* ; $($desk:literal),*) => {
        &[
            $(
                (concat!($kind, ".et"), include_str!(concat!("../templates/", $kind, ".et.txt"))),
                (concat!($kind, ".en"), include_str!(concat!("../templates/", $kind, ".en.txt"))),
            )*
            $(($desk, include_str!(concat!("../templates/", $desk, ".txt"))),)*
        ]
    };
}

/// Every template, by name.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "receipt",
    "receipt_awaiting_fee",
    "fee_confirmed",
    "documents_requested",
    "decision",
    "exam_registered",
    "certificate_issued",
    "certificate_duplicate",
    "refusal",
    "certificate_status",
    "certificate_expiring",
    "appeal_receipt",
    "appeal_resolved",
    "question_to_holder",
    "question_answered";
    "appeal_to_body",
    "overdue_digest",
    "question_received",
    "question_answered_desk"
];

const LAYOUT: &str = include_str!("../templates/layout.html");

/// The two environments: the same templates, rendered as text and with HTML escaping.
struct Engine {
    text: Environment<'static>,
    html: Environment<'static>,
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine {
    text: environment(false),
    html: environment(true),
});

fn environment(html: bool) -> Environment<'static> {
    let mut env = Environment::new();
    // A variable missing from the context is an error, not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(move |_| {
        if html {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    for (name, source) in TEMPLATES {
        // The sources are compiled in and parsed by the tests; a syntax error fails every test.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "e-mail template does not parse");
        }
    }
    if html && let Err(e) = env.add_template("layout.html", LAYOUT) {
        tracing::error!(error = %e, "e-mail layout does not parse");
    }
    env
}

/// Renders `kind`'s template in `language` (`<kind>.<lang>`).
fn localized(kind: &str, language: Language, ctx: Value) -> Result<Rendered, TemplateError> {
    render(&format!("{kind}.{}", language.as_str()), language, ctx)
}

/// Renders template `name` with `ctx`: its subject, its text, and its HTML laid out.
pub fn render(name: &str, language: Language, ctx: Value) -> Result<Rendered, TemplateError> {
    let failed = |source| TemplateError {
        template: name.to_owned(),
        source,
    };
    let engine = &*ENGINE;
    let mut text = engine
        .text
        .get_template(name)
        .and_then(|t| t.render_captured(&ctx))
        .map_err(failed)?;
    let subject = text
        .with_state_mut(|state| state.render_block("subject"))
        .map_err(failed)?
        .trim()
        .to_owned();
    let text = text
        .with_state_mut(|state| state.render_block("body"))
        .map_err(failed)?;
    let escaped = engine
        .html
        .get_template(name)
        .and_then(|t| t.render_captured(&ctx))
        .and_then(|mut captured| captured.with_state_mut(|state| state.render_block("body")))
        .map_err(failed)?;
    let html = engine
        .html
        .get_template("layout.html")
        .and_then(|layout| {
            layout.render(context! {
                lang => language.as_str(),
                subject => &subject,
                blocks => layout_blocks(&escaped, &links_in(&ctx)),
            })
        })
        .map_err(failed)?;
    Ok(Rendered {
        subject,
        text: format!("{}\n", text.trim_end()),
        html,
    })
}

/// The escaped body as the layout's blocks: paragraphs (lines kept) and lists (lines starting
/// with `- `), split at blank lines. The register's own addresses in the context
/// (`verification_url`) become links; an address inside a value someone typed (a question, a
/// reason) stays text, so no one can put a link into an official e-mail.
fn layout_blocks(escaped: &str, links: &[String]) -> Vec<Value> {
    escaped
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|block| {
            let lines: Vec<&str> = block.lines().map(str::trim).collect();
            let list = lines.iter().all(|l| l.starts_with("- "));
            let lines: Vec<Value> = lines
                .iter()
                .map(|l| {
                    let l = if list { &l[2..] } else { l };
                    Value::from_safe_string(linked(l, links))
                })
                .collect();
            context! { list => list, lines => lines }
        })
        .collect()
}

/// `line` (already escaped) with each of `links` (escaped as minijinja escapes) made a link.
fn linked(line: &str, links: &[String]) -> String {
    line.split(' ')
        .map(|word| {
            if links.iter().any(|link| link == word) {
                format!("<a href=\"{word}\">{word}</a>")
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The register's addresses in `ctx` that become links, escaped as they appear in the HTML.
fn links_in(ctx: &Value) -> Vec<String> {
    ["verification_url"]
        .iter()
        .filter_map(|key| ctx.get_attr(key).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        // Escaped as minijinja escapes values in the HTML body.
        .map(|url| minijinja::HtmlEscape(&url).to_string())
        .collect()
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

fn day_of(instant: chrono::DateTime<chrono::Utc>) -> String {
    date(kutse_domain::tallinn_date(instant))
}

/// The receipt for a submitted application whose fee the body had already confirmed (one mail:
/// received, and processing started).
pub fn receipt(e: &ApplicationSubmitted) -> Result<Rendered, TemplateError> {
    submission("receipt", e)
}

/// The receipt for an application submitted before its fee was confirmed: it waits for the fee.
pub fn receipt_awaiting_fee(e: &ApplicationSubmitted) -> Result<Rendered, TemplateError> {
    submission("receipt_awaiting_fee", e)
}

/// The fee was confirmed after the application was submitted: processing starts.
pub fn fee_confirmed(e: &ApplicationSubmitted) -> Result<Rendered, TemplateError> {
    submission("fee_confirmed", e)
}

fn submission(kind: &str, e: &ApplicationSubmitted) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    localized(
        kind,
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            application_id => e.application_id.to_string(),
            submitted_on => day_of(e.submitted_at),
            round_deadline => date(e.round_deadline),
        },
    )
}

/// The certificate has been issued (sent once its PDF is rendered, which is attached); or a
/// duplicate of it.
pub fn issued(e: &CertificateRendered) -> Result<Rendered, TemplateError> {
    let kind = if e.edition.is_some() {
        "certificate_duplicate"
    } else {
        "certificate_issued"
    };
    certificate(
        kind,
        &e.holder,
        &e.qualification,
        &e.register_number,
        e.valid_until,
        &e.verification_url,
    )
}

/// Six months before a certificate expires: when, and how to recertify.
pub fn expiring(e: &CertificateExpiring) -> Result<Rendered, TemplateError> {
    certificate(
        "certificate_expiring",
        &e.holder,
        &e.qualification,
        &e.register_number,
        e.valid_until,
        &e.verification_url,
    )
}

/// A notice about a certificate to its holder: its number, validity and where to verify it.
fn certificate(
    kind: &str,
    holder: &ApplicantRef,
    qualification: &QualificationRef,
    number: &str,
    valid_until: chrono::NaiveDate,
    verification_url: &str,
) -> Result<Rendered, TemplateError> {
    localized(
        kind,
        holder.language,
        context! {
            name => &holder.given_name,
            qualification => &qualification.name,
            number => number,
            valid_until => date(valid_until),
            verification_url => verification_url,
        },
    )
}

/// The applicant registered for an exam: when, where, what it assesses.
pub fn exam_registered(e: &ExamRegistered) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    let starts_at = e
        .starts_at
        .with_timezone(&kutse_domain::calendar::TIME_ZONE)
        .format("%d.%m.%Y %H:%M")
        .to_string();
    localized(
        "exam_registered",
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            starts_at => starts_at,
            place => &e.place,
            competences => &e.competences,
        },
    )
}

/// The applicant's receipt for an appeal.
pub fn appeal_receipt(e: &AppealLodged) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    localized(
        "appeal_receipt",
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            against => &e.against,
            application_id => e.application_id.to_string(),
            appeal_id => e.appeal_id.to_string(),
            lodged_on => day_of(e.lodged_at),
        },
    )
}

/// The body is told of an appeal, at its desk (Estonian, with English beneath).
pub fn appeal_to_body(e: &AppealLodged) -> Result<Rendered, TemplateError> {
    render(
        "appeal_to_body",
        Language::Et,
        context! {
            applicant => format!("{} {}", e.applicant.given_name, e.applicant.family_name),
            qualification => &e.qualification.name,
            against => &e.against,
            application_id => e.application_id.to_string(),
            reasons => &e.reasons,
        },
    )
}

/// The committee's resolution of an appeal, to the applicant.
pub fn appeal_resolved(e: &AppealResolved) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    localized(
        "appeal_resolved",
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            upheld => e.outcome == "upheld",
            reasons => &e.reasons,
        },
    )
}

/// The daily digest of a body's overdue clocks, to its desk: Estonian, with English beneath
/// (the desk's language is not known).
pub fn overdue_digest(e: &OverdueDigest) -> Result<Rendered, TemplateError> {
    let items: Vec<Value> = e
        .items
        .iter()
        .map(|i| {
            context! {
                due => date(i.due),
                clock => &i.clock,
                applicant_name => &i.applicant_name,
                qualification => &i.qualification,
                application_id => i.application_id.to_string(),
            }
        })
        .collect();
    render(
        "overdue_digest",
        Language::Et,
        context! { day => date(e.day), items => items },
    )
}

/// The assessment panel asks for more documents.
pub fn documents_requested(e: &DocumentsRequested) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    let documents: Vec<Value> = e
        .documents
        .iter()
        .map(|d| {
            context! { description => &d.description, document_type => d.document_type.as_str() }
        })
        .collect();
    localized(
        "documents_requested",
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            application_id => e.application_id.to_string(),
            documents => documents,
            reason => &e.reason,
            due_on => date(e.due_on),
        },
    )
}

/// The certificate was revoked, suspended or reinstated.
pub fn status_changed(e: &CertificateStatusChanged) -> Result<Rendered, TemplateError> {
    let language = e.holder.language;
    localized(
        "certificate_status",
        language,
        context! {
            name => &e.holder.given_name,
            qualification => &e.qualification.name,
            number => &e.register_number,
            action => &e.action,
            changed_by => &e.changed_by,
            changed_on => day_of(e.changed_at),
            reason => &e.reason,
            verification_url => &e.verification_url,
        },
    )
}

/// The application was refused: the reasons, what is still to be proven, and how to appeal.
pub fn refused(e: &ApplicationRefused) -> Result<Rendered, TemplateError> {
    let language = e.applicant.language;
    let competences: Vec<Value> = e
        .competences_not_accepted
        .iter()
        .map(|c| context! { code => &c.code, name => &c.name })
        .collect();
    localized(
        "refusal",
        language,
        context! {
            name => &e.applicant.given_name,
            qualification => &e.qualification.name,
            application_id => e.application_id.to_string(),
            justification => &e.justification,
            competences => competences,
        },
    )
}

/// The assessment panel's decision (the decision notice the procedure requires within 14
/// calendar days): each competence accepted or not, with the justification, and the panel's
/// recommendations. The committee's award or refusal follows in its own e-mail.
pub fn decision(
    applicant: &ApplicantRef,
    q: &QualificationRef,
    competences: &[CompetenceRef],
    e: &AssessmentDecided,
) -> Result<Rendered, TemplateError> {
    let language = applicant.language;
    let named_competence = |code: &str| {
        competences
            .iter()
            .find(|c| c.code == code)
            .map_or_else(|| code.to_owned(), |c| format!("{} {}", c.code, c.name))
    };
    let decisions: Vec<Value> = e
        .decisions
        .iter()
        .map(|d| {
            let evidence: Vec<String> = d.evidence.iter().map(uuid::Uuid::to_string).collect();
            context! {
                competence => named_competence(&d.code),
                accepted => &d.accepted,
                justification => &d.justification,
                evidence => evidence,
            }
        })
        .collect();
    let still: Vec<String> = e
        .decisions
        .iter()
        .filter(|d| !d.accepted)
        .map(|d| named_competence(&d.code))
        .collect();
    localized(
        "decision",
        language,
        context! {
            name => &applicant.given_name,
            qualification => &q.name,
            number => e.decision_number.as_deref().unwrap_or("-"),
            decided_on => day_of(e.decided_at),
            decisions => decisions,
            still => still,
            recommendations => e.recommendations.as_deref().unwrap_or("-"),
        },
    )
}

/// A question put to a body's or the authority's desk, asked or passed on (Estonian, with
/// English beneath).
pub fn question_received(e: &QuestionAsked) -> Result<Rendered, TemplateError> {
    render(
        "question_received",
        Language::Et,
        context! {
            asker => &e.from.name,
            number => &e.register_number,
            text => &e.text,
            question_id => e.question_id.to_string(),
            forwarded_by => &e.forwarded_by,
            note => &e.note,
        },
    )
}

/// The authority's question to a holder, in their language, with how to answer.
pub fn question_to_holder(e: &QuestionAsked) -> Result<Rendered, TemplateError> {
    let language = e.to.language;
    localized(
        "question_to_holder",
        language,
        context! {
            name => &e.to.name,
            asker => &e.from.name,
            text => &e.text,
            reply_to => e.from.email.as_ref().map_or("", |m| m.as_str()),
        },
    )
}

/// The answer, to whoever asked: a holder in their language, the authority's desk in both.
pub fn question_answered(e: &QuestionAnswered) -> Result<Rendered, TemplateError> {
    let ctx = context! {
        name => &e.to.name,
        number => &e.register_number,
        answered_by => &e.from.name,
        question => &e.question,
        answer => &e.answer,
        question_id => e.question_id.to_string(),
    };
    if e.to.kind == "holder" {
        localized("question_answered", e.to.language, ctx)
    } else {
        render("question_answered_desk", Language::Et, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_html_and_kept_in_text() {
        let mut e = crate::samples::refusal(Language::En);
        e.justification = "<script>alert(1)</script> & more".to_owned();
        let mail = refused(&e).expect("renders");
        assert!(mail.text.contains("<script>alert(1)</script> & more"));
        assert!(!mail.html.contains("<script>"));
        assert!(
            mail.html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; more")
        );
    }

    #[test]
    fn paragraphs_lists_and_links_are_laid_out() {
        let mail = issued(&crate::samples::rendered(Language::Et, None)).expect("renders");
        assert!(mail.html.starts_with("<!DOCTYPE html>"));
        assert!(mail.html.contains("<html lang=\"et\">"));
        assert!(
            mail.html
                .contains("<a href=\"https:&#x2f;&#x2f;kutse.example.ee&#x2f;verify")
        );
        let refusal = refused(&crate::samples::refusal(Language::Et)).expect("renders");
        assert!(refusal.html.contains("<ul>\n<li>"));
    }

    #[test]
    fn an_address_someone_typed_stays_text_and_the_registers_own_is_a_link() {
        let mut e = crate::samples::refusal(Language::En);
        e.justification = "see https://evil.example/login".to_owned();
        let mail = refused(&e).expect("renders");
        assert!(!mail.html.contains("<a "), "{}", mail.html);
        let issued = issued(&crate::samples::rendered(Language::En, None)).expect("renders");
        assert_eq!(
            issued.html.matches("<a href=").count(),
            1,
            "{}",
            issued.html
        );
    }

    #[test]
    fn a_missing_value_is_an_error_not_an_empty_string() {
        let error = render("receipt.et", Language::Et, context! { name => "Mari" })
            .expect_err("a missing value");
        assert!(error.to_string().contains("receipt.et"), "{error}");
    }
}
