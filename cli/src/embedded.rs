//! The embedded platform: every service in one process, SQLite files under the
//! data folder, the development identity issuer, and demo data on first start.
//! Later parts (pupils, referrals, caseloads, the gateway) join the same process.

use anyhow::bail;
use chrono::Utc;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::DevIssuer;
use sen_schools::{SchoolsApi, Store};

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.mode == Mode::Production {
        bail!("`sen` alone runs the embedded platform; in production run each part with `sen serve <part>`");
    }
    let issuer = DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
    let store = Store::connect(&config.database_url_for(sen_schools::PART), &config.pool).await?;
    if config.demo_data && sen_schools::demo::seed_if_empty(&store, &issuer, Utc::now().date_naive()).await? {
        tracing::info!("loaded demo data: authorities 990 (Northmoor) and 991 (Eastwold)");
    }
    let routes = sen_schools::routes(SchoolsApi::new(store), &issuer.verifier);
    let listener = sen_platform::serve::bind(config).await?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "SEN platform (embedded) listening on {scheme}://{}: gRPC with reflection: {}; data in {}; \
         a token to try it: sen token --role la_manager --tenant 990",
        listener.local_addr()?,
        sen_schools::SERVICE_NAME,
        config.data_dir.display(),
    );
    sen_platform::serve::run(listener, config, routes, &[sen_schools::SERVICE_NAME]).await
}
