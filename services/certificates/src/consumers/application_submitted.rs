//! `application.submitted`: the certificate's data (holder, qualification, competences) is
//! remembered — once; a different second version is parked.

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CertificatesHandler, Fact, remember};

impl Handles<ApplicationSubmitted> for CertificatesHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        remember(conn, submitted.application_id, Fact::Submission, &submitted).await
    }
}
