//! `sen`: the SEN oversight platform in one binary.
//!
//! - `sen` runs the embedded platform: every service in one process on SQLite
//!   under `./data/`, with a development identity issuer and demo data.
//! - `sen serve <part>` runs one part alone, configured from `SEN_*` variables,
//!   as a production pod does.
//! - `sen migrate <part>` brings one service's database schema up to date and
//!   exits (the migration Job before a rollout).
//! - `sen token …` mints a development identity token for the embedded mode.
//! - `sen caseload`, `sen case …`, `sen referrals …`, `sen overview`: the client
//!   for professionals, SENCOs and school systems, talking gRPC to the gateway.

mod client;
mod embedded;
mod token;

use clap::{Parser, Subcommand, ValueEnum};
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
        /// Which part.
        part: Part,
    },
    /// Bring one service's database schema up to date, then exit.
    Migrate {
        /// Which service.
        part: Service,
    },
    /// Mint a development identity token (embedded mode only).
    Token(token::TokenArgs),
    #[command(flatten)]
    Client(client::ClientCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum Service {
    /// Authorities, schools and SENCOs.
    Schools,
    /// The SEN register.
    Pupils,
    /// Referrals.
    Referrals,
    /// Caseloads.
    Caseloads,
}

#[derive(Clone, Copy, ValueEnum)]
enum Part {
    /// The front door: authentication, policy, gRPC proxy, JSON API, overview.
    Gateway,
    /// Authorities, schools and SENCOs.
    Schools,
    /// The SEN register, support, EHCPs, reviews and transfers.
    Pupils,
    /// Referrals and the EHC needs assessment statutory clock.
    Referrals,
    /// EP and advisory teacher caseloads, allocation and the time-allocation model.
    Caseloads,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        // Minting needs only the mode and the data folder, not a servable configuration.
        Some(Command::Token(args)) => return exit(token::run(args)),
        Some(Command::Client(command)) => return client::run(command),
        _ => {}
    }
    let serving = match cli.command {
        Some(Command::Serve { part: Part::Gateway }) => Serving::Gateway,
        _ => Serving::Service,
    };
    let config = match Config::from_env_for(serving) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Some(Command::Token(_) | Command::Client(_)) => Ok(()),
        Some(Command::Migrate { part }) => runtime(&config, "sen-migrate", |config| async move {
            let (name, url) = match part {
                Service::Schools => (sen_schools::PART, config.database_url_for(sen_schools::PART)),
                Service::Pupils => (sen_pupils::PART, config.database_url_for(sen_pupils::PART)),
                Service::Referrals => (sen_referrals::PART, config.database_url_for(sen_referrals::PART)),
                Service::Caseloads => (sen_caseloads::PART, config.database_url_for(sen_caseloads::PART)),
            };
            // Connecting runs the service's migrations.
            match part {
                Service::Schools => drop(sen_schools::Store::connect(&url, &config.pool).await?),
                Service::Pupils => drop(sen_pupils::Store::connect(&url, &config.pool).await?),
                Service::Referrals => drop(sen_referrals::Store::connect(&url, &config.pool).await?),
                Service::Caseloads => drop(sen_caseloads::Store::connect(&url, &config.pool).await?),
            }
            tracing::info!(service = name, "the database schema is up to date");
            Ok(())
        }),
        Some(Command::Serve { part }) => runtime(&config, part_name(part), |config| async move {
            match part {
                Part::Gateway => sen_gateway::serve(&config).await,
                Part::Schools => sen_schools::serve(&config).await,
                Part::Pupils => sen_pupils::serve(&config).await,
                Part::Referrals => sen_referrals::serve(&config).await,
                Part::Caseloads => sen_caseloads::serve(&config).await,
            }
        }),
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

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Gateway => "sen-gateway",
        Part::Schools => "sen-schools",
        Part::Pupils => "sen-pupils",
        Part::Referrals => "sen-referrals",
        Part::Caseloads => "sen-caseloads",
    }
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
