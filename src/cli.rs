//! The command line: `switchboard [serve]` runs the service,
//! `switchboard healthcheck` asks the local instance whether it is ready
//! (for container health checks, without curl in the image).

use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Rocket.Chat-compatible livechat department registry and chat router"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Serve the API (the default). Stops gracefully on SIGTERM or Ctrl-C.
    Serve,
    /// Exit 0 when the local instance's /readyz answers 200, else 1.
    Healthcheck,
}

impl Cli {
    /// Parses the arguments; `--help` lists every setting and its variable.
    pub fn parse_args() -> Cli {
        let matches = Cli::command()
            .after_help(crate::config::settings_help())
            .get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Whether the instance these settings describe answers `GET /readyz`
/// with 200 within a few seconds. A plain HTTP/1.1 exchange over TCP: the
/// check runs inside the container, next to the server.
pub async fn healthcheck(settings: &Settings) -> Result<(), String> {
    let host = match settings.bind_ip.as_str() {
        "0.0.0.0" => "127.0.0.1",
        "::" => "::1",
        other => other,
    };
    let address = (host, settings.port);
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| format!("{host}:{} did not answer within 5 seconds", settings.port))?
        .map_err(|e| format!("{host}:{}: {e}", settings.port))?;
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    if status_line.split(' ').nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("not ready: {status_line}"))
    }
}
