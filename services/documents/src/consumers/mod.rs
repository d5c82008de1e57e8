//! The messages documents consumes, one file each:
//! - [`application_created`]: which applications exist, and whose they are;
//! - [`application_submitted`]: an application is no longer a draft; uploads to it stop;
//! - [`documents_requested`]: the panel asks for more documents; uploads of those types reopen;
//! - [`request_closed`]: and close again;
//! - [`appeals`]: an appeal lodged takes documents of its own until it is resolved.

mod appeals;
mod application_created;
mod application_submitted;
mod documents_requested;
mod request_closed;

use kutse_messaging::Dispatcher;
use kutse_messaging::catalogue::{
    ApplicationCreated, ApplicationSubmitted, DocumentsRequested, RequestClosed,
};

/// What documents' handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct DocumentsHandler;

/// Every message documents handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<DocumentsHandler> {
    Dispatcher::new(DocumentsHandler)
        .on::<ApplicationCreated>()
        .on::<ApplicationSubmitted>()
        .on::<DocumentsRequested>()
        .on::<RequestClosed>()
        .on::<kutse_messaging::catalogue::AppealLodged>()
        .on::<kutse_messaging::catalogue::AppealResolved>()
}
