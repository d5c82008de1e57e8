//! `document.stored`: every document of an application is remembered (a decision's evidence may
//! name it). One uploaded against a request for more documents answers the requested type; when
//! every requested type has arrived the request closes as answered, and the periods grow by the
//! working days it was open. One uploaded to a lodged appeal joins the appeal's documents.

use kutse_messaging::catalogue::DocumentStored;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::AssessmentHandler;
use crate::db::procedure;

impl Handles<DocumentStored> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        stored: DocumentStored,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        crate::db::cases::add_document(
            conn,
            stored.application_id,
            stored.document_id,
            stored.document_type.as_str(),
        )
        .await?;
        let Some(request_id) = stored.request_id else {
            return Ok(());
        };
        if crate::db::appeals::add_document(
            conn,
            request_id,
            stored.application_id,
            stored.document_id,
        )
        .await?
        {
            tracing::info!(appeal = %request_id, document = %stored.document_id, "document added to an appeal");
            return Ok(());
        }
        let Some(request) = procedure::lock_open_request(conn, request_id).await? else {
            tracing::info!(request = %request_id, "document for a closed or unknown request; nothing to do");
            return Ok(());
        };
        let requested: Vec<String> = request
            .documents
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|d| d["document_type"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let document_type = stored.document_type.as_str();
        if request.application_id != stored.application_id
            || !requested.iter().any(|t| t == document_type)
        {
            return Ok(());
        }
        procedure::receive(conn, request_id, document_type, stored.document_id).await?;
        // Read in a statement of its own, after the lock: an answer another consumer committed
        // while this one waited for the lock counts too.
        let received = procedure::received(conn, request_id).await?;
        if requested.iter().all(|t| received.contains(t)) {
            let on = kutse_domain::tallinn_date(stored.uploaded_at.unwrap_or(envelope.occurred_at));
            crate::sweep::close(conn, &request, "answered", on)
                .await
                .map_err(HandlerError::Transient)?;
        }
        Ok(())
    }
}
