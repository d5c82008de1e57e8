//! `role.removed`: a person leaves a body's roster.

use kutse_messaging::catalogue::RoleRemoved;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;
use crate::db;

impl Handles<RoleRemoved> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: RoleRemoved,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::roster::removed(
            conn,
            e.appointment_id,
            &e.person.to_string(),
            &e.role,
            e.awarding_body_id,
            e.removed_at,
        )
        .await?;
        Ok(())
    }
}
