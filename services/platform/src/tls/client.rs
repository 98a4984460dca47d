//! The client side: a rustls configuration that checks the called service's
//! certificate against the CA in use ([`CurrentCa`]) and presents the client
//! certificate in use ([`CurrentIdentity`]), both asked for at each handshake,
//! so a channel's next connection uses renewed files while its open one goes on.

use std::path::Path;
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::pem::{self, Validity};
use super::reload::Reloading;

/// Whom a client trusts and what it presents, as last read from the files.
struct Material {
    verifier: Arc<dyn ServerCertVerifier>,
    identity: Option<Arc<CertifiedKey>>,
}

fn build(bytes: &[Vec<u8>]) -> anyhow::Result<Material> {
    let roots = pem::roots(&bytes[0], "CA of the called services (SEN_UPSTREAM_CA_FILE)")?;
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, super::crypto::provider())
        .build()
        .map_err(|e| anyhow::anyhow!("CA of the called services (SEN_UPSTREAM_CA_FILE): {e}"))?;
    let identity = match (bytes.get(1), bytes.get(2)) {
        (Some(cert), Some(key)) => Some(pem::certified_key(cert, key, "client (SEN_TLS_CERT_FILE, SEN_TLS_KEY_FILE)")?),
        _ => None,
    };
    Ok(Material { verifier, identity })
}

/// Client TLS that follows its files: see [the module](super).
#[derive(Clone)]
pub struct ClientTls {
    material: Arc<Reloading<Material>>,
    connector: TlsConnector,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").field("material", &self.material).finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Trusting the CA in `ca`; with `identity`, presenting that certificate and
    /// key. Follows the files from now on (within a Tokio runtime).
    pub fn load(ca: &Path, identity: Option<(&Path, &Path)>) -> anyhow::Result<Self> {
        pem::read(ca, "CA certificate (SEN_UPSTREAM_CA_FILE)")?;
        let mut paths = vec![ca.to_path_buf()];
        if let Some((cert, key)) = identity {
            pem::read(cert, "client certificate (SEN_TLS_CERT_FILE)")?;
            pem::read(key, "client key (SEN_TLS_KEY_FILE)")?;
            paths.extend([cert.to_path_buf(), key.to_path_buf()]);
        }
        let material = Reloading::load("TLS client", paths, build)?;
        let builder = rustls::ClientConfig::builder_with_provider(super::crypto::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CurrentCa(material.clone())));
        let mut config = if identity.is_some() {
            builder.with_client_cert_resolver(Arc::new(CurrentIdentity(material.clone())))
        } else {
            builder.with_no_client_auth()
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        material.follow(|material| {
            let presented = material
                .identity
                .as_ref()
                .and_then(|identity| Validity::of(&identity.cert[0]))
                .map_or_else(|| "none".to_owned(), |validity| validity.describe());
            tracing::info!(
                client_certificate = %presented,
                "the TLS client files changed: new connections to other services use them"
            );
        });
        Ok(Self { material, connector: TlsConnector::from(Arc::new(config)) })
    }

    /// TLS over `tcp` to the service named `domain`.
    pub async fn connect(&self, domain: ServerName<'static>, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        self.connector.connect(domain, tcp).await
    }
}

/// The called service's certificate checked against the CA in use.
#[derive(Debug)]
struct CurrentCa(Arc<Reloading<Material>>);

impl ServerCertVerifier for CurrentCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.current().verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.current().verifier.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.current().verifier.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.current().verifier.supported_verify_schemes()
    }
}

/// The client certificate in use, asked for at each handshake.
#[derive(Debug)]
struct CurrentIdentity(Arc<Reloading<Material>>);

impl ResolvesClientCert for CurrentIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.0.current().identity.clone()
    }

    fn has_certs(&self) -> bool {
        self.0.current().identity.is_some()
    }
}
