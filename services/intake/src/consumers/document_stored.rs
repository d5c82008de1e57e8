//! `document.stored`: a document uploaded to an application, recorded with its checksum; the
//! submission checks count it.

use kutse_messaging::catalogue::DocumentStored;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::{PgConnection, Row};

use super::IntakeHandler;

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
    let Some(row) = sqlx::query("SELECT applicant FROM applications WHERE id = $1")
        .bind(doc.application_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Err(HandlerError::Permanent(format!(
            "no application {}",
            doc.application_id
        )));
    };
    // The documents service checked the uploader; a mismatch here means the two disagree.
    if row.get::<String, _>("applicant") != doc.owner.to_string() {
        return Err(HandlerError::Permanent(format!(
            "document {} belongs to someone other than the applicant",
            doc.document_id
        )));
    }
    sqlx::query(
        "INSERT INTO application_documents (document_id, application_id, document_type, sha256, size_bytes)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING",
    )
    .bind(doc.document_id)
    .bind(doc.application_id)
    .bind(doc.document_type.as_str())
    .bind(&doc.sha256)
    .bind(doc.size_bytes)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO application_history (application_id, event, detail) VALUES ($1, 'document_stored', $2)")
        .bind(doc.application_id)
        .bind(serde_json::json!({ "document_type": doc.document_type, "dvvk": doc.dvvk.code() }))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
