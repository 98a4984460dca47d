//! The gateway's own private key, loaded once into one value.
//!
//! It signs the internal identity tokens the services trust ([`crate::authn`]),
//! and the web pages make their keys from the same value: the key that signs
//! session cookies ([`crate::sessions::keys`], beside the earlier keys still
//! accepted after a rotation), the internal token of each page request, and the
//! sign-in cookie's key. In production it is `SEN_GATEWAY_SIGNING_KEY_FILE`
//! (issuer `sen-gateway`, the key the services' `SEN_IDENTITY_PUBLIC_KEY_FILES`
//! trust); in the embedded mode, unless that is set, the development issuer's
//! key in the data folder (issuer `sen-embedded-dev`), as `sen token` uses.

use std::fmt;

use sen_platform::config::{Config, Mode};
use sen_platform::identity::{DEV_ISSUER, DevIssuer, GATEWAY_ISSUER, IdentitySigner};

use crate::config::GatewaySettings;

/// The gateway's Ed25519 private key (PKCS#8 PEM) and the signer of internal
/// tokens made from it.
pub struct SigningKey {
    pem: Vec<u8>,
    signer: IdentitySigner,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key itself.
        f.debug_struct("SigningKey").field("signer", &self.signer).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key as configured: the gateway key when given (always in production),
    /// else the development key of the embedded mode.
    pub fn from_config(config: &Config, settings: &GatewaySettings) -> anyhow::Result<Self> {
        match (&settings.signing_key, config.mode) {
            (Some(path), _) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_SIGNING_KEY_FILE: {}: {e}", path.display()))?;
                Self::from_pem(pem, GATEWAY_ISSUER).map_err(|e| anyhow::anyhow!("SEN_GATEWAY_SIGNING_KEY_FILE: {e}"))
            }
            (None, Mode::Embedded) => {
                DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
                let path = config.data_dir.join(DevIssuer::KEY_FILE);
                let pem = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Self::from_pem(pem, DEV_ISSUER).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            (None, Mode::Production) => anyhow::bail!("SEN_GATEWAY_SIGNING_KEY_FILE is required in production mode"),
        }
    }

    /// A key from its PEM text, signing internal tokens as `issuer`.
    pub fn from_pem(pem: Vec<u8>, issuer: &str) -> Result<Self, String> {
        let signer = IdentitySigner::from_pem(&pem, issuer)?;
        Ok(Self { pem, signer })
    }

    /// Signs the internal identity tokens the services trust.
    pub fn signer(&self) -> &IdentitySigner {
        &self.signer
    }

    /// The private key's PEM text, for the keys made from it (web sessions, the
    /// sign-in cookie), so that every replica makes the same.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_never_printed() {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let pem = key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap();
        let key = SigningKey::from_pem(pem.as_bytes().to_vec(), GATEWAY_ISSUER).unwrap();
        assert!(!format!("{key:?}").contains("PRIVATE KEY"));
        assert!(SigningKey::from_pem(b"not a key".to_vec(), GATEWAY_ISSUER).is_err());
    }
}
