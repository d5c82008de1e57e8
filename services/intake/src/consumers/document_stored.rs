//! `document.stored`: a document uploaded to an application (and scanned clean), recorded with its
//! checksum; the submission checks count it. One uploaded after the applicant submitted is noted
//! in the history and not counted — unless it answers the panel's request for more documents,
//! which is what the request opened uploads for.

use kutse_messaging::catalogue::DocumentStored;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

impl Handles<DocumentStored> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        doc: DocumentStored,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        document_stored(conn, doc).await
    }
}

async fn document_stored(conn: &mut PgConnection, doc: DocumentStored) -> Result<(), HandlerError> {
    let Some(owner) = db::applications::ownership(conn, doc.application_id).await? else {
        return Err(HandlerError::Permanent(format!(
            "no application {}",
            doc.application_id
        )));
    };
    // The documents service checked the uploader; a mismatch here means the two disagree.
    if owner.applicant != doc.owner.to_string() {
        return Err(HandlerError::Permanent(format!(
            "document {} belongs to someone other than the applicant",
            doc.document_id
        )));
    }
    // Uploaded after the applicant submitted (while the fee was awaited, say): kept in the
    // history, not counted towards the submission.
    if let (Some(submitted), Some(uploaded)) = (
        db::applications::submitted_at(conn, doc.application_id).await?,
        doc.uploaded_at,
    ) && uploaded > submitted
        && doc.request_id.is_none()
    {
        let detail = serde_json::json!({ "document_type": doc.document_type, "document_id": doc.document_id });
        db::applications::add_history(
            conn,
            doc.application_id,
            "document_after_submission",
            detail,
        )
        .await?;
        return Ok(());
    }
    let stored = db::applications::StoredDocument {
        document_id: doc.document_id,
        document_type: doc.document_type.as_str(),
        sha256: &doc.sha256,
        size_bytes: doc.size_bytes,
    };
    db::applications::add_document(conn, doc.application_id, &stored).await?;
    let mut detail =
        serde_json::json!({ "document_type": doc.document_type, "dvvk": doc.dvvk.code() });
    if let Some(request) = doc.request_id {
        detail["request_id"] = serde_json::json!(request);
    }
    db::applications::add_history(conn, doc.application_id, "document_stored", detail).await?;
    Ok(())
}
