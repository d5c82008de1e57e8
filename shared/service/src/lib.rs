//! The skeleton every Kutse service shares, so that a reader who knows one knows all six.
//!
//! A service's `main` is: read [`ServiceConfig`] (plus its own settings) from the environment →
//! start telemetry → [`Platform::connect`] (database pool, migrations, token verifier) → build its
//! API router and message handler → [`Service::run`] until SIGINT/SIGTERM.
//!
//! [`Service::run`] serves HTTP (the API behind the standard layers, plus `/healthz`,
//! `/readyz` and `/metrics`) and supervises the broker side: it connects, declares the service's queues, runs
//! the outbox relay and the consumer, and reconnects with back-off when the broker goes away.
//! Meanwhile `/readyz` says not ready. On shutdown the server stops accepting, in-flight requests
//! and the message batch in hand finish, and the process exits.
//!
//! # Layout
//! - [`config`]: the settings every service has.
//! - [`data_reads`]: the data tracker: reads of a person's data by others, announced.
//! - [`exchanges`]: DVVK accounting: official document exchanges, announced with their action.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`platform`]: database, migrations, verifier; the readiness checks they bring.
//! - [`runtime`]: the HTTP server and the broker supervisor.

/// Every program built on this crate (the six services, and the tests and benchmarks that run
/// services in their own process) allocates with mimalloc rather than glibc's malloc. Under
/// load glibc's `malloc`/`free` were about a fifth of intake's CPU (issue 16's P1, measured with
/// `perf`); with mimalloc intake took 9 % more applications per second on the same machine.
/// Built without transparent huge pages (`no_thp`): with them, documents' resident memory during
/// a 1 GiB upload peaked at 87 MiB instead of 60 (glibc: 58), past P4's 64 MiB. A program
/// linking this crate cannot declare a `#[global_allocator]` of its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod command;
pub mod config;
pub mod data_reads;
pub mod exchanges;
pub mod metrics;
pub mod platform;
pub mod runtime;

pub use command::{Command, healthcheck, main};
pub use config::ServiceConfig;
pub use metrics::Metrics;
pub use platform::{ApiContext, Platform};
pub use runtime::{Service, Worker, shutdown_signal};
