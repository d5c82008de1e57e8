//! `question.asked`, `question.forwarded`, `question.answered`: the question to its recipient (a
//! desk, or a holder in their language, with how to answer), the answer to whoever asked. A
//! party without a known address gets no mail; the question still waits on their front page.

use kutse_messaging::catalogue::{QuestionAnswered, QuestionAsked, QuestionForwarded};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<QuestionAsked> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: QuestionAsked,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some(to) = &e.to.email else {
            return Ok(());
        };
        let (kind, mail) = if e.to.kind == "holder" {
            (
                MailKind::QuestionToHolder,
                templates::question_to_holder(&e)?,
            )
        } else {
            (
                MailKind::QuestionReceived,
                templates::question_received(&e)?,
            )
        };
        queue(conn, envelope.id, kind, to, &mail).await
    }
}

impl Handles<QuestionForwarded> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        QuestionForwarded(e): QuestionForwarded,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some(to) = &e.to.email else {
            return Ok(());
        };
        let mail = templates::question_received(&e)?;
        queue(conn, envelope.id, MailKind::QuestionForwarded, to, &mail).await
    }
}

impl Handles<QuestionAnswered> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: QuestionAnswered,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some(to) = &e.to.email else {
            return Ok(());
        };
        let mail = templates::question_answered(&e)?;
        queue(conn, envelope.id, MailKind::QuestionAnswered, to, &mail).await
    }
}
