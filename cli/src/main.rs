//! `sen`: the SEN oversight platform in one binary.
//!
//! - `sen` runs the embedded platform: every service in one process on SQLite
//!   under `./data/`, with a development identity issuer and demo data.
//! - `sen serve <part>` runs one part alone, configured from `SEN_*` variables,
//!   as a production pod does.
//! - `sen migrate <part>` brings one service's database schema up to date and
//!   exits (the migration Job before a rollout).
//! - `sen token …` mints a development identity token for the embedded mode.
//! - `sen generate` fills PostgreSQL with an England-shaped dataset, one
//!   database per service, to measure the platform at national scale.
//! - `sen backup --to DIR` / `sen restore --from DIR` copy the embedded data
//!   folder while it runs, and put a copy back into an empty one.
//! - `sen sessions end --person ID` ends a person's web sessions on every
//!   gateway replica at once.
//! - `sen retention run [--dry-run]` erases now the pupils past their
//!   authority's retention period, as the caseloads service does on its interval.
//! - `sen login` / `sen logout`: sign the client in with the council's identity
//!   provider (the device code flow) and out again.
//! - `sen caseload`, `sen case …`, `sen referrals …`, `sen overview`, `sen sen2`: the client
//!   for professionals, SENCOs and school systems, talking gRPC to the gateway.
//! - `sen forecast` (and `sen forecast backtest`): the breach forecast for the
//!   council team, and its backtest on the authority's own history.

mod backup;
mod client;
mod embedded;
mod front;
mod people;
mod retention;
mod sessions;
mod token;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand};
use sen_cli::services;
use sen_platform::config::{Config, Serving};
use sen_platform::telemetry::{self, TelemetrySettings};

#[derive(Parser)]
#[command(name = "sen", version, about = "The SEN oversight platform", long_about = None, after_help = client::EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one part of the platform alone (production shape), configured from SEN_* variables.
    Serve {
        /// Which part: the gateway or one of the services.
        #[arg(value_parser = parts(true))]
        part: String,
    },
    /// Bring one service's database schema (or the gateway's session store) up to date, then exit.
    Migrate {
        /// Which service, or the gateway.
        #[arg(value_parser = parts(true))]
        part: String,
    },
    /// Mint a development identity token (embedded mode only).
    Token(token::TokenArgs),
    /// Fill PostgreSQL with an England-shaped dataset, one database per service (for measuring at scale).
    Generate(sen_cli::generate::command::GenerateArgs),
    /// Copy the embedded platform's data folder (SEN_DATA_DIR), safely while it runs, into an empty folder.
    Backup(backup::BackupArgs),
    /// Put a copy made by `sen backup` into an empty data folder (SEN_DATA_DIR).
    Restore(backup::RestoreArgs),
    /// End a person's web sessions on every gateway replica (the gateway's SEN_* variables).
    Sessions(sessions::SessionsArgs),
    /// Erase pupils past their authority's retention period now (the caseloads service's SEN_* variables).
    Retention(retention::RetentionArgs),
    #[command(flatten)]
    Client(client::ClientCommand),
}

/// The part names `sen serve` or `sen migrate` takes, with what each does (the gateway migrates its sessions).
fn parts(with_gateway: bool) -> PossibleValuesParser {
    let gateway =
        PossibleValue::new(GATEWAY).help("The front door: authentication, policy, gRPC proxy, JSON API, web pages.");
    let services =
        services::SERVICES.iter().map(|service| PossibleValue::new(service.info().part).help(service.info().about));
    PossibleValuesParser::new(with_gateway.then_some(gateway).into_iter().chain(services))
}

/// The part name of the gateway.
const GATEWAY: &str = "gateway";

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        // Minting needs only the mode and the data folder, not a servable configuration.
        Some(Command::Token(args)) => return exit(token::run(args)),
        Some(Command::Generate(args)) => return exit(sen_cli::generate::command::run(args)),
        Some(Command::Client(command)) => return client::run(command),
        // The data folder's files are all these need; the platform need not be configured.
        Some(Command::Backup(args)) => return exit(offline(backup::backup(args))),
        Some(Command::Restore(args)) => return exit(offline(backup::restore(args))),
        _ => {}
    }
    let serving = match &cli.command {
        Some(Command::Serve { part }) if part == GATEWAY => Serving::Gateway,
        Some(Command::Sessions(_)) => Serving::Gateway,
        Some(Command::Migrate { part }) if part == GATEWAY => Serving::Gateway,
        _ => Serving::Service,
    };
    let config = match Config::from_env_for(serving, &services::addresses()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Some(
            Command::Token(_) | Command::Generate(_) | Command::Client(_) | Command::Backup(_) | Command::Restore(_),
        ) => Ok(()),
        Some(Command::Migrate { part }) if part == GATEWAY => {
            runtime(&config, "sen-migrate", |config| async move { sessions::migrate(&config).await })
        }
        Some(Command::Migrate { part }) => match services::by_part(&part) {
            Some(service) => runtime(&config, "sen-migrate", |config| async move {
                sen_platform::service::migrate(service, &config).await
            }),
            None => Err(anyhow::anyhow!("{part} is not a service")),
        },
        Some(Command::Serve { part }) if part == GATEWAY => {
            runtime(&config, "sen-gateway", |config| async move { front::serve(&config).await })
        }
        Some(Command::Sessions(args)) => {
            runtime(&config, "sen-sessions", |config| async move { sessions::run(&args, &config).await })
        }
        Some(Command::Retention(args)) => {
            runtime(&config, "sen-retention", |config| async move { retention::run(&args, &config).await })
        }
        Some(Command::Serve { part }) => match services::by_part(&part) {
            Some(service) => runtime(&config, &format!("sen-{part}"), |config| async move {
                sen_platform::service::serve(service, &config).await
            }),
            None => Err(anyhow::anyhow!("{part} is not a part of the platform")),
        },
        None => runtime(&config, "sen", |config| async move { embedded::run(&config).await }),
    };
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs a command that needs an async runtime but no telemetry or configuration.
fn offline(body: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(body)
}

/// Starts telemetry and the async runtime, then runs `body`.
fn runtime<F, Fut>(config: &Config, service_name: &str, body: F) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // The OTLP exporter needs the runtime, so telemetry starts inside it.
        let _telemetry = telemetry::init(&TelemetrySettings {
            service_name: service_name.to_owned(),
            format: config.log_format,
            filter: config.log_filter.clone(),
            otlp_endpoint: config.otlp_endpoint.clone(),
        })?;
        body(config.clone()).await
    })
}
