//! What a service binary is asked to do: `kutse-<name> [serve|migrate|healthcheck]`.
//!
//! - `serve` (the default): run the service.
//! - `migrate`: apply the service's and the messaging schema's migrations, then exit (Kubernetes
//!   runs it as an init container before the service starts).
//! - `topology`: declare every exchange, queue and binding of the message catalogue on the
//!   broker, then exit (run once before a deployment's services start, so no event published
//!   early is lost for a consumer that has not started yet).
//! - `healthcheck`: ask the running service's `/readyz` on `HTTP_ADDR`; exit 0 if ready. For
//!   container health checks in images that carry no HTTP client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A service binary's sub-command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    Topology,
    Healthcheck,
}

impl Command {
    /// From the process arguments; an unknown one is an error naming the valid ones.
    pub fn from_args() -> anyhow::Result<Self> {
        Self::parse(std::env::args().nth(1).as_deref())
    }

    pub fn parse(arg: Option<&str>) -> anyhow::Result<Self> {
        match arg {
            None | Some("serve") => Ok(Command::Serve),
            Some("migrate") => Ok(Command::Migrate),
            Some("topology") => Ok(Command::Topology),
            Some("healthcheck") => Ok(Command::Healthcheck),
            Some(other) => {
                anyhow::bail!(
                    "unknown command {other:?}: use serve, migrate, topology or healthcheck"
                )
            }
        }
    }
}

/// `GET /readyz` on the service's own address; `Ok` when it answers 200.
pub fn healthcheck(mut addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    anyhow::ensure!(status.contains(" 200 "), "not ready: {status}");
    Ok(())
}

/// A service binary's whole `main`: reads the configuration, then serves, migrates, declares the
/// topology or checks health as the first argument says. Each service's `main.rs` is one call:
///
/// ```ignore
/// kutse_service::main(kutse_intake::Config::from_env, |c| &c.service, &kutse_intake::MIGRATOR, kutse_intake::build).await
/// ```
pub async fn main<C, Fut>(
    read: impl FnOnce(kutse_config::Env) -> Result<C, kutse_config::ConfigError>,
    common: impl Fn(&C) -> &crate::ServiceConfig,
    migrator: &sqlx::migrate::Migrator,
    build: impl FnOnce(C) -> Fut,
) -> anyhow::Result<()>
where
    Fut: std::future::Future<Output = anyhow::Result<crate::Service>>,
{
    let config = read(kutse_config::Env::from_process())?;
    let command = Command::from_args()?;
    let service = common(&config);
    if command == Command::Healthcheck {
        return healthcheck(service.http_addr);
    }
    let name = service.name;
    let _telemetry = kutse_telemetry::init(&service.telemetry)?;
    let result = match command {
        Command::Migrate => crate::Platform::migrate(service, migrator).await,
        Command::Topology => crate::Platform::declare_topology(service).await,
        Command::Serve | Command::Healthcheck => match build(config).await {
            Ok(service) => service.run().await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "kutse-{name} failed");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_and_unknown_ones_refused() {
        assert_eq!(Command::parse(None).expect("default"), Command::Serve);
        assert_eq!(
            Command::parse(Some("migrate")).expect("migrate"),
            Command::Migrate
        );
        assert!(Command::parse(Some("migrat")).is_err());
    }
}
