//! The messages documents consumes, one file each:
//! - [`application_created`]: which applications exist, and whose they are.

mod application_created;

use kutse_messaging::Dispatcher;
use kutse_messaging::catalogue::ApplicationCreated;

/// What documents' handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct DocumentsHandler;

/// Every message documents handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<DocumentsHandler> {
    Dispatcher::new(DocumentsHandler).on::<ApplicationCreated>()
}
