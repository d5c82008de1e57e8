//! `assessment.decided`: the panel's decision is remembered — once; a different second version
//! is parked. An award needs every competence accepted.

use kutse_messaging::catalogue::AssessmentDecided;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CertificatesHandler, Fact, remember};

impl Handles<AssessmentDecided> for CertificatesHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        decided: AssessmentDecided,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        remember(conn, decided.application_id, Fact::Decision, &decided).await
    }
}
