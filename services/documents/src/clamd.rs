//! ClamAV's `clamd`, spoken to over TCP: `PING`, and `INSTREAM` to scan a stream of bytes.
//!
//! The protocol is a few lines (a command, then chunks each prefixed with its length as a 4-byte
//! big-endian number, a zero length to end, one reply line), so it is written here rather than
//! taken from a crate. Every exchange has a time limit; any failure is an error, never a verdict —
//! the caller keeps the document waiting (scanning fails closed).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What clamd found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name, e.g. `Eicar-Test-Signature`.
    Infected(String),
}

/// A clamd at `address` (`host:port`).
#[derive(Debug, Clone)]
pub struct Clamd {
    pub address: String,
    /// The limit of one exchange (connecting, sending a chunk, waiting for the reply).
    pub timeout: Duration,
}

/// The most clamd is sent per chunk.
const CHUNK: usize = 64 * 1024;

impl Clamd {
    async fn connect(&self) -> anyhow::Result<TcpStream> {
        tokio::time::timeout(self.timeout, TcpStream::connect(&self.address))
            .await
            .map_err(|_| anyhow::anyhow!("clamd at {}: no connection in time", self.address))?
            .map_err(|e| anyhow::anyhow!("clamd at {}: {e}", self.address))
    }

    async fn reply(&self, stream: &mut TcpStream) -> anyhow::Result<String> {
        let mut reply = Vec::new();
        tokio::time::timeout(self.timeout, stream.read_to_end(&mut reply))
            .await
            .map_err(|_| anyhow::anyhow!("clamd: no reply in time"))??;
        let reply = String::from_utf8_lossy(&reply);
        Ok(reply.trim_end_matches(['\0', '\n']).to_owned())
    }

    /// Whether clamd answers (readiness).
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut stream = self.connect().await?;
        stream.write_all(b"zPING\0").await?;
        let reply = self.reply(&mut stream).await?;
        anyhow::ensure!(reply == "PONG", "clamd answered {reply:?} to PING");
        Ok(())
    }

    /// Scans the bytes `next` yields (`None` at the end).
    pub async fn scan<F, Fut>(&self, mut next: F) -> anyhow::Result<Verdict>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<Vec<u8>>>>,
    {
        let mut stream = self.connect().await?;
        stream.write_all(b"zINSTREAM\0").await?;
        while let Some(bytes) = next().await? {
            for chunk in bytes.chunks(CHUNK) {
                let length = u32::try_from(chunk.len())?.to_be_bytes();
                tokio::time::timeout(self.timeout, async {
                    stream.write_all(&length).await?;
                    stream.write_all(chunk).await
                })
                .await
                .map_err(|_| anyhow::anyhow!("clamd: stalled while reading the stream"))??;
            }
        }
        stream.write_all(&0u32.to_be_bytes()).await?;
        let reply = self.reply(&mut stream).await?;
        parse_reply(&reply)
    }
}

/// `stream: OK`, `stream: <signature> FOUND`, or an error such as `INSTREAM size limit exceeded.
/// ERROR`.
fn parse_reply(reply: &str) -> anyhow::Result<Verdict> {
    let answer = reply.strip_prefix("stream: ").unwrap_or(reply);
    if answer == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(signature) = answer.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(signature.to_owned()))
    } else {
        anyhow::bail!("clamd could not scan: {reply}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_verdicts_or_errors() {
        assert_eq!(parse_reply("stream: OK").expect("ok"), Verdict::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND").expect("found"),
            Verdict::Infected("Eicar-Test-Signature.UNOFFICIAL".into())
        );
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR").is_err());
        assert!(parse_reply("").is_err());
    }
}
