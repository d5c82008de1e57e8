//! Serving HTTP and supervising the broker side until shutdown.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use futures::future::BoxFuture;
use kutse_http::{Readiness, health_router, with_standard_layers};
use kutse_messaging::{Consumer, Handler, Publisher, Relay};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;

/// A service ready to run: its platform, API and (if it consumes messages) its handler.
pub struct Service {
    platform: Platform,
    api: Router,
    handler: Option<Arc<dyn Handler>>,
    readiness: Readiness,
    broker: BrokerLink,
    workers: Vec<(&'static str, Worker)>,
}

/// A background task of a service (e.g. sending queued e-mail). Called again after it fails.
pub type Worker =
    Arc<dyn Fn(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.platform.config.name)
            .field("consumes", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

/// The current broker connection, shared between the supervisor and `/readyz`.
#[derive(Clone, Default)]
struct BrokerLink(Arc<RwLock<Option<Arc<lapin::Connection>>>>);

impl BrokerLink {
    fn set(&self, connection: Option<Arc<lapin::Connection>>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = connection;
        }
    }

    fn connection(&self) -> Option<Arc<lapin::Connection>> {
        self.0.read().ok().and_then(|slot| slot.clone())
    }

    fn check(&self) -> Result<(), String> {
        let slot = self
            .0
            .read()
            .map_err(|_| "broker state poisoned".to_owned())?;
        match slot.as_ref() {
            Some(c) if c.status().connected() => Ok(()),
            Some(_) => Err("connection to the broker is closed; reconnecting".to_owned()),
            None => Err("not connected to the broker yet".to_owned()),
        }
    }
}

impl Service {
    /// A service with its API router (state already applied). The database and broker checks of
    /// `/readyz` are added here; add storage or mail checks with [`Service::with_check`].
    pub fn new(platform: Platform, api: Router) -> Self {
        let pool = platform.pool.clone();
        let broker = BrokerLink::default();
        let link = broker.clone();
        let readiness = Readiness::new()
            .check("database", move || {
                let pool = pool.clone();
                async move {
                    sqlx::query("SELECT 1")
                        .execute(&pool)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            })
            .check("broker", move || {
                let result = link.check();
                async move { result }
            })
            .check("token keys", {
                let verifier = platform.verifier.clone();
                move || {
                    let result = verifier.ready();
                    async move { result }
                }
            });
        let refresher = platform.verifier.clone();
        Self {
            platform,
            api,
            handler: None,
            readiness,
            broker,
            workers: Vec::new(),
        }
        // Token signing keys are refetched as the provider's cache headers say, and retried
        // while it is down (the service is not ready until they are loaded).
        .with_worker(
            "token keys",
            Arc::new(move |shutdown: CancellationToken| {
                let verifier = refresher.clone();
                Box::pin(async move {
                    verifier.keep_fresh(shutdown).await;
                    Ok(())
                })
            }),
        )
    }

    /// Runs `worker` beside the server until shutdown; if it fails it is logged and started again
    /// after a pause.
    pub fn with_worker(mut self, name: &'static str, worker: Worker) -> Self {
        self.workers.push((name, worker));
        self
    }

    /// Consumes the messages the catalogue routes to this service with `handler`, and prunes
    /// the inbox of ids older than the retention period once an hour.
    pub fn with_handler(mut self, handler: Arc<dyn Handler>) -> Self {
        self.handler = Some(handler);
        let pool = self.platform.pool.clone();
        let retention = self.platform.config.inbox_retention;
        self.with_worker(
            "inbox retention",
            Arc::new(move |shutdown: CancellationToken| {
                let pool = pool.clone();
                Box::pin(async move {
                    loop {
                        let pruned = kutse_messaging::prune_inbox(&pool, retention).await?;
                        if pruned > 0 {
                            tracing::info!(pruned, "old inbox ids pruned");
                        }
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
                        }
                    }
                })
            }),
        )
    }

    /// Adds a dependency check to `/readyz`.
    pub fn with_check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.readiness = self.readiness.check(name, check);
        self
    }

    /// The whole HTTP surface: the API behind the standard layers, plus health endpoints.
    pub fn router(&self) -> Router {
        let metrics = self.platform.metrics.clone();
        let api = with_standard_layers(
            self.api.clone(),
            self.platform.config.body_limit,
            self.platform.config.request_timeout,
        )
        // Outermost, so a timeout or a refused body is counted as what the caller got.
        .layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            crate::metrics::track,
        ));
        let link = self.broker.clone();
        let name = self.platform.config.name;
        let topology = &self.platform.config.topology;
        let queues = if self.handler.is_some() {
            vec![topology.queue(name), topology.parked_queue(name)]
        } else {
            Vec::new()
        };
        let sources = crate::metrics::Sources {
            pool: self.platform.pool.clone(),
            broker: Arc::new(move || link.connection()),
            queues,
        };
        let scrape = Router::new()
            .route("/metrics", axum::routing::get(crate::metrics::scrape))
            .with_state((metrics, sources));
        api.merge(health_router(self.readiness.clone()))
            .merge(scrape)
    }

    /// Runs on the configured address until SIGINT or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(self.platform.config.http_addr).await?;
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            signal.cancel();
        });
        self.serve(listener, shutdown).await
    }

    /// Serves on `listener` until `shutdown` is cancelled (tests pass their own).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let name = self.platform.config.name;
        check_bindings(name, self.handler.as_deref())?;
        let address = listener.local_addr()?;
        tracing::info!(service = name, %address, "listening");
        let router = self.router();
        let server_shutdown = shutdown.clone();
        let server = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { server_shutdown.cancelled().await })
                .await
        };
        let supervisor = supervise_broker(
            self.platform.clone(),
            self.handler.clone(),
            self.broker.clone(),
            shutdown.clone(),
        );
        let workers = futures::future::join_all(
            self.workers
                .into_iter()
                .map(|(name, worker)| supervise_worker(name, worker, shutdown.clone())),
        );
        let everything = async { tokio::join!(server, supervisor, workers) };
        // Once shutdown is asked for, everything gets `shutdown_grace` to drain (requests in
        // flight answered, the batch in hand committed); then the process stops regardless. What
        // was not acknowledged returns to the broker, and an open transaction rolls back.
        let grace = self.platform.config.shutdown_grace;
        let deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            (served, (), _) = everything => {
                served?;
                tracing::info!(service = name, "stopped");
            }
            () = deadline => {
                tracing::warn!(service = name, grace_ms = grace.as_millis() as u64, "not drained within the grace period; stopping anyway");
            }
        }
        Ok(())
    }
}

/// A service's queue is bound to what the catalogue says it consumes; its handler must handle
/// exactly that: a binding without a handler parks every such message, a handler without a
/// binding is never called. Refusing to start makes either a deployment-time error.
fn check_bindings(service: &str, handler: Option<&dyn Handler>) -> anyhow::Result<()> {
    let mut bound = kutse_messaging::catalogue::bindings_for(service);
    bound.sort_unstable();
    let mut handled = handler.map(Handler::message_types).unwrap_or_default();
    handled.sort_unstable();
    anyhow::ensure!(
        bound == handled,
        "{service}: the catalogue binds its queue to {bound:?} but it handles {handled:?}"
    );
    Ok(())
}

async fn supervise_worker(name: &'static str, worker: Worker, shutdown: CancellationToken) {
    let mut backoff = kutse_retry::Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        match worker(shutdown.clone()).await {
            Ok(()) => break,
            Err(e) => {
                if started.elapsed() > Duration::from_secs(60) {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                tracing::error!(
                    worker = name,
                    error = format!("{e:#}"),
                    restart_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "worker failed; restarting"
                );
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

/// Keeps a broker session running: connect, declare, relay and consume; on failure wait with
/// growing back-off (0.5 s doubling to 30 s) and start over.
async fn supervise_broker(
    platform: Platform,
    handler: Option<Arc<dyn Handler>>,
    link: BrokerLink,
    shutdown: CancellationToken,
) {
    let mut backoff =
        kutse_retry::Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        match session(&platform, handler.clone(), &link, &shutdown).await {
            Ok(()) => break,
            Err(e) => {
                link.set(None);
                // A session that lasted a while was a success: start the schedule again.
                if started.elapsed() > Duration::from_secs(60) {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                tracing::error!(
                    error = format!("{e:#}"),
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "broker session ended"
                );
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
    link.set(None);
}

async fn session(
    platform: &Platform,
    handler: Option<Arc<dyn Handler>>,
    link: &BrokerLink,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let config = &platform.config;
    let app_id = format!("kutse-{}", config.name);
    // A broker that accepts the TCP connection but never answers must not stall us forever.
    let setup = async {
        let connection = kutse_messaging::connect(config.amqp_url.expose(), &app_id).await?;
        let channel = connection.create_channel().await?;
        // Every consumer's queue, not only this service's: an event published before its
        // consumer first started must wait in that consumer's queue, not vanish.
        config.topology.declare_all(&channel).await?;
        anyhow::Ok(connection)
    };
    let connection = Arc::new(
        tokio::time::timeout(Duration::from_secs(10), setup)
            .await
            .map_err(|_| {
                anyhow::anyhow!("no answer from the broker within 10 s while declaring")
            })??,
    );
    link.set(Some(connection.clone()));
    tracing::info!(broker = %config.amqp_url, "connected to the broker");

    let relay = Relay::new(
        platform.pool.clone(),
        Publisher::new(&connection).await?,
        config.topology.exchange(),
        app_id,
        config.relay.clone(),
    );
    let result = match handler {
        Some(handler) => {
            let consumer = Consumer::new(
                platform.pool.clone(),
                config.topology.clone(),
                config.name,
                handler,
                config.consumer.clone(),
            )
            .with_observer({
                let metrics = platform.metrics.clone();
                Arc::new(move |report| metrics.consumed(report))
            });
            tokio::try_join!(
                relay.run(shutdown.clone()),
                consumer.run(&connection, shutdown.clone())
            )
            .map(|_| ())
        }
        None => relay.run(shutdown.clone()).await,
    };
    // Unacknowledged deliveries return to the queue when the connection closes.
    let _ = tokio::time::timeout(
        kutse_messaging::consumer::CLOSE_WAIT,
        connection.close(200, "kutse service stopping".into()),
    )
    .await;
    result
}

#[cfg(test)]
mod tests {
    use kutse_messaging::catalogue::{
        AppealLodged, AppealResolved, ApplicationCreated, ApplicationSubmitted, DocumentsRequested,
        RequestClosed, services,
    };
    use kutse_messaging::{Dispatcher, Envelope, HandlerError, Handles};

    use super::check_bindings;

    struct Documents;

    impl Handles<ApplicationCreated> for Documents {
        async fn handle(
            &self,
            _: &mut sqlx::PgConnection,
            _: ApplicationCreated,
            _: &Envelope,
        ) -> Result<(), HandlerError> {
            Ok(())
        }
    }

    /// Handles `T` by doing nothing (only the bindings are under test).
    macro_rules! handles_nothing {
        ($($t:ty),*) => {$(
            impl Handles<$t> for Documents {
                async fn handle(
                    &self,
                    _: &mut sqlx::PgConnection,
                    _: $t,
                    _: &Envelope,
                ) -> Result<(), HandlerError> {
                    Ok(())
                }
            }
        )*};
    }
    handles_nothing!(
        ApplicationSubmitted,
        DocumentsRequested,
        RequestClosed,
        AppealLodged,
        AppealResolved
    );

    #[test]
    fn a_service_starts_only_when_it_handles_exactly_what_its_queue_is_bound_to() {
        let documents = Dispatcher::new(Documents)
            .on::<ApplicationCreated>()
            .on::<ApplicationSubmitted>()
            .on::<DocumentsRequested>()
            .on::<RequestClosed>()
            .on::<AppealLodged>()
            .on::<AppealResolved>();
        assert!(check_bindings(services::DOCUMENTS, Some(&documents)).is_ok());
        // Bound (by the catalogue) but not handled: every such message would be parked.
        let error = check_bindings(services::INTAKE, Some(&documents)).expect_err("mismatch");
        assert!(error.to_string().contains("document.stored"), "{error}");
        assert!(check_bindings(services::DOCUMENTS, None).is_err());
    }
}
