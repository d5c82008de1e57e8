//! The messages assessment consumes, one file each:
//! - [`application_submitted`]: an assessment case opens, with its review due date.

mod application_submitted;

use kutse_messaging::Dispatcher;
use kutse_messaging::catalogue::ApplicationSubmitted;

/// Working days the panel has after the round's deadline (DOMAIN.md, step 3).
pub const REVIEW_WORKING_DAYS: u32 = 10;

/// What assessment's handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct AssessmentHandler;

/// Every message assessment handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<AssessmentHandler> {
    Dispatcher::new(AssessmentHandler).on::<ApplicationSubmitted>()
}
