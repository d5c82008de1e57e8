//! The messages assessment consumes, one file each:
//! - [`application_submitted`]: an assessment case opens, with its review due date;
//! - [`document_stored`]: the application's documents, and those answering a request;
//! - [`notice_sent`]: the applicant was told the decision;
//! - [`appeals`]: the committee's refusal (an appeal period starts), an award (nothing left to
//!   contest), an appeal's resolution.

mod appeals;
mod application_submitted;
mod document_stored;
mod notice_sent;

use kutse_messaging::Dispatcher;
use kutse_messaging::catalogue::{
    AppealResolved, ApplicationRefused, ApplicationSubmitted, CertificateIssued, DocumentStored,
    NoticeSent,
};

/// What assessment's handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct AssessmentHandler;

/// Every message assessment handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<AssessmentHandler> {
    Dispatcher::new(AssessmentHandler)
        .on::<ApplicationSubmitted>()
        .on::<DocumentStored>()
        .on::<NoticeSent>()
        .on::<ApplicationRefused>()
        .on::<AppealResolved>()
        .on::<CertificateIssued>()
}
