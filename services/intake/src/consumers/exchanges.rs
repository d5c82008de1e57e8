//! `document_exchange.*`: the services' official document exchanges, counted once each in the
//! DVVK ledger. Intake records its own directly (`db::dvvk_ledger::count`).

use kutse_messaging::catalogue::services;
use kutse_messaging::catalogue::{
    AssessmentExchange, CertificatesExchange, DocumentsExchange, NotificationsExchange,
};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

macro_rules! counts_exchanges {
    ($($t:ty => $service:expr),+ $(,)?) => {$(
        impl Handles<$t> for IntakeHandler {
            async fn handle(
                &self,
                conn: &mut PgConnection,
                exchange: $t,
                _: &Envelope,
            ) -> Result<(), HandlerError> {
                db::dvvk_ledger::record(conn, $service, &exchange.0).await?;
                Ok(())
            }
        }
    )+};
}

counts_exchanges! {
    DocumentsExchange => services::DOCUMENTS,
    AssessmentExchange => services::ASSESSMENT,
    CertificatesExchange => services::CERTIFICATES,
    NotificationsExchange => services::NOTIFICATIONS,
}
