//! The messages assessment consumes, one file each:
//! - [`application_submitted`]: an assessment case opens, with its review due date;
//! - [`document_stored`]: a document answering a request for more documents.

mod application_submitted;
mod document_stored;

use kutse_messaging::Dispatcher;
use kutse_messaging::catalogue::{ApplicationSubmitted, DocumentStored};

/// What assessment's handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct AssessmentHandler;

/// Every message assessment handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<AssessmentHandler> {
    Dispatcher::new(AssessmentHandler)
        .on::<ApplicationSubmitted>()
        .on::<DocumentStored>()
}
