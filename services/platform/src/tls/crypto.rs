//! The cryptography every TLS configuration of the platform uses: rustls with ring.

use std::sync::Arc;

/// The provider every client and server configuration here is built with.
pub(super) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
