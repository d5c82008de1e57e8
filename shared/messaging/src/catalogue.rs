//! Every message type Kutse services exchange: its routing key, schema version, producer,
//! consumers and payload. This is the one place they are declared; `docs/asyncapi.yaml` documents
//! them for outside publishers, and a test keeps the two in step.
//!
//! Routing keys are the message types (`application.submitted`) on the topic exchange
//! `kutse.events`. A payload changes compatibly (new optional fields) within a schema version; an
//! incompatible change is a new version, and consumers park versions they do not know.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kutse_domain::{
    ApplicationKind, DeliveryOption, DocumentType, DuplicateReason, Dvvk, Email, FileKind,
    Isikukood, Language,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Message;

/// Message types that carry the same object under a type of their own — one per producer, so
/// the broker lets each publish only its own, or one per meaning of the same facts. Each is
/// `#[serde(transparent)]` over `$inner` (on the wire, the same object), version 1.
macro_rules! wrapped_messages {
    ($inner:ident: $($(#[$meta:meta])* $name:ident => $type:literal),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl Message for $name {
            const TYPE: &'static str = $type;
            const VERSION: u16 = 1;
        }

        impl From<$inner> for $name {
            fn from(inner: $inner) -> Self {
                Self(inner)
            }
        }
    )+};
}

/// The six services, by the names used in queue names and `app_id`.
pub mod services {
    pub const INTAKE: &str = "intake";
    pub const DOCUMENTS: &str = "documents";
    pub const ASSESSMENT: &str = "assessment";
    pub const COMMITTEE: &str = "committee";
    pub const CERTIFICATES: &str = "certificates";
    pub const NOTIFICATIONS: &str = "notifications";
    pub const ALL: [&str; 6] = [
        INTAKE,
        DOCUMENTS,
        ASSESSMENT,
        COMMITTEE,
        CERTIFICATES,
        NOTIFICATIONS,
    ];
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSpec {
    /// Type and routing key.
    pub message_type: &'static str,
    pub version: u16,
    /// The service that publishes it; `outside` for messages outside systems may publish too.
    pub producer: &'static str,
    /// The services whose queues bind to it.
    pub consumers: &'static [&'static str],
    pub summary: &'static str,
}

/// Every message type.
pub const CATALOGUE: &[MessageSpec] = &[
    MessageSpec {
        message_type: ApplicationSubmitted::TYPE,
        version: ApplicationSubmitted::VERSION,
        producer: services::INTAKE,
        consumers: &[
            services::DOCUMENTS,
            services::ASSESSMENT,
            services::COMMITTEE,
            services::CERTIFICATES,
            services::NOTIFICATIONS,
        ],
        summary: "An applicant submitted an application with its fee confirmed; documents stops taking uploads to it, assessment opens a case, certificates starts assembling the certificate's data, the applicant gets a receipt.",
    },
    MessageSpec {
        message_type: ApplicationAwaitingFee::TYPE,
        version: ApplicationAwaitingFee::VERSION,
        producer: services::INTAKE,
        consumers: &[services::NOTIFICATIONS],
        summary: "An applicant submitted an application before the awarding body confirmed its fee; it waits in awaiting_fee (nothing is processed) and the applicant gets a receipt saying so. application.submitted follows when the fee is confirmed.",
    },
    MessageSpec {
        message_type: ApplicationCreated::TYPE,
        version: ApplicationCreated::VERSION,
        producer: services::INTAKE,
        consumers: &[services::DOCUMENTS],
        summary: "An applicant started an application; documents may now be uploaded to it by its applicant.",
    },
    MessageSpec {
        message_type: DocumentStored::TYPE,
        version: DocumentStored::VERSION,
        producer: services::DOCUMENTS,
        consumers: &[services::INTAKE, services::ASSESSMENT],
        summary: "A document was uploaded to an application, stored in S3, checksummed and scanned clean by the virus scanner.",
    },
    MessageSpec {
        message_type: DocumentQuarantined::TYPE,
        version: DocumentQuarantined::VERSION,
        producer: services::DOCUMENTS,
        consumers: &[services::INTAKE],
        summary: "A virus scan found an uploaded document infected; it is quarantined, never shown to the panel, and the application's history says so.",
    },
    MessageSpec {
        message_type: AssessmentDecided::TYPE,
        version: AssessmentDecided::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[
            services::INTAKE,
            services::COMMITTEE,
            services::CERTIFICATES,
            services::NOTIFICATIONS,
        ],
        summary: "The assessment panel decided every competence applied for (numbered, with the evidence each decision rests on); the application goes on the committee's agenda, the applicant is sent the decision notice and sees it in the application's history.",
    },
    MessageSpec {
        message_type: DocumentsRequested::TYPE,
        version: DocumentsRequested::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[
            services::DOCUMENTS,
            services::INTAKE,
            services::NOTIFICATIONS,
        ],
        summary: "An assessor asked the applicant for named documents, with a reason and a due day; documents accepts uploads of those types to the submitted application until the request closes, intake shows it, the applicant is e-mailed.",
    },
    MessageSpec {
        message_type: RequestClosed::TYPE,
        version: RequestClosed::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::DOCUMENTS, services::INTAKE],
        summary: "A request for more documents closed (answered, or its due day passed); the review and decision periods are extended by the working days it was open.",
    },
    MessageSpec {
        message_type: OverdueDigest::TYPE,
        version: OverdueDigest::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::NOTIFICATIONS],
        summary: "The daily digest of a body's overdue assessment clocks, to its desk address: one per body and day, when anything is overdue.",
    },
    MessageSpec {
        message_type: AppealLodged::TYPE,
        version: AppealLodged::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[
            services::DOCUMENTS,
            services::INTAKE,
            services::COMMITTEE,
            services::NOTIFICATIONS,
        ],
        summary: "An applicant contested the panel's decision or the committee's outcome within 30 days of being told; documents takes uploads of type appeal to it until it is resolved, the committee resolves it, the body and the applicant are e-mailed, the application's history shows it.",
    },
    MessageSpec {
        message_type: AppealResolved::TYPE,
        version: AppealResolved::VERSION,
        producer: services::COMMITTEE,
        consumers: &[
            services::DOCUMENTS,
            services::INTAKE,
            services::ASSESSMENT,
            services::CERTIFICATES,
            services::NOTIFICATIONS,
        ],
        summary: "The committee resolved an appeal: upheld (the case reopens for assessment; a refusal may be followed by a protocol that awards) or dismissed (the reasons are sent).",
    },
    MessageSpec {
        message_type: ExamRegistered::TYPE,
        version: ExamRegistered::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::NOTIFICATIONS],
        summary: "An applicant registered for an exam event of their round (within its capacity); they are e-mailed when and where.",
    },
    MessageSpec {
        message_type: NoticeSent::TYPE,
        version: NoticeSent::VERSION,
        producer: services::NOTIFICATIONS,
        consumers: &[services::ASSESSMENT],
        summary: "A notice the law puts a clock on (the panel's decision) was accepted by the mail server: the applicant has been told, on this day.",
    },
    MessageSpec {
        message_type: AssessmentOverdue::TYPE,
        version: AssessmentOverdue::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::INTAKE],
        summary: "The daily sweep found a case past one of its clocks (the review, the decision to the committee, or telling the applicant the decision); raised once per case, clock and due day.",
    },
    MessageSpec {
        message_type: ProtocolSigned::TYPE,
        version: ProtocolSigned::VERSION,
        producer: services::COMMITTEE,
        consumers: &[services::CERTIFICATES],
        summary: "The committee chair signed a protocol (JWS, EdDSA, over RFC 8785 canonical JSON). Certificates verifies it and issues every awarded certificate. Outside pipelines may publish it too.",
    },
    MessageSpec {
        message_type: ProtocolAccepted::TYPE,
        version: ProtocolAccepted::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::COMMITTEE],
        summary: "The register verified a signed protocol and applied it: the register numbers it issued (or had issued before) and the applications it refused. Caused by (causation id) the protocol.signed message; pipelines may bind a queue of their own to it.",
    },
    MessageSpec {
        message_type: ProtocolRejected::TYPE,
        version: ProtocolRejected::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::COMMITTEE],
        summary: "The register refused a signed protocol and applied nothing of it; the reason says why. Caused by (causation id) the protocol.signed message, which is parked.",
    },
    MessageSpec {
        message_type: SignerKeyActivated::TYPE,
        version: SignerKeyActivated::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::COMMITTEE],
        summary: "A committee chair's signer key became usable: registered by the authority, or proposed by the body's staff and confirmed by its owner.",
    },
    MessageSpec {
        message_type: SignerKeyRevoked::TYPE,
        version: SignerKeyRevoked::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::COMMITTEE],
        summary: "A signer key was revoked; protocols signed at or after its effective time issue nothing.",
    },
    MessageSpec {
        message_type: CertificateIssued::TYPE,
        version: CertificateIssued::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::INTAKE, services::ASSESSMENT],
        summary: "A certificate was issued into the register, sealed, and its Open Badges credential signed; its PDF follows (certificate.rendered). A recertification's certificate names the one it succeeds, which is superseded.",
    },
    MessageSpec {
        message_type: CertificateReissued::TYPE,
        version: CertificateReissued::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::INTAKE],
        summary: "A duplicate of a certificate was issued on the holder's paid application (the same certificate and register number, a new document marked as a duplicate, with the holder's new name if it changed); the earlier document is superseded and its PDF follows (certificate.rendered).",
    },
    MessageSpec {
        message_type: CertificateRendered::TYPE,
        version: CertificateRendered::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::NOTIFICATIONS],
        summary: "A certificate's PDF was rendered and stored; the holder is e-mailed the certificate with the PDF attached (fetched from the pre-signed URL and checked against its SHA-256).",
    },
    MessageSpec {
        message_type: CertificateExpiring::TYPE,
        version: CertificateExpiring::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::NOTIFICATIONS],
        summary: "A valid certificate expires within six months; its holder is e-mailed once, with how to recertify.",
    },
    MessageSpec {
        message_type: CertificateStatusChanged::TYPE,
        version: CertificateStatusChanged::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::INTAKE, services::NOTIFICATIONS],
        summary: "The authority or the issuing body revoked, suspended or reinstated a certificate, with a reason; the status lists and verification say so at once, the holder is e-mailed, and intake takes no duplicate or recertification of a revoked one.",
    },
    MessageSpec {
        message_type: ApplicationRefused::TYPE,
        version: ApplicationRefused::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[
            services::INTAKE,
            services::ASSESSMENT,
            services::NOTIFICATIONS,
        ],
        summary: "A signed protocol refused an application; the applicant is told why.",
    },
    MessageSpec {
        message_type: RoleAppointed::TYPE,
        version: RoleAppointed::VERSION,
        producer: services::INTAKE,
        consumers: &[services::COMMITTEE],
        summary: "A person was appointed to a role in the register (a body's administrator, staff, assessor, committee member or chair, a partner's person), with from/to dates.",
    },
    MessageSpec {
        message_type: RoleRemoved::TYPE,
        version: RoleRemoved::VERSION,
        producer: services::INTAKE,
        consumers: &[services::COMMITTEE],
        summary: "An appointment was ended before its time; the person no longer holds the role.",
    },
    MessageSpec {
        message_type: QuestionAsked::TYPE,
        version: QuestionAsked::VERSION,
        producer: services::INTAKE,
        consumers: &[services::NOTIFICATIONS],
        summary: "A question was put: a holder's about their certificate to its awarding body or the authority, or the authority's to a holder (one per holder of a question put to many); the recipient is e-mailed it, and it waits unanswered on their front page.",
    },
    MessageSpec {
        message_type: QuestionForwarded::TYPE,
        version: QuestionForwarded::VERSION,
        producer: services::INTAKE,
        consumers: &[services::NOTIFICATIONS],
        summary: "A question's recipient passed it to another awarding body or the authority; the new recipient is e-mailed it.",
    },
    MessageSpec {
        message_type: QuestionAnswered::TYPE,
        version: QuestionAnswered::VERSION,
        producer: services::INTAKE,
        consumers: &[services::NOTIFICATIONS],
        summary: "A question was answered; whoever asked it is e-mailed the answer.",
    },
    MessageSpec {
        message_type: DocumentsDataRead::TYPE,
        version: DocumentsDataRead::VERSION,
        producer: services::DOCUMENTS,
        consumers: &[services::INTAKE],
        summary: PERSONAL_DATA_READ,
    },
    MessageSpec {
        message_type: AssessmentDataRead::TYPE,
        version: AssessmentDataRead::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::INTAKE],
        summary: PERSONAL_DATA_READ,
    },
    MessageSpec {
        message_type: CommitteeDataRead::TYPE,
        version: CommitteeDataRead::VERSION,
        producer: services::COMMITTEE,
        consumers: &[services::INTAKE],
        summary: PERSONAL_DATA_READ,
    },
    MessageSpec {
        message_type: CertificatesDataRead::TYPE,
        version: CertificatesDataRead::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::INTAKE],
        summary: PERSONAL_DATA_READ,
    },
    MessageSpec {
        message_type: DocumentsExchange::TYPE,
        version: DocumentsExchange::VERSION,
        producer: services::DOCUMENTS,
        consumers: &[services::INTAKE],
        summary: DOCUMENT_EXCHANGE,
    },
    MessageSpec {
        message_type: AssessmentExchange::TYPE,
        version: AssessmentExchange::VERSION,
        producer: services::ASSESSMENT,
        consumers: &[services::INTAKE],
        summary: DOCUMENT_EXCHANGE,
    },
    MessageSpec {
        message_type: CertificatesExchange::TYPE,
        version: CertificatesExchange::VERSION,
        producer: services::CERTIFICATES,
        consumers: &[services::INTAKE],
        summary: DOCUMENT_EXCHANGE,
    },
    MessageSpec {
        message_type: NotificationsExchange::TYPE,
        version: NotificationsExchange::VERSION,
        producer: services::NOTIFICATIONS,
        consumers: &[services::INTAKE],
        summary: DOCUMENT_EXCHANGE,
    },
];

/// The catalogue's summary of every `document_exchange.*` type.
const DOCUMENT_EXCHANGE: &str = "An official document exchange with an outside party happened (an upload, an appeal lodged, a protocol received, a certificate downloaded by its holder, an e-mail sent), announced in the same transaction as the action; intake counts it once in the DVVK ledger under its channel code, for the state's report.";

const PERSONAL_DATA_READ: &str = "Someone other than the person read their personal data at the producing service (an application, a document, an assessment case, a certificate with its holder's code): who (role, body, name), what and when. Intake keeps them; the person lists them (the data tracker, GET /me/data-reads).";

/// Bindings a service's queue once had and no longer has: `(service, routing key)`. Declaring
/// the topology removes them from an existing broker (see `Topology::declare_all`).
pub const RETIRED_BINDINGS: &[(&str, &str)] = &[
    // Notifications mails the certificate on `certificate.rendered`, with its PDF.
    (services::NOTIFICATIONS, CertificateIssued::TYPE),
];

/// The routing keys a service's queue binds to.
pub fn bindings_for(service: &str) -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .filter(|spec| spec.consumers.contains(&service))
        .map(|spec| spec.message_type)
        .collect()
}

/// The catalogue entry of a message type.
pub fn spec(message_type: &str) -> Option<&'static MessageSpec> {
    CATALOGUE.iter().find(|s| s.message_type == message_type)
}

/// A qualification as messages refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationRef {
    pub id: Uuid,
    /// e.g. "Juuksur, tase 4".
    pub name: String,
    pub level: u8,
    /// A partial qualification (osakutse).
    #[serde(default)]
    pub partial: bool,
}

/// A competence of a qualification's occupational standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceRef {
    pub code: String,
    pub name: String,
}

/// The applicant as later steps need them: for the certificate and for e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantRef {
    pub isikukood: Isikukood,
    pub given_name: String,
    pub family_name: String,
    pub email: Email,
    /// The language of the e-mails.
    pub language: Language,
}

/// `application.submitted`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSubmitted {
    pub application_id: Uuid,
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    pub qualification: QualificationRef,
    pub kind: ApplicationKind,
    pub competences: Vec<CompetenceRef>,
    pub applicant: ApplicantRef,
    pub delivery_option: DeliveryOption,
    pub round_deadline: NaiveDate,
    pub submitted_at: DateTime<Utc>,
    pub dvvk: Dvvk,
    /// The awarding body's name, for the certificate. (Added within v1: absent from older
    /// messages.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarding_body_name: Option<String>,
    /// The awarding body's desk address, where its staff are e-mailed. (Added within v1.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarding_body_email: Option<Email>,
    /// The register number of the applicant's certificate the application names: the one a
    /// recertification renews, or the one a duplicate copies. (Added within v1.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_number: Option<String>,
    /// Why a duplicate is asked for (a duplicate only). With `name_changed`, `applicant` carries
    /// the new name, from the holder's own login. (Added within v1.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_reason: Option<DuplicateReason>,
}

impl Message for ApplicationSubmitted {
    const TYPE: &'static str = "application.submitted";
    const VERSION: u16 = 1;
}

wrapped_messages! {
    ApplicationSubmitted:
    /// `application.awaiting_fee`, v1: an application submitted before its fee was confirmed,
    /// with the same facts `application.submitted` carries.
    ApplicationAwaitingFee => "application.awaiting_fee",
}

/// `application.created`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationCreated {
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub applicant: Isikukood,
    /// The kinds of file the round accepts, per document type; a type not named takes what the
    /// documents service accepts. (Added within v1: absent means none named.)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed_types: BTreeMap<DocumentType, Vec<FileKind>>,
}

impl Message for ApplicationCreated {
    const TYPE: &'static str = "application.created";
    const VERSION: u16 = 1;
}

/// `document.stored`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentStored {
    pub document_id: Uuid,
    pub application_id: Uuid,
    pub owner: Isikukood,
    /// e.g. `cv`, `employment_proof`, `payment_proof`.
    pub document_type: DocumentType,
    pub sha256: String,
    pub size_bytes: i64,
    pub dvvk: Dvvk,
    /// When it was uploaded (it is announced later, once scanned). Added within v1: absent in
    /// older messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<DateTime<Utc>>,
    /// The request for more documents (or the appeal) the upload answers, when it was made to a
    /// submitted application under one. Added within v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Uuid>,
}

impl Message for DocumentStored {
    const TYPE: &'static str = "document.stored";
    const VERSION: u16 = 1;
}

/// A document the panel asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedDocument {
    pub document_type: DocumentType,
    /// What exactly is wanted, in the panel's words.
    pub description: String,
}

/// `assessment.documents_requested`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentsRequested {
    pub request_id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
    pub documents: Vec<RequestedDocument>,
    pub reason: String,
    /// The last day (in Tallinn) on which the documents are accepted against the request.
    pub due_on: NaiveDate,
    pub requested_at: DateTime<Utc>,
}

impl Message for DocumentsRequested {
    const TYPE: &'static str = "assessment.documents_requested";
    const VERSION: u16 = 1;
}

/// `assessment.request_closed`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestClosed {
    pub request_id: Uuid,
    pub application_id: Uuid,
    /// `answered` (every requested document arrived) or `expired` (its due day passed).
    pub outcome: String,
    pub closed_on: NaiveDate,
    /// Working days the request was open that no other request of the case had already covered:
    /// what it added to the review and decision periods.
    pub extension_working_days: u32,
    /// The periods as they now stand.
    pub review_due: NaiveDate,
    pub decision_due: NaiveDate,
}

impl Message for RequestClosed {
    const TYPE: &'static str = "assessment.request_closed";
    const VERSION: u16 = 1;
}

/// `appeal.lodged`, v1: an applicant contests a decision (vaie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealLodged {
    pub appeal_id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    /// `assessment` (the panel's decision) or `committee` (the committee's outcome).
    pub against: String,
    pub reasons: String,
    /// Documents of the application the appeal rests on (more may follow: uploads of type
    /// `appeal` while it is lodged, announced by `document.stored` with the appeal's id as
    /// `request_id`).
    #[serde(default)]
    pub documents: Vec<Uuid>,
    pub lodged_at: DateTime<Utc>,
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
    /// The body's desk address, to tell the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarding_body_email: Option<Email>,
}

impl Message for AppealLodged {
    const TYPE: &'static str = "appeal.lodged";
    const VERSION: u16 = 1;
}

/// `appeal.resolved`, v1: the committee's resolution of an appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealResolved {
    pub appeal_id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub against: String,
    /// `upheld` (the case reopens for assessment) or `dismissed`.
    pub outcome: String,
    pub reasons: String,
    pub resolved_at: DateTime<Utc>,
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
}

impl Message for AppealResolved {
    const TYPE: &'static str = "appeal.resolved";
    const VERSION: u16 = 1;
}

/// `exam.registered`, v1: an applicant registered for an exam event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamRegistered {
    pub exam_id: Uuid,
    pub application_id: Uuid,
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
    pub starts_at: DateTime<Utc>,
    pub place: String,
    /// The competences (codes) it assesses.
    pub competences: Vec<String>,
}

impl Message for ExamRegistered {
    const TYPE: &'static str = "exam.registered";
    const VERSION: u16 = 1;
}

/// `notice.sent`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSent {
    /// The message the notice told of (e.g. the `assessment.decided` message's id).
    pub cause_id: Uuid,
    pub application_id: Uuid,
    /// e.g. `decision`.
    pub kind: String,
    /// When the mail server accepted it.
    pub sent_at: DateTime<Utc>,
}

impl Message for NoticeSent {
    const TYPE: &'static str = "notice.sent";
    const VERSION: u16 = 1;
}

/// One overdue clock in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueItem {
    pub application_id: Uuid,
    pub applicant_name: String,
    pub qualification: String,
    /// `review`, `decision` or `notice`.
    pub clock: String,
    pub due: NaiveDate,
}

/// `assessment.overdue_digest`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueDigest {
    pub awarding_body_id: Uuid,
    /// The body's desk address.
    pub email: Email,
    /// The day (Tallinn) the digest is of: one per body and day.
    pub day: NaiveDate,
    pub items: Vec<OverdueItem>,
}

impl Message for OverdueDigest {
    const TYPE: &'static str = "assessment.overdue_digest";
    const VERSION: u16 = 1;
}

/// `assessment.overdue`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentOverdue {
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    /// `review` (the panel's review), `decision` (the decision to the committee) or `notice`
    /// (telling the applicant the decision).
    pub clock: String,
    pub due: NaiveDate,
    /// The day the sweep found it overdue.
    pub found_on: NaiveDate,
}

impl Message for AssessmentOverdue {
    const TYPE: &'static str = "assessment.overdue";
    const VERSION: u16 = 1;
}

/// The panel's decision on one competence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceDecision {
    pub code: String,
    pub accepted: bool,
    pub justification: String,
    /// The documents (ids) the decision rests on. Added within v1: absent means none named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Uuid>,
}

/// `assessment.decided`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentDecided {
    pub application_id: Uuid,
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    pub decisions: Vec<CompetenceDecision>,
    #[serde(default)]
    pub recommendations: Option<String>,
    /// Every competence applied for was accepted.
    pub all_accepted: bool,
    pub decided_at: DateTime<Utc>,
    /// 10 Estonian working days after the round's deadline.
    pub review_due: NaiveDate,
    /// The decision's number, e.g. `HK-2026-000042`. Added within v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_number: Option<String>,
    /// The last day by which the applicant must be told (14 calendar days). Added within v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_due: Option<NaiveDate>,
}

impl Message for AssessmentDecided {
    const TYPE: &'static str = "assessment.decided";
    const VERSION: u16 = 1;
}

/// `protocol.signed`, v1: the compact JWS of the protocol. Its payload (the protocol document) is
/// described in `docs/asyncapi.yaml`; it is trusted only after the signature verifies against a
/// registered signer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolSigned {
    pub jws: String,
}

impl Message for ProtocolSigned {
    const TYPE: &'static str = "protocol.signed";
    const VERSION: u16 = 1;
}

/// `certificate.issued`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateIssued {
    pub certificate_id: Uuid,
    pub register_number: String,
    pub application_id: Uuid,
    pub holder: ApplicantRef,
    pub qualification: QualificationRef,
    pub competences: Vec<CompetenceRef>,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub verification_url: String,
    /// The certificate this one succeeds (a recertification), which is now superseded. (Added
    /// within v1.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_of: Option<String>,
}

impl Message for CertificateIssued {
    const TYPE: &'static str = "certificate.issued";
    const VERSION: u16 = 1;
}

/// `certificate.reissued`, v1: a duplicate of a certificate, on the holder's application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateReissued {
    pub certificate_id: Uuid,
    pub register_number: String,
    /// The duplicate's application (not the one the certificate was awarded on).
    pub application_id: Uuid,
    /// The holder as the duplicate names them (the new name, when it changed).
    pub holder: ApplicantRef,
    pub reason: DuplicateReason,
    /// The document's edition: 1 is the original, 2 the first duplicate, and so on.
    pub edition: u32,
    pub reissued_on: NaiveDate,
    pub verification_url: String,
}

impl Message for CertificateReissued {
    const TYPE: &'static str = "certificate.reissued";
    const VERSION: u16 = 1;
}

/// The certificate's PDF as `certificate.rendered` points to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPdf {
    /// A pre-signed S3 URL, valid for [`RenderedPdf::expires_at`]: the object is read without
    /// credentials to the register's bucket.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 of the PDF, hex: whoever fetches it checks it.
    pub sha256: String,
    pub size_bytes: i64,
    /// e.g. `KT-2026-000001.pdf`.
    pub filename: String,
}

/// `certificate.rendered`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRendered {
    pub certificate_id: Uuid,
    pub register_number: String,
    pub application_id: Uuid,
    pub holder: ApplicantRef,
    pub qualification: QualificationRef,
    pub valid_until: NaiveDate,
    pub verification_url: String,
    pub pdf: RenderedPdf,
    /// The document's edition when it is a duplicate (2 and up); absent for the original.
    /// (Added within v1.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<u32>,
}

impl Message for CertificateRendered {
    const TYPE: &'static str = "certificate.rendered";
    const VERSION: u16 = 1;
}

/// `certificate.expiring`, v1: six months before a certificate expires (once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateExpiring {
    pub certificate_id: Uuid,
    pub register_number: String,
    pub holder: ApplicantRef,
    pub qualification: QualificationRef,
    pub awarding_body_id: Uuid,
    pub valid_until: NaiveDate,
    pub verification_url: String,
}

impl Message for CertificateExpiring {
    const TYPE: &'static str = "certificate.expiring";
    const VERSION: u16 = 1;
}

/// `certificate.status_changed`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatusChanged {
    pub certificate_id: Uuid,
    pub register_number: String,
    /// `revoked`, `suspended` or `reinstated`.
    pub action: String,
    /// The status afterwards: `revoked`, `suspended` or `valid`.
    pub status: String,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
    /// `authority` or `awarding_body`.
    pub changed_by: String,
    pub holder: ApplicantRef,
    pub qualification: QualificationRef,
    pub verification_url: String,
}

impl Message for CertificateStatusChanged {
    const TYPE: &'static str = "certificate.status_changed";
    const VERSION: u16 = 1;
}

/// `application.refused`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRefused {
    pub application_id: Uuid,
    pub protocol_id: Uuid,
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
    /// Why: the committee's reasons and the panel's justifications.
    pub justification: String,
    /// Competences still to be proven.
    pub competences_not_accepted: Vec<CompetenceRef>,
}

impl Message for ApplicationRefused {
    const TYPE: &'static str = "application.refused";
    const VERSION: u16 = 1;
}

/// Someone other than the person read the person's personal data: the data tracker's record
/// (andmejälgija). Each service that shows personal data announces its own reads under its own
/// type ([`DocumentsDataRead`], [`AssessmentDataRead`], [`CommitteeDataRead`],
/// [`CertificatesDataRead`]), so that the
/// broker lets each publish only its own; intake, which keeps them, records its own directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataRead {
    /// Unique per read: a redelivered announcement is recorded once.
    pub read_id: Uuid,
    /// Whose data was read.
    pub person: Isikukood,
    /// In which role the reader read it (`awarding_body_staff`, `assessor`, `authority`, …).
    pub reader_role: String,
    /// The awarding body the reader acted for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_body: Option<Uuid>,
    /// The partner organisation the reader acted for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_partner: Option<String>,
    /// The reader's name as their login gave it (never their personal code).
    pub reader_name: String,
    /// What was read: `application`, `applications list`, `document`, `assessment case`,
    /// `certificate`, `certificate PDF`.
    pub what: String,
    /// Its id or register number.
    pub resource: String,
    pub read_at: DateTime<Utc>,
}

wrapped_messages! {
    PersonalDataRead:
    /// `personal_data.read.documents`, v1: a document downloaded or inspected.
    DocumentsDataRead => "personal_data.read.documents",
    /// `personal_data.read.assessment`, v1: an assessment case read.
    AssessmentDataRead => "personal_data.read.assessment",
    /// `personal_data.read.committee`, v1: an appeal read (with the applicant's data) at the
    /// committee.
    CommitteeDataRead => "personal_data.read.committee",
    /// `personal_data.read.certificates`, v1: a certificate read with its holder's code.
    CertificatesDataRead => "personal_data.read.certificates",
}

/// An official document exchange with an outside party (DVS), counted once under its DVVK
/// channel code in intake's ledger (`GET /reports/dvvk`). Each service that exchanges documents
/// announces its own under its own type ([`DocumentsExchange`], [`AssessmentExchange`],
/// [`CertificatesExchange`], [`NotificationsExchange`]), in the transaction of the action it
/// counts; intake records its own directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentExchange {
    /// What moved: `document.uploaded`, `appeal.lodged`, `protocol.received`,
    /// `certificate.downloaded`, `mail.sent` (intake's own: `application.submitted`,
    /// `print.ordered`, `print.sent`, `question.asked`).
    pub action: String,
    /// The id of what moved (the document, the appeal, the protocol, the mail; a download's own
    /// id). With the service and the action it is unique: a repeated announcement counts once.
    pub reference: String,
    /// The channel.
    pub dvvk: Dvvk,
    pub occurred_at: DateTime<Utc>,
}

impl DocumentExchange {
    /// `action` moved the document `reference` through `dvvk`, now.
    pub fn now(action: &str, reference: impl ToString, dvvk: Dvvk) -> Self {
        Self {
            action: action.to_owned(),
            reference: reference.to_string(),
            dvvk,
            occurred_at: Utc::now(),
        }
    }
}

wrapped_messages! {
    DocumentExchange:
    /// `document_exchange.documents`, v1: a document uploaded (325).
    DocumentsExchange => "document_exchange.documents",
    /// `document_exchange.assessment`, v1: an appeal lodged through a portal (323).
    AssessmentExchange => "document_exchange.assessment",
    /// `document_exchange.certificates`, v1: a signed protocol received from a pipeline (324), a
    /// certificate's PDF downloaded by its holder (325).
    CertificatesExchange => "document_exchange.certificates",
    /// `document_exchange.notifications`, v1: an e-mail sent (321), once however many recipients.
    NotificationsExchange => "document_exchange.notifications",
}

/// A certificate a protocol led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedRef {
    pub application_id: Uuid,
    pub register_number: String,
}

/// `protocol.accepted`, v1: the outcome of a `protocol.signed` the register applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolAccepted {
    /// The id of the `protocol.signed` message (also this message's causation id).
    pub message_id: Uuid,
    pub protocol_id: Uuid,
    pub awarding_body_id: Uuid,
    pub session_id: Uuid,
    /// Every awarded application with its certificate's register number (issued now, or by an
    /// earlier delivery of the same decision).
    pub issued: Vec<IssuedRef>,
    /// The applications the protocol refused.
    pub refused: Vec<Uuid>,
}

impl Message for ProtocolAccepted {
    const TYPE: &'static str = "protocol.accepted";
    const VERSION: u16 = 1;
}

/// `protocol.rejected`, v1: a `protocol.signed` the register refused; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolRejected {
    /// The id of the `protocol.signed` message (also this message's causation id).
    pub message_id: Uuid,
    /// As read from the payload when it could be read — unverified if the signature was the
    /// problem.
    #[serde(default)]
    pub protocol_id: Option<Uuid>,
    #[serde(default)]
    pub awarding_body_id: Option<Uuid>,
    #[serde(default)]
    pub session_id: Option<Uuid>,
    pub reason: String,
}

impl Message for ProtocolRejected {
    const TYPE: &'static str = "protocol.rejected";
    const VERSION: u16 = 1;
}

/// `signer_key.activated`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerKeyActivated {
    pub kid: String,
    pub awarding_body_id: Uuid,
    /// The committee chair the key belongs to; only they may be a protocol's `chair` under it.
    pub owner: Isikukood,
    /// Ed25519, base64url.
    pub public_key: String,
    pub activated_at: DateTime<Utc>,
}

impl Message for SignerKeyActivated {
    const TYPE: &'static str = "signer_key.activated";
    const VERSION: u16 = 1;
}

/// `signer_key.revoked`, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerKeyRevoked {
    pub kid: String,
    pub awarding_body_id: Uuid,
    /// Protocols signed at or after this time under the key issue nothing.
    pub effective_at: DateTime<Utc>,
    pub reason: String,
}

impl Message for SignerKeyRevoked {
    const TYPE: &'static str = "signer_key.revoked";
    const VERSION: u16 = 1;
}

/// `document.quarantined`, v1: an upload the virus scan found infected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentQuarantined {
    pub document_id: Uuid,
    pub application_id: Uuid,
    pub document_type: DocumentType,
    /// What the scanner found, e.g. `Eicar-Test-Signature`.
    pub signature: String,
    pub quarantined_at: DateTime<Utc>,
}

impl Message for DocumentQuarantined {
    const TYPE: &'static str = "document.quarantined";
    const VERSION: u16 = 1;
}

/// `role.appointed`, v1: the role registry's appointments, for the services that keep a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAppointed {
    pub appointment_id: Uuid,
    pub person: Isikukood,
    /// `body_administrator`, `awarding_body_staff`, `assessor`, `committee_member`,
    /// `committee_chair` or `partner` (the authority's people are not announced).
    pub role: String,
    pub awarding_body_id: Uuid,
    /// The partner organisation's registry code, for the partner role.
    pub partner_code: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl Message for RoleAppointed {
    const TYPE: &'static str = "role.appointed";
    const VERSION: u16 = 1;
}

/// `role.removed`, v1: an appointment ended before its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRemoved {
    pub appointment_id: Uuid,
    pub person: Isikukood,
    pub role: String,
    pub awarding_body_id: Uuid,
    pub removed_at: DateTime<Utc>,
    pub reason: String,
}

impl Message for RoleRemoved {
    const TYPE: &'static str = "role.removed";
    const VERSION: u16 = 1;
}

/// One side of a question, as its e-mail needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionParty {
    /// `holder`, `awarding_body` or `authority`.
    pub kind: String,
    /// The holder's full name, the body's name, or the authority's.
    pub name: String,
    /// Where the mail goes; without one, no mail is sent (the question still waits on the front
    /// page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// A holder's language; a desk's mail is in Estonian with English beneath.
    pub language: Language,
}

/// `question.asked`, v1: a question put to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAsked {
    pub question_id: Uuid,
    /// The question put to many holders at once this is one of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Uuid>,
    /// The certificate asked about (a holder's question).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_number: Option<String>,
    pub from: QuestionParty,
    pub to: QuestionParty,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    /// Who passed it on, and their note (`question.forwarded` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Message for QuestionAsked {
    const TYPE: &'static str = "question.asked";
    const VERSION: u16 = 1;
}

wrapped_messages! {
    QuestionAsked:
    /// `question.forwarded`, v1: a question passed on to `to` (the `question.asked` object,
    /// with `forwarded_by`).
    QuestionForwarded => "question.forwarded",
}

/// `question.answered`, v1: `from` answered the question `to` asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswered {
    pub question_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_number: Option<String>,
    pub from: QuestionParty,
    pub to: QuestionParty,
    pub question: String,
    pub answer: String,
    pub answered_at: DateTime<Utc>,
}

impl Message for QuestionAnswered {
    const TYPE: &'static str = "question.answered";
    const VERSION: u16 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_type_is_declared_once_and_consumed() {
        let mut types: Vec<_> = CATALOGUE.iter().map(|s| s.message_type).collect();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), CATALOGUE.len());
        for spec in CATALOGUE {
            assert!(
                !spec.consumers.is_empty(),
                "{} has no consumer",
                spec.message_type
            );
            for consumer in spec.consumers {
                assert!(services::ALL.contains(consumer), "{consumer}");
            }
        }
    }

    #[test]
    fn certificates_binds_to_signed_protocols() {
        assert!(bindings_for(services::CERTIFICATES).contains(&"protocol.signed"));
        assert_eq!(
            bindings_for(services::DOCUMENTS),
            vec![
                "application.submitted",
                "application.created",
                "assessment.documents_requested",
                "assessment.request_closed",
                "appeal.lodged",
                "appeal.resolved"
            ]
        );
    }
}

#[cfg(test)]
mod documentation {
    use super::CATALOGUE;

    const MESSAGES_MD: &str = include_str!("../../../docs/messages.md");
    const ASYNCAPI: &str = include_str!("../../../docs/asyncapi.yaml");

    #[test]
    fn every_message_type_is_documented_for_outside_publishers() {
        for spec in CATALOGUE {
            let row = format!("| `{}` | {}", spec.message_type, spec.producer);
            assert!(
                MESSAGES_MD.lines().any(|l| l.starts_with(&row)),
                "docs/messages.md has no row for {} produced by {}",
                spec.message_type,
                spec.producer
            );
            assert!(
                ASYNCAPI.contains(&format!(
                    "  {}:\n    address: {}\n",
                    spec.message_type, spec.message_type
                )),
                "docs/asyncapi.yaml has no channel for {}",
                spec.message_type
            );
        }
    }
}
