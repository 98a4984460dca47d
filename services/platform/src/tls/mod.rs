//! TLS from PEM files (rustls): the server side, with optional mutual TLS, and
//! the client side trusting a private CA, as used between the gateway and the
//! services in a cluster.
//!
//! Certificates are renewed while pods run (cert-manager rewrites the mounted
//! Secret long before the old certificate ends), so nothing here reads its files
//! only once: every few seconds ([`RELOAD_EVERY`]) the files are read again and,
//! when they changed and make a valid whole, the new material is used for every
//! new connection ([`reload`]). Connections already open keep the certificate
//! they were made with; a half-written or broken set of files is logged and the
//! material in use kept.
//!
//! - [`ServerTls`]: the served certificate and key (rustls `ResolvesServerCert`)
//!   and, for mutual TLS, the CA that client certificates must chain to (a
//!   client-certificate verifier asking the current CA), with the served
//!   certificate's end as `sen_tls_certificate_expiry_timestamp_seconds`.
//! - [`ClientTls`]: the CA the called services must chain to and the client
//!   certificate presented to them, for [`crate::client`]'s channels.
//! - [`client_tls`]: a fixed client configuration for short-lived clients (the
//!   `sen` command line).

mod client;
mod crypto;
mod pem;
mod reload;
mod server;

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity as TlsIdentity};

pub use self::client::ClientTls;
pub use self::server::ServerTls;
use crate::config::TlsFiles;

pub use self::reload::RELOAD_EVERY;

/// Server TLS from a certificate chain and key; with `client_ca`, clients must
/// present a certificate signed by it (mutual TLS). The files are followed as
/// they change.
pub fn server_tls(files: &TlsFiles) -> anyhow::Result<ServerTls> {
    ServerTls::load(files)
}

/// Client TLS trusting `ca` for server `domain`; with `client`, presents that
/// certificate and key (mutual TLS). Read once: for a short-lived client.
pub fn client_tls(ca: &Path, domain: &str, client: Option<(&Path, &Path)>) -> anyhow::Result<ClientTlsConfig> {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pem::read(ca, "CA certificate")?))
        .domain_name(domain.to_owned());
    if let Some((cert, key)) = client {
        config = config
            .identity(TlsIdentity::from_pem(pem::read(cert, "client certificate")?, pem::read(key, "client key")?));
    }
    Ok(config)
}
