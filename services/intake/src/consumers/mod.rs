//! The messages intake consumes, one file each:
//! - [`document_stored`]: a document uploaded to one of its applications (scanned clean);
//! - [`document_quarantined`]: an upload the virus scan found infected;
//! - [`certificate_issued`], [`application_refused`]: the outcome of the committee's protocol;
//! - [`certificates`]: a certificate's status changed, or a duplicate of it was issued;
//! - [`announced`]: the services' reads of a person's data by others (the data tracker) and their
//!   official document exchanges (the DVVK ledger);
//! - [`procedure`]: the panel's requests for more documents, their closing, overdue clocks,
//!   appeals (an upheld appeal of a refusal reopens the application);
//! - [`assessment_decided`]: the panel's decision notice.
//!
//! An outcome moves an application only along the state machine of
//! [`ApplicationStatus::may_become`]: the same outcome again is harmless, a contradicting one
//! (`certificate.issued` for a refused application, or the reverse) is parked and changes nothing.

mod announced;
mod application_refused;
mod assessment_decided;
mod certificate_issued;
mod certificates;
mod document_quarantined;
mod document_stored;
mod procedure;

use kutse_messaging::catalogue::{
    ApplicationRefused, AssessmentDecided, AssessmentOverdue, CertificateIssued,
    DocumentQuarantined, DocumentStored, DocumentsRequested, RequestClosed,
};
use kutse_messaging::{Dispatcher, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::ApplicationStatus;

/// What intake's handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct IntakeHandler;

/// Every message intake handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<IntakeHandler> {
    Dispatcher::new(IntakeHandler)
        .on::<DocumentStored>()
        .on::<DocumentQuarantined>()
        .on::<CertificateIssued>()
        .on::<ApplicationRefused>()
        .on::<DocumentsRequested>()
        .on::<RequestClosed>()
        .on::<AssessmentOverdue>()
        .on::<AssessmentDecided>()
        .on::<kutse_messaging::catalogue::AppealLodged>()
        .on::<kutse_messaging::catalogue::AppealResolved>()
        .on::<kutse_messaging::catalogue::CertificateStatusChanged>()
        .on::<kutse_messaging::catalogue::CertificateReissued>()
        .on::<kutse_messaging::catalogue::DocumentsDataRead>()
        .on::<kutse_messaging::catalogue::AssessmentDataRead>()
        .on::<kutse_messaging::catalogue::CommitteeDataRead>()
        .on::<kutse_messaging::catalogue::CertificatesDataRead>()
        .on::<kutse_messaging::catalogue::DocumentsExchange>()
        .on::<kutse_messaging::catalogue::AssessmentExchange>()
        .on::<kutse_messaging::catalogue::CertificatesExchange>()
        .on::<kutse_messaging::catalogue::NotificationsExchange>()
}

/// Records an outcome: moves the application to `status` (if the state machine allows it) and
/// adds `event` to its history.
pub(super) async fn outcome(
    conn: &mut PgConnection,
    application: Uuid,
    status: ApplicationStatus,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), HandlerError> {
    let Some(current) = db::applications::lock_status(conn, application).await? else {
        return Err(HandlerError::Permanent(format!(
            "no application {application}"
        )));
    };
    if current == status {
        tracing::info!(%application, status = status.as_str(), "outcome already recorded");
        return Ok(());
    }
    if !current.may_become(status) {
        return Err(HandlerError::Permanent(format!(
            "application {application} is {} and may not become {}: an outcome is final",
            current.as_str(),
            status.as_str()
        )));
    }
    db::applications::move_status(conn, application, current, status).await?;
    db::applications::add_history(conn, application, event, detail).await?;
    Ok(())
}
