//! The notifications' rules, apart from SMTP and SQL: which notices there are, and how a mail
//! that could not be sent is tried again.
//!
//! A notice is queued once per event and kind (a redelivered event queues nothing more), and sent
//! at least once: tried up to [`MAX_ATTEMPTS`] times, waiting longer after each failure, and then
//! — or at once, when the mail server refuses it for good — parked with the reason.

use std::time::Duration;

/// The notices an applicant receives; the kind is stored with each mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The application was submitted (with its fee confirmed: processing starts).
    Receipt,
    /// The application was submitted; it waits for the body to confirm the fee.
    ReceiptAwaitingFee,
    /// The fee of an application waiting for it was confirmed: processing starts.
    FeeConfirmed,
    /// The assessment panel decided.
    Decision,
    /// The certificate was issued into the register.
    Certificate,
    /// The committee refused the application.
    Refusal,
    /// The certificate was revoked, suspended or reinstated.
    CertificateStatus,
    /// The panel asked for more documents.
    DocumentsRequested,
    /// A body's daily digest of overdue clocks.
    OverdueDigest,
    /// An appeal registered (to the applicant).
    AppealReceipt,
    /// An appeal registered (to the body's desk).
    AppealToBody,
    /// An appeal resolved (to the applicant).
    AppealResolved,
    /// Registered for an exam.
    ExamRegistered,
    /// The certificate expires within six months.
    Expiring,
    /// A question to a body's or the authority's desk.
    QuestionReceived,
    /// A question passed on to a desk.
    QuestionForwarded,
    /// The authority's question to a holder.
    QuestionToHolder,
    /// An answer, to whoever asked.
    QuestionAnswered,
}

impl MailKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::ReceiptAwaitingFee => "receipt_awaiting_fee",
            Self::FeeConfirmed => "fee_confirmed",
            Self::Decision => "decision",
            Self::Certificate => "certificate_issued",
            Self::Refusal => "refusal",
            Self::CertificateStatus => "certificate_status",
            Self::DocumentsRequested => "documents_requested",
            Self::OverdueDigest => "overdue_digest",
            Self::AppealReceipt => "appeal_receipt",
            Self::AppealToBody => "appeal_to_body",
            Self::AppealResolved => "appeal_resolved",
            Self::ExamRegistered => "exam_registered",
            Self::Expiring => "certificate_expiring",
            Self::QuestionReceived => "question_received",
            Self::QuestionForwarded => "question_forwarded",
            Self::QuestionToHolder => "question_to_holder",
            Self::QuestionAnswered => "question_answered",
        }
    }
}

/// A file sent with a mail: fetched from `url` when the mail is sent and checked against
/// `sha256` (hex) — a mismatch is never sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub url: String,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
}

/// The largest attachment fetched (a certificate's PDF is tens of kilobytes).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Tries per mail before it is parked.
pub const MAX_ATTEMPTS: i32 = 8;

/// What follows a failed send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterFailure {
    /// Try again after this long.
    RetryIn(Duration),
    /// Park the mail: the server refused it for good, or every try failed.
    GiveUp,
}

/// What follows the `attempts`-th failed try (counting from 1); `permanent` when the mail server
/// refused the mail itself (a bad address) rather than failing for now. The wait doubles from
/// 10 s: 10 s, 20 s, 40 s, … about 21 minutes before the eighth and last try.
pub fn after_failure(attempts: i32, permanent: bool) -> AfterFailure {
    if permanent || attempts >= MAX_ATTEMPTS {
        return AfterFailure::GiveUp;
    }
    let doublings = attempts.clamp(1, 12);
    AfterFailure::RetryIn(Duration::from_secs(5 << doublings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_failure_waits_longer_each_time() {
        let waits: Vec<_> = (1..MAX_ATTEMPTS)
            .map(|n| match after_failure(n, false) {
                AfterFailure::RetryIn(d) => d.as_secs(),
                AfterFailure::GiveUp => panic!("gave up after {n}"),
            })
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640]);
    }

    #[test]
    fn the_last_try_or_a_refusal_parks_the_mail() {
        assert_eq!(after_failure(MAX_ATTEMPTS, false), AfterFailure::GiveUp);
        assert_eq!(after_failure(MAX_ATTEMPTS + 3, false), AfterFailure::GiveUp);
        assert_eq!(after_failure(1, true), AfterFailure::GiveUp);
    }

    #[test]
    fn kinds_have_stable_names() {
        let names = [
            MailKind::Receipt,
            MailKind::Decision,
            MailKind::Certificate,
            MailKind::Refusal,
        ]
        .map(MailKind::as_str);
        assert_eq!(
            names,
            ["receipt", "decision", "certificate_issued", "refusal"]
        );
    }
}
