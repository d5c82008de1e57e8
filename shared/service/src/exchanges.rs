//! DVVK accounting: a service that exchanges a document with an outside party (an upload, an
//! appeal, a protocol received, a certificate downloaded by its holder, an e-mail sent) announces
//! it in the outbox of the transaction that does it, so it is counted exactly when the action
//! happens: never for an action rolled back, never twice for one (intake's ledger keeps one row
//! per service, action and reference). Intake, which keeps the ledger and reports it
//! (`GET /reports/dvvk`), records its own directly. Internal events between Kutse's services are
//! never counted.

use kutse_domain::Dvvk;
use kutse_messaging::catalogue::DocumentExchange;
use kutse_messaging::{Envelope, Message, Outbox};
use sqlx::PgConnection;

/// Announces (as message type `M`, the producing service's own) that `action` moved the document
/// `reference` through channel `dvvk`, on `conn` — the action's own transaction.
pub async fn announce<M: Message + From<DocumentExchange>>(
    conn: &mut PgConnection,
    action: &str,
    reference: &str,
    dvvk: Dvvk,
) -> sqlx::Result<()> {
    let exchange = DocumentExchange::now(action, reference, dvvk);
    let envelope =
        Envelope::new(&M::from(exchange), None).map_err(|e| sqlx::Error::Encode(e.into()))?;
    Outbox::enqueue(conn, &envelope).await
}
