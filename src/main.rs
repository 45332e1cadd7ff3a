use std::process::ExitCode;

use switchboard::cli::{Cli, Command, healthcheck};
use switchboard::config::Settings;
use switchboard::startup::Application;
use switchboard::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_args();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => return fail(2, e),
    };
    if cli.command == Some(Command::Healthcheck) {
        return match healthcheck(&settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(1, e),
        };
    }
    telemetry::init(&settings.log);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return fail(1, e),
    };
    tracing::info!(port = app.port(), "switchboard listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, e),
    }
}

/// One line on stderr naming the problem, and the exit code.
fn fail(code: u8, error: impl std::fmt::Display) -> ExitCode {
    eprintln!("switchboard: {error}");
    ExitCode::from(code)
}
