//! `assessment.documents_requested`: the submitted application takes uploads of the requested
//! types again, until the request closes or its due day ends (midnight in Tallinn).

use chrono::TimeZone;
use kutse_messaging::catalogue::DocumentsRequested;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;
use crate::db;

impl Handles<DocumentsRequested> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        requested: DocumentsRequested,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let types: Vec<String> = requested
            .documents
            .iter()
            .map(|d| d.document_type.as_str().to_owned())
            .collect();
        let next_day = requested
            .due_on
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|midnight| {
                kutse_domain::calendar::TIME_ZONE
                    .from_local_datetime(&midnight)
                    .earliest()
            })
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| {
                HandlerError::Permanent(format!("due day {} out of range", requested.due_on))
            })?;
        db::applications::open_request(
            conn,
            requested.request_id,
            requested.application_id,
            &types,
            next_day,
        )
        .await?;
        tracing::info!(application = %requested.application_id, request = %requested.request_id, "uploads open for a request");
        Ok(())
    }
}
