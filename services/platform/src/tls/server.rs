//! The server side: a rustls configuration whose certificate and client CA are
//! asked for at each handshake ([`CurrentCertificate`], [`CurrentClientCa`]), so
//! a renewed certificate is served to the next connection while the open ones
//! go on; and the TLS connections accepted on a port, for tonic to serve.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::StreamExt;

use super::pem::{self, Validity};
use super::reload::Reloading;
use crate::config::TlsFiles;

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a server presents and whom it accepts, as last read from the files.
struct Material {
    certified: Arc<CertifiedKey>,
    validity: Option<Validity>,
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
}

fn build(bytes: &[Vec<u8>]) -> anyhow::Result<Material> {
    let certified = pem::certified_key(&bytes[0], &bytes[1], "served (SEN_TLS_CERT_FILE, SEN_TLS_KEY_FILE)")?;
    let validity = Validity::of(&certified.cert[0]);
    let client_ca = match bytes.get(2) {
        Some(ca) => {
            let roots = pem::roots(ca, "client CA (SEN_TLS_CLIENT_CA_FILE)")?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, super::crypto::provider())
                .build()
                .map_err(|e| anyhow::anyhow!("client CA (SEN_TLS_CLIENT_CA_FILE): {e}"))?;
            Some(verifier)
        }
        None => None,
    };
    Ok(Material { certified, validity, client_ca })
}

/// Server TLS that follows its files: see [the module](super).
#[derive(Clone)]
pub struct ServerTls {
    material: Arc<Reloading<Material>>,
    config: Arc<rustls::ServerConfig>,
    /// Where the served certificate's end is kept: its own gauge first, then any given.
    expiry: Arc<Mutex<Vec<Gauge>>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("material", &self.material).finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Reads `files` (every problem names its variable) and follows them from
    /// now on, offering HTTP/2 (gRPC).
    pub fn load(files: &TlsFiles) -> anyhow::Result<Self> {
        let mut paths = vec![files.cert.clone(), files.key.clone()];
        paths.extend(files.client_ca.clone());
        for (path, what) in paths.iter().zip(["SEN_TLS_CERT_FILE", "SEN_TLS_KEY_FILE", "SEN_TLS_CLIENT_CA_FILE"]) {
            pem::read(path, what)?;
        }
        let material = Reloading::load("TLS certificate", paths, build)?;
        let builder = rustls::ServerConfig::builder_with_provider(super::crypto::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS: {e}"))?;
        let builder = if files.client_ca.is_some() {
            builder.with_client_cert_verifier(Arc::new(CurrentClientCa(material.clone())))
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder.with_cert_resolver(Arc::new(CurrentCertificate(material.clone())));
        config.alpn_protocols = vec![b"h2".to_vec()];
        let expiry = Gauge::default();
        if let Some(validity) = &material.current().validity {
            expiry.set(validity.not_after);
        }
        let expiry = Arc::new(Mutex::new(vec![expiry]));
        let gauges = expiry.clone();
        material.follow(move |material| {
            let served = material.validity.as_ref().map_or_else(|| "not X.509".to_owned(), Validity::describe);
            tracing::info!(
                certificate = %served,
                "the TLS certificate files changed: new connections are served the new certificate"
            );
            if let Some(validity) = &material.validity {
                for gauge in gauges.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                    gauge.set(validity.not_after);
                }
            }
        });
        Ok(Self { material, config: Arc::new(config), expiry })
    }

    /// The same, offering `protocols` (ALPN) instead, e.g. HTTP/2 and HTTP/1.1.
    pub fn with_alpn(mut self, protocols: &[&[u8]]) -> Self {
        let mut config = (*self.config).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        self.config = Arc::new(config);
        self
    }

    /// The served certificate's end (seconds since the Unix epoch) kept in
    /// `gauge` too from now on, for a registry of its own.
    pub fn with_expiry_gauge(self, gauge: Gauge) -> Self {
        gauge.set(self.expiry().get());
        self.expiry.lock().unwrap_or_else(PoisonError::into_inner).push(gauge);
        self
    }

    /// The served certificate's end, in seconds since the Unix epoch, kept
    /// current: `sen_tls_certificate_expiry_timestamp_seconds`.
    pub fn expiry(&self) -> Gauge {
        self.expiry.lock().unwrap_or_else(PoisonError::into_inner).first().cloned().unwrap_or_default()
    }

    /// Registers [`Self::expiry`] in `metrics`.
    pub fn register(&self, metrics: &crate::metrics::Metrics) {
        metrics.register(
            "sen_tls_certificate_expiry_timestamp_seconds",
            "When the served TLS certificate ends, in seconds since the Unix epoch",
            self.expiry(),
        );
    }

    /// The rustls configuration, for a server that accepts TLS itself.
    pub fn config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    /// The TLS connections accepted on `listener`, handshakes done, each over a
    /// TCP connection set up by [`crate::accept::incoming`]. Handshakes run side
    /// by side, so a slow client holds up no other; one that fails is logged and
    /// left out. Accepting stops when the stream is dropped.
    pub fn incoming(
        &self,
        listener: TcpListener,
    ) -> impl tokio_stream::Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static {
        let acceptor = TlsAcceptor::from(self.config());
        let (done, handshaken) = tokio::sync::mpsc::channel(64);
        let mut accepted = crate::accept::incoming(listener);
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    () = done.closed() => return,
                    next = accepted.next() => match next {
                        Some(Ok(stream)) => stream,
                        Some(Err(e)) => {
                            // Out of file descriptors and the like: wait a moment rather than spin.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                        None => return,
                    },
                };
                let (acceptor, done) = (acceptor.clone(), done.clone());
                tokio::spawn(async move {
                    let peer = stream.peer_addr().ok();
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = done.send(Ok(tls)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(?peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(?peer, "TLS handshake not finished in time"),
                    }
                });
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(handshaken)
    }
}

/// The certificate in use, asked for at each handshake.
#[derive(Debug)]
struct CurrentCertificate(Arc<Reloading<Material>>);

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current().certified.clone())
    }
}

/// Client certificates checked against the client CA in use.
#[derive(Debug)]
struct CurrentClientCa(Arc<Reloading<Material>>);

impl CurrentClientCa {
    fn verifier(&self) -> Result<Arc<dyn ClientCertVerifier>, rustls::Error> {
        // The verifier exists whenever this one is installed (a client CA is configured).
        self.0.current().client_ca.clone().ok_or(rustls::Error::General("no client CA".into()))
    }
}

impl ClientCertVerifier for CurrentClientCa {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: the CA may change under a borrowed list, and each client has one certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.verifier()?.verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        super::crypto::provider().signature_verification_algorithms.supported_schemes()
    }
}
