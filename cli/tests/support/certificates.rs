//! What the production topology's parts need to prove who they are: an
//! internal CA with a certificate per part (named `localhost`, for server and
//! client alike), and the Ed25519 keys that sign identity tokens (the
//! gateway's and the caseloads service's own), all written to a folder.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// Certificates for every part from one CA, and the two Ed25519 signing keys.
pub fn material(dir: &Path, parts: &[&str]) -> PathBuf {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
    for name in parts.iter().chain(&["gateway"]) {
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("cert");
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write");
        std::fs::write(dir.join(format!("{name}-key.pem")), key.serialize_pem()).expect("write");
    }
    for signer in ["gateway-signing", "service-signing"] {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let private = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let public = key.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem");
        std::fs::write(dir.join(format!("{signer}.pem")), private.as_bytes()).expect("write");
        std::fs::write(dir.join(format!("{signer}.pub.pem")), public).expect("write");
    }
    dir.join("ca.pem")
}
