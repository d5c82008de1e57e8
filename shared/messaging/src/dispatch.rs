//! Typed message handling: a service implements [`Handles<M>`] once per message type it
//! consumes (one file per message under its `consumers/`), and registers each with a
//! [`Dispatcher`], which decodes the envelope once and calls the right one.
//!
//! A type with no handler is refused (parked), never silently acknowledged. What a service
//! handles is also what its queue must be bound to: [`Handler::message_types`] lists the
//! registered types, and the service skeleton refuses to start when they differ from the
//! catalogue's bindings, so a binding without a handler (every such message parked) or a handler
//! without a binding (never called) cannot ship.
//!
//! ```ignore
//! let handler = Dispatcher::new(CertificatesHandler { … })
//!     .on::<ApplicationSubmitted>()
//!     .on::<AssessmentDecided>()
//!     .on::<ProtocolSigned>();
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::consumer::{Handler, HandlerError, Incoming};
use crate::envelope::{Envelope, Message};

/// Handles messages of type `M`. Effects go through `conn`, the message's transaction (see
/// [`Handler`] for what that demands).
pub trait Handles<M: Message>: Send + Sync + 'static {
    fn handle(
        &self,
        conn: &mut PgConnection,
        message: M,
        envelope: &Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Called when a message of this type is about to be parked (see [`Handler::parked`]).
    fn parked(
        &self,
        conn: &mut PgConnection,
        envelope: &Envelope,
        error: &str,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = (conn, envelope, error);
        async { Ok(()) }
    }
}

type HandleFn<S> = Box<
    dyn for<'a> Fn(
            &'a S,
            &'a mut PgConnection,
            &'a Incoming,
        ) -> BoxFuture<'a, Result<(), HandlerError>>
        + Send
        + Sync,
>;
type ParkedFn<S> = Box<
    dyn for<'a> Fn(
            &'a S,
            &'a mut PgConnection,
            &'a Incoming,
            &'a str,
        ) -> BoxFuture<'a, Result<(), HandlerError>>
        + Send
        + Sync,
>;

struct Route<S> {
    handle: HandleFn<S>,
    parked: ParkedFn<S>,
}

/// A service's handlers by message type.
pub struct Dispatcher<S> {
    state: Arc<S>,
    routes: BTreeMap<&'static str, Route<S>>,
}

impl<S> std::fmt::Debug for Dispatcher<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("types", &self.routes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> Dispatcher<S> {
    /// A dispatcher over the service's handler state, with no types yet.
    pub fn new(state: S) -> Self {
        Self {
            state: Arc::new(state),
            routes: BTreeMap::new(),
        }
    }

    /// Registers the state's handler of `M`.
    pub fn on<M: Message>(mut self) -> Self
    where
        S: Handles<M>,
    {
        self.routes.insert(
            M::TYPE,
            Route {
                handle: Box::new(|state, conn, incoming| {
                    // Decoded once, here; a wrong payload or unknown version can never succeed.
                    match incoming.envelope.decode::<M>() {
                        Ok(message) => Box::pin(Handles::<M>::handle(
                            state,
                            conn,
                            message,
                            &incoming.envelope,
                        )),
                        Err(e) => Box::pin(async move { Err(e.into()) }),
                    }
                }),
                parked: Box::new(|state, conn, incoming, error| {
                    Box::pin(Handles::<M>::parked(state, conn, &incoming.envelope, error))
                }),
            },
        );
        self
    }
}

impl<S: Send + Sync + 'static> Handler for Dispatcher<S> {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        match self.routes.get(message.envelope.message_type.as_str()) {
            Some(route) => (route.handle)(&self.state, conn, message),
            None => {
                let error = format!("no handler for {}", message.envelope.message_type);
                Box::pin(async move { Err(HandlerError::Permanent(error)) })
            }
        }
    }

    fn parked<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
        error: &'a str,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        match self.routes.get(message.envelope.message_type.as_str()) {
            Some(route) => (route.parked)(&self.state, conn, message, error),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn message_types(&self) -> Vec<&'static str> {
        self.routes.keys().copied().collect()
    }
}
