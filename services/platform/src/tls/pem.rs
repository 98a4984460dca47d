//! Turning PEM bytes into what rustls takes, each failure naming what was being
//! read, and reading a certificate's serial number and end for the logs and the
//! expiry metric.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// The bytes of the PEM file at `path` (`what` names it in errors).
pub(super) fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {what} {}: {e}", path.display()))?;
    if !is_pem(&bytes) {
        anyhow::bail!("{what} {} is not PEM", path.display());
    }
    Ok(bytes)
}

/// Whether `bytes` hold at least one PEM block.
pub(crate) fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The certificates in `pem`, at least one.
pub(crate) fn certificates(pem: &[u8], what: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{what} is not PEM certificates: {e}"))?;
    if certificates.is_empty() {
        anyhow::bail!("{what} holds no certificate");
    }
    Ok(certificates)
}

/// The certificate chain in `cert` with the private key in `key`, which must belong to it.
pub(crate) fn certified_key(cert: &[u8], key: &[u8], what: &str) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain = certificates(cert, &format!("{what} certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| anyhow::anyhow!("{what} key is not a PEM key: {e}"))?;
    let certified = CertifiedKey::from_der(chain, key, &super::crypto::provider())
        .map_err(|e| anyhow::anyhow!("{what} certificate and key do not go together: {e}"))?;
    Ok(Arc::new(certified))
}

/// The CA certificates in `pem`, as trust anchors.
pub(crate) fn roots(pem: &[u8], what: &str) -> anyhow::Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(pem, what)? {
        roots.add(certificate).map_err(|e| anyhow::anyhow!("{what}: not a usable CA certificate: {e}"))?;
    }
    Ok(Arc::new(roots))
}

/// What the logs and the expiry metric say of a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validity {
    /// The serial number, in hexadecimal.
    pub serial: String,
    /// When it ends, in seconds since the Unix epoch.
    pub not_after: i64,
}

impl Validity {
    /// The serial and end of `certificate`, if it parses as X.509.
    pub(crate) fn of(certificate: &CertificateDer<'_>) -> Option<Self> {
        let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
        Some(Self { serial: parsed.raw_serial_as_string(), not_after: parsed.validity().not_after.timestamp() })
    }

    /// For a log line: the serial and the end as a date.
    pub(crate) fn describe(&self) -> String {
        let end = chrono::DateTime::from_timestamp(self.not_after, 0)
            .map_or_else(|| self.not_after.to_string(), |end| end.to_rfc3339());
        format!("serial {}, valid until {end}", self.serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_certificate_and_its_own_key_make_a_served_identity() {
        let (cert, key) = made();
        let certified = certified_key(cert.as_bytes(), key.as_bytes(), "server").unwrap();
        let validity = Validity::of(&certified.cert[0]).unwrap();
        assert!(validity.not_after > 0 && !validity.serial.is_empty(), "{validity:?}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_by_name() {
        let (cert, _) = made();
        let (_, other_key) = made();
        let err = certified_key(cert.as_bytes(), other_key.as_bytes(), "server").unwrap_err();
        assert!(err.to_string().contains("server certificate and key do not go together"), "{err}");
        let err = certified_key(b"nothing here", other_key.as_bytes(), "server").unwrap_err();
        assert!(err.to_string().contains("server certificate"), "{err}");
    }
}
