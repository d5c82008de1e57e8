//! `/healthz` and `/readyz`.
//!
//! `/healthz` answers 200 while the process can serve requests at all: an orchestrator restarts the
//! process when it stops answering. `/readyz` asks each real dependency (database, broker, storage,
//! mail server — whatever the service uses) and answers 503 naming the ones that failed, so traffic
//! is routed elsewhere until they answer again. Every check has a deadline, so a hanging dependency
//! makes the service not ready instead of making the probe hang.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::BoxFuture;
use serde::Serialize;

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The dependency checks behind `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, CheckFn)>,
    timeout: Option<Duration>,
    /// The last state of each check, so a probe logs only what changed (probes come every few
    /// hundred milliseconds; a line per probe while the broker is away drowns the log).
    last: Arc<std::sync::Mutex<std::collections::HashMap<&'static str, bool>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.checks.iter().map(|(name, _)| name))
            .finish()
    }
}

/// One dependency's state in the `/readyz` answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CheckReport {
    pub name: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/readyz` answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ReadyReport {
    pub ready: bool,
    pub checks: Vec<CheckReport>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check. The closure is called on every probe.
    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(f()))));
        self
    }

    /// How long one check may take before it counts as failed (default 2 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Runs every check concurrently.
    pub async fn report(&self) -> ReadyReport {
        let timeout = self.timeout.unwrap_or(Duration::from_secs(2));
        let runs = self.checks.iter().map(|(name, check)| {
            let fut = check();
            async move {
                let result = match tokio::time::timeout(timeout, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                };
                CheckReport {
                    name: (*name).to_owned(),
                    ok: result.is_ok(),
                    error: result.err(),
                }
            }
        });
        let checks = futures::future::join_all(runs).await;
        self.log_changes(&checks);
        ReadyReport {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

impl Readiness {
    /// Logs the checks whose state changed since the last probe; returns them (name, now ok).
    fn log_changes(&self, checks: &[CheckReport]) -> Vec<(&'static str, bool)> {
        let Ok(mut last) = self.last.lock() else {
            return Vec::new();
        };
        let mut changed = Vec::new();
        for (name, _) in &self.checks {
            let Some(check) = checks.iter().find(|c| c.name == *name) else {
                continue;
            };
            let before = last.insert(name, check.ok);
            match (before, check.ok) {
                (Some(true) | None, false) => tracing::warn!(
                    dependency = *name,
                    error = check.error.as_deref().unwrap_or(""),
                    "not ready"
                ),
                (Some(false), true) => tracing::info!(dependency = *name, "ready again"),
                _ => continue,
            }
            changed.push((*name, check.ok));
        }
        changed
    }
}

/// The `/healthz` and `/readyz` routes.
pub fn health_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    let report = readiness.report().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_logs_when_a_dependency_changes_state_not_on_every_probe() {
        let readiness = Readiness::new().check("broker", || async { Ok(()) });
        let probe = |ok: bool| {
            readiness.log_changes(&[CheckReport {
                name: "broker".to_owned(),
                ok,
                error: (!ok).then(|| "away".to_owned()),
            }])
        };
        assert_eq!(probe(false), vec![("broker", false)]);
        assert_eq!(probe(false), vec![]);
        assert_eq!(probe(false), vec![]);
        assert_eq!(probe(true), vec![("broker", true)]);
        assert_eq!(probe(true), vec![]);
    }
}
