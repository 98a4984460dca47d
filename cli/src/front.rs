//! `sen serve gateway`: the front door alone, in front of the services at the
//! configured URLs, composed here from its two crates: the gateway
//! (`sen-gateway`: authentication, policy, proxy, JSON, overview) and the web
//! pages (`sen-web`), which it mounts when a web client of the authority's
//! identity provider is configured, and in the embedded (development) mode
//! with the demo sign-in and no demo people (sessions are opened with `sen
//! sessions open`). Both make their keys from the one gateway key, loaded once.

use std::sync::Arc;

use sen_cli::services;
use sen_gateway::config::GatewaySettings;
use sen_gateway::signing_key::SigningKey;
use sen_platform::config::Config;

/// Runs the gateway until SIGTERM or Ctrl-C.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let settings = GatewaySettings::from_env(config)?;
    let key = SigningKey::from_config(config, &settings)?;
    let gateway = Arc::new(sen_gateway::gateway_from_config(config, &settings, &key, &services::routing())?);
    let pages = sen_web::gateway_pages(config, &settings, gateway.upstreams(), &key).await?;
    let listener = sen_platform::serve::bind(config).await?;
    sen_gateway::run(listener, config, gateway, pages).await
}
