//! `sen`: the SEN oversight platform in one binary.
//!
//! - `sen` runs the embedded platform: every service in one process on SQLite
//!   under `./data/`, with a development identity issuer and demo data.
//! - `sen serve <part>` runs one part alone, configured from `SEN_*` variables,
//!   as a production pod does.
//! - `sen token …` mints a development identity token for the embedded mode.

mod embedded;
mod token;

use clap::{Parser, Subcommand, ValueEnum};
use sen_platform::config::Config;
use sen_platform::telemetry::{self, TelemetrySettings};

#[derive(Parser)]
#[command(name = "sen", version, about = "The SEN oversight platform", long_about = None)]
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
    /// Mint a development identity token (embedded mode only).
    Token(token::TokenArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Part {
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
    if let Some(Command::Token(args)) = &cli.command {
        // Minting needs only the mode and the data folder, not a servable configuration.
        return exit(token::run(args));
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Some(Command::Token(_)) => Ok(()),
        Some(Command::Serve { part }) => runtime(&config, part_name(part), |config| async move {
            match part {
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
