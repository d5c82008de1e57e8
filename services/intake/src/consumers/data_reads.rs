//! `personal_data.read.*`: the services' announcements of reads of a person's data by someone
//! else, kept for the person's data tracker (`GET /me/data-reads`). Intake records its own reads
//! directly (`db::data_reads::record_own`).

use kutse_messaging::catalogue::services;
use kutse_messaging::catalogue::{
    AssessmentDataRead, CertificatesDataRead, CommitteeDataRead, DocumentsDataRead,
};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

macro_rules! keeps_reads {
    ($($t:ty => $service:expr),+ $(,)?) => {$(
        impl Handles<$t> for IntakeHandler {
            async fn handle(
                &self,
                conn: &mut PgConnection,
                read: $t,
                _: &Envelope,
            ) -> Result<(), HandlerError> {
                db::data_reads::record(conn, $service, &read.0).await?;
                Ok(())
            }
        }
    )+};
}

keeps_reads! {
    DocumentsDataRead => services::DOCUMENTS,
    AssessmentDataRead => services::ASSESSMENT,
    CommitteeDataRead => services::COMMITTEE,
    CertificatesDataRead => services::CERTIFICATES,
}
