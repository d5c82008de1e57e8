//! `certificate.rendered`: the certificate's number, validity and verification link, with its PDF
//! attached. The mail goes out once the PDF exists rather than on `certificate.issued`, so the
//! holder gets one e-mail with the document.

use kutse_messaging::catalogue::CertificateRendered;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::NotificationsHandler;
use crate::domain::{Attachment, MailKind};
use crate::templates;

impl Handles<CertificateRendered> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: CertificateRendered,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let mail = templates::issued(&e)?;
        let attachment = Attachment {
            url: e.pdf.url.clone(),
            sha256: e.pdf.sha256.clone(),
            filename: e.pdf.filename.clone(),
            content_type: "application/pdf".to_owned(),
        };
        Ok(crate::db::mails::queue(
            conn,
            &crate::db::mails::NewMail {
                cause: envelope.id,
                kind: MailKind::Certificate.as_str(),
                recipient: e.holder.email.as_str(),
                mail: &mail,
                attachment: Some(&attachment),
                application_id: None,
            },
        )
        .await?)
    }
}
