//! `appeal.lodged`: an appeal for the committee to resolve.

use kutse_messaging::catalogue::AppealLodged;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;

impl Handles<AppealLodged> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        lodged: AppealLodged,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        crate::db::appeals::record(conn, &lodged).await?;
        Ok(())
    }
}
