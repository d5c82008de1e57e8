//! What every service connects to before it can serve: its database (migrated) and the token
//! verifier.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use kutse_auth::Verifier;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::config::ServiceConfig;
use crate::metrics::Metrics;

/// The connected parts a service is built from.
#[derive(Debug, Clone)]
pub struct Platform {
    pub config: ServiceConfig,
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
    /// The service's metrics; add its own with [`Metrics::counter`] and [`Metrics::histogram`].
    pub metrics: Metrics,
}

impl Platform {
    /// Applies the service's and the messaging migrations, and nothing else (`kutse-<name> migrate`).
    pub async fn migrate(config: &ServiceConfig, migrator: &Migrator) -> anyhow::Result<()> {
        let pool = Self::pool(config).await?;
        Self::run_migrations(&pool, migrator).await?;
        tracing::info!(database = %config.database_url, "migrations applied");
        Ok(())
    }

    /// Declares the whole broker topology the catalogue implies, then returns
    /// (`kutse-<name> topology`; the Helm chart and the compose file run it before any service).
    pub async fn declare_topology(config: &ServiceConfig) -> anyhow::Result<()> {
        let connection = kutse_messaging::connect(
            config.amqp_url.expose(),
            &format!("kutse-{}-topology", config.name),
        )
        .await?;
        let channel = connection.create_channel().await?;
        config
            .topology
            .declare_all(&channel)
            .await
            .context("declaring the broker topology")?;
        let _ = connection.close(200, "topology declared".into()).await;
        tracing::info!(
            prefix = config.topology.prefix.as_str(),
            "broker topology declared"
        );
        Ok(())
    }

    async fn pool(config: &ServiceConfig) -> anyhow::Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(config.database_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // A connection is pinged before use only when it has been idle a while (a database
            // restart in a quiet hour): under load, a ping before every transaction was one
            // round trip in six of an application's creation (issue 16's P1).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(config.database_url.expose())
            .await
            .with_context(|| format!("connecting to {}", config.database_url))
    }

    async fn run_migrations(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
        migrator
            .run(pool)
            .await
            .context("running the service's migrations")?;
        kutse_messaging::migrate(pool)
            .await
            .context("running the messaging migrations")?;
        Ok(())
    }

    /// Connects to the database, runs the service's migrations and the messaging schema's, and
    /// loads the token signing keys. Fails (and the process exits) if any of it fails: an
    /// orchestrator restarts it, and a half-started service serves nobody.
    pub async fn connect(config: ServiceConfig, migrator: &Migrator) -> anyhow::Result<Self> {
        let pool = Self::pool(&config).await?;
        Self::run_migrations(&pool, migrator).await?;
        let verifier = Verifier::new(config.auth.clone())
            .await
            .context("setting up token validation (AUTH_JWKS_URL / AUTH_JWKS_FILE)")?;
        tracing::info!(
            database = %config.database_url,
            issuer = config.auth.issuer.as_str(),
            "platform connected"
        );
        Ok(Self {
            metrics: Metrics::new(config.name),
            config,
            pool,
            verifier: Arc::new(verifier),
        })
    }
}

/// What every API handler needs: the service's database and the token verifier. Services with
/// more to share (an S3 client, a signing key) keep their own state that includes these.
#[derive(Debug, Clone)]
pub struct ApiContext {
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
}

impl axum::extract::FromRef<ApiContext> for Arc<Verifier> {
    fn from_ref(context: &ApiContext) -> Self {
        context.verifier.clone()
    }
}

impl Platform {
    /// The context API handlers share.
    pub fn api_context(&self) -> ApiContext {
        ApiContext {
            pool: self.pool.clone(),
            verifier: self.verifier.clone(),
        }
    }
}
