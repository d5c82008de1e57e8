//! `application.submitted`: the certificate's data (holder, qualification, competences) is
//! remembered — once; a different second version is parked. A duplicate's is acted on at once
//! (see [`super::duplicate`]).

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CertificatesHandler, Fact, remember};

impl Handles<ApplicationSubmitted> for CertificatesHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        remember(conn, submitted.application_id, Fact::Submission, &submitted).await?;
        if submitted.kind == kutse_domain::ApplicationKind::Duplicate {
            self.reissue(conn, envelope, &submitted).await?;
        }
        Ok(())
    }
}
