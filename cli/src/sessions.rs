//! `sen sessions end --person ID [--tenant LA]` ends a person's web sessions at
//! once, on every gateway replica (they share the session store), for when a
//! person leaves or must lose access before their sessions would expire. Their
//! next page request goes to the sign-in page; signing in again asks the
//! identity provider, which decides their role afresh.
//!
//! `sen sessions open --role R [--tenant LA] [--school URN] [--person ID]` is the
//! embedded mode's counterpart of `sen token` for the pages: it signs a person in
//! with the development key and prints the session cookie (`sen_session=…`), for
//! measuring or scripting the pages as any role. Production refuses it: there,
//! only the identity provider signs people in.
//!
//! The store is the one the gateway is configured with: `SEN_GATEWAY_DATABASE_URL`,
//! or in the embedded mode `gateway.db` in the data folder (`SEN_DATA_DIR`).
//! `sen migrate gateway` brings that store's schema up to date.

use anyhow::Context;
use clap::{Args, Subcommand};
use sen_gateway::config::GatewaySettings;
use sen_gateway::sessions::{EndReason, SessionSettings, SessionStore};
use sen_gateway::signing_key::SigningKey;
use sen_platform::config::{Config, Mode};
use sen_platform::ids::LaCode;

use crate::token::GrantArgs;

/// What to do with web sessions.
#[derive(Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    command: SessionsCommand,
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// End every web session of a person now, on every gateway replica.
    End {
        /// The person's id (the identity provider's subject, as in the audit trail).
        #[arg(long)]
        person: String,
        /// Only their sessions in this authority (three-digit LA code).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Embedded mode only: sign a person in and print their session cookie.
    Open(GrantArgs),
}

/// `sen migrate gateway`: brings the configured session store's schema up to
/// date (the gateway also does so when it starts).
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    SessionStore::connect(&store_url(config)?, &config.pool).await?;
    tracing::info!("the gateway's session store is up to date");
    Ok(())
}

/// The configured session store's URL.
fn store_url(config: &Config) -> anyhow::Result<String> {
    SessionSettings::from_env(config)?
        .database_url
        .context("SEN_GATEWAY_DATABASE_URL is not set: this gateway keeps no web sessions (no SEN_OIDC_CLIENT_ID)")
}

/// Runs the command against the configured session store.
pub async fn run(args: &SessionsArgs, config: &Config) -> anyhow::Result<()> {
    match &args.command {
        SessionsCommand::End { person, tenant } => {
            let person = person.trim();
            if person.is_empty() {
                anyhow::bail!("--person: is empty");
            }
            let tenant =
                tenant.as_deref().map(LaCode::parse).transpose().map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
            let store = SessionStore::connect(&store_url(config)?, &config.pool).await?;
            let now = chrono::Utc::now().timestamp();
            let ended = store.end_person(person, tenant, now, EndReason::Operator).await?;
            let scope = tenant.map(|t| format!(" in authority {t}")).unwrap_or_default();
            let tenant_field = tenant.map(|t| t.to_string());
            tracing::info!(sessions = ended, tenant = ?tenant_field, "an operator ended a person's web sessions");
            println!("Ended {ended} web session{} of {person}{scope}.", if ended == 1 { "" } else { "s" });
            Ok(())
        }
        SessionsCommand::Open(who) => {
            if config.mode == Mode::Production {
                anyhow::bail!("sessions are opened only by signing in with the identity provider in production mode");
            }
            let grant = who.grant()?;
            let gateway = GatewaySettings::from_env(config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let key = SigningKey::from_config(config, &gateway)?;
            let settings = SessionSettings::from_env(config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let keys = sen_gateway::sessions::key_set(&key, &settings)?;
            let store = sen_gateway::sessions::open(config, &settings, &keys, sen_web::session::now()).await?;
            let cookie = sen_web::session::Sessions::new(keys, store, None)
                .sign_in(&grant, false)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("{}", cookie.split(';').next().unwrap_or_default());
            Ok(())
        }
    }
}
