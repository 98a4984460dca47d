//! TLS from PEM files (rustls through tonic): the server side, with optional
//! mutual TLS, and the client side trusting a private CA, as used between the
//! gateway and the services in a cluster.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity as TlsIdentity, ServerTlsConfig};

use crate::config::TlsFiles;

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {what} {}: {e}", path.display()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        anyhow::bail!("{what} {} is not PEM", path.display());
    }
    Ok(bytes)
}

/// Server TLS from a certificate chain and key; with `client_ca`, clients must
/// present a certificate signed by it (mutual TLS).
pub fn server_tls(files: &TlsFiles) -> anyhow::Result<ServerTlsConfig> {
    let identity = TlsIdentity::from_pem(
        read(&files.cert, "certificate (SEN_TLS_CERT_FILE)")?,
        read(&files.key, "private key (SEN_TLS_KEY_FILE)")?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA (SEN_TLS_CLIENT_CA_FILE)")?));
    }
    Ok(config)
}

/// Client TLS trusting `ca` for server `domain`; with `client`, presents that
/// certificate and key (mutual TLS).
pub fn client_tls(ca: &Path, domain: &str, client: Option<(&Path, &Path)>) -> anyhow::Result<ClientTlsConfig> {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(ca, "CA certificate")?))
        .domain_name(domain.to_owned());
    if let Some((cert, key)) = client {
        config = config.identity(TlsIdentity::from_pem(read(cert, "client certificate")?, read(key, "client key")?));
    }
    Ok(config)
}
