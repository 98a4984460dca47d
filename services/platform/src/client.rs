//! Channels to other services: plaintext on loopback in the embedded mode; TLS
//! trusting `SEN_UPSTREAM_CA_FILE` otherwise, presenting this service's own
//! certificate (`SEN_TLS_CERT_FILE` / `SEN_TLS_KEY_FILE`) where the callee
//! requires mutual TLS. Channels connect lazily and reconnect by themselves, so a
//! service starts even while the one it calls is still starting.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::config::Config;

/// A channel to the service at `url`, as configured.
pub fn channel(url: &str, config: &Config) -> anyhow::Result<Channel> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| anyhow::anyhow!("'{url}' is not a service URL: {e}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        // tonic's default, said here because a 40 ms stall per small call hangs on it.
        .tcp_nodelay(true);
    if url.starts_with("https://") {
        let ca = config
            .upstream_ca
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("SEN_UPSTREAM_CA_FILE is required for {url}"))?;
        let host = endpoint.uri().host().unwrap_or_default().to_owned();
        let identity = config.tls.as_ref().map(|tls| (tls.cert.as_path(), tls.key.as_path()));
        endpoint = endpoint.tls_config(crate::tls::client_tls(ca, &host, identity)?)?;
    }
    Ok(endpoint.connect_lazy())
}
