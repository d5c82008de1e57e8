//! What the other services announce for intake to keep, each under its own message type (so the
//! broker lets each publish only its own):
//! - `personal_data.read.*`: reads of a person's data by someone else, for their data tracker
//!   (`GET /me/data-reads`); intake records its own directly (`db::data_reads::track`);
//! - `document_exchange.*`: official document exchanges, counted once each in the DVVK ledger;
//!   intake records its own directly (`db::dvvk_ledger::count`).
//!
//! Each is recorded with the service that announced it; a redelivery is recorded once.

use kutse_messaging::catalogue::services;
use kutse_messaging::catalogue::{
    AssessmentDataRead, AssessmentExchange, CertificatesDataRead, CertificatesExchange,
    CommitteeDataRead, DocumentsDataRead, DocumentsExchange, NotificationsExchange,
};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

/// `record(conn, service, &message.0)` for each message type and the service that produces it.
macro_rules! kept_by {
    ($record:path; $($t:ty => $service:expr),+ $(,)?) => {$(
        impl Handles<$t> for IntakeHandler {
            async fn handle(
                &self,
                conn: &mut PgConnection,
                announced: $t,
                _: &Envelope,
            ) -> Result<(), HandlerError> {
                $record(conn, $service, &announced.0).await?;
                Ok(())
            }
        }
    )+};
}

kept_by! {
    db::data_reads::record;
    DocumentsDataRead => services::DOCUMENTS,
    AssessmentDataRead => services::ASSESSMENT,
    CommitteeDataRead => services::COMMITTEE,
    CertificatesDataRead => services::CERTIFICATES,
}

kept_by! {
    db::dvvk_ledger::record;
    DocumentsExchange => services::DOCUMENTS,
    AssessmentExchange => services::ASSESSMENT,
    CertificatesExchange => services::CERTIFICATES,
    NotificationsExchange => services::NOTIFICATIONS,
}
