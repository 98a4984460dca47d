//! `sen-schools`: the schools service on its own, configured from `SEN_*`
//! variables. The same as `sen serve schools`.

use sen_platform::config::Config;
use sen_platform::telemetry::{self, TelemetrySettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let _telemetry = telemetry::init(&TelemetrySettings {
        service_name: "sen-schools".into(),
        format: config.log_format,
        filter: config.log_filter.clone(),
        otlp_endpoint: config.otlp_endpoint.clone(),
    })?;
    sen_schools::serve(&config).await
}
