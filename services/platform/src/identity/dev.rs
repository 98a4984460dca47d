//! The embedded mode's development issuer, and choosing the verifier a process
//! trusts from its configuration.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

use super::{DEV_ISSUER, GATEWAY_ISSUER, IdentitySigner, IdentityVerifier, SERVICE_ISSUER};

/// The embedded mode's development issuer: an Ed25519 key pair kept in the data
/// folder (created on first start, readable by the owner only), so that `sen token`
/// and the running platform agree without any outside service.
#[derive(Clone, Debug)]
pub struct DevIssuer {
    /// Signs development tokens.
    pub signer: IdentitySigner,
    /// Verifies them.
    pub verifier: IdentityVerifier,
}

impl DevIssuer {
    /// File name of the development key inside the data folder.
    pub const KEY_FILE: &'static str = "dev-identity-key.pem";

    /// A fresh key pair held in memory only (tests).
    pub fn generate() -> Result<Self, String> {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        Self::from_signing_key(&key)
    }

    /// Loads the key from `data_dir`, creating it on first use.
    ///
    /// Several processes may start on one new data folder at once (`sen serve`
    /// of each part): the key is written whole to a file of this process's own
    /// and then linked into place, which succeeds for one of them only; the
    /// others read the key it made. Nobody ever reads a half-written key.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, String> {
        let path = data_dir.join(Self::KEY_FILE);
        if !path.exists() {
            crate::private::private_folder(data_dir)?;
            let key = SigningKey::generate(&mut rand_core::OsRng);
            let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| format!("cannot encode key: {e}"))?;
            let unique = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
            let own = data_dir.join(format!("{}.{}-{unique:016x}.new", Self::KEY_FILE, std::process::id()));
            write_private(&own, pem.as_bytes())?;
            let linked = std::fs::hard_link(&own, &path);
            let _ = std::fs::remove_file(&own);
            match linked {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
        Self::load(&path)
    }

    /// Loads an existing development key (the `sen token` command).
    pub fn load(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            format!("cannot read the development key {}: {e} (start `sen` once to create it)", path.display())
        })?;
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_signing_key(&key)
    }

    fn from_signing_key(key: &SigningKey) -> Result<Self, String> {
        let private = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        let public = key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        Ok(Self {
            signer: IdentitySigner::from_pem(private.as_bytes(), DEV_ISSUER)?,
            verifier: IdentityVerifier::from_public_pems(&[public.into_bytes()], &[DEV_ISSUER])?,
        })
    }

    /// The public half, in SPKI PEM (to configure a separate service process).
    pub fn public_pem(path: &Path) -> Result<String, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
        key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())
    }
}

/// The verifier a service process uses: in production the public keys of the
/// gateway and of the services that call others as themselves
/// (`SEN_IDENTITY_PUBLIC_KEY_FILES`), and tokens of those two issuers only; in the embedded mode
/// the development issuer's key from the data folder.
pub fn verifier_for(config: &crate::config::Config) -> anyhow::Result<IdentityVerifier> {
    match config.mode {
        crate::config::Mode::Production => {
            let pems = config
                .identity_public_keys
                .iter()
                .map(|path| {
                    std::fs::read(path)
                        .map_err(|e| anyhow::anyhow!("SEN_IDENTITY_PUBLIC_KEY_FILES: {}: {e}", path.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            IdentityVerifier::from_public_pems(&pems, &[GATEWAY_ISSUER, SERVICE_ISSUER])
                .map_err(|e| anyhow::anyhow!("SEN_IDENTITY_PUBLIC_KEY_FILES: {e}"))
        }
        crate::config::Mode::Embedded => Ok(DevIssuer::load_or_create(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("development identity issuer: {e}"))?
            .verifier),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Role;
    use super::super::tests::grant;
    use super::*;

    #[test]
    fn processes_starting_together_on_a_new_folder_all_get_the_same_key() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let issuers: Vec<DevIssuer> = std::thread::scope(|scope| {
            let starting: Vec<_> = (0..8).map(|_| scope.spawn(|| DevIssuer::load_or_create(&dir))).collect();
            starting.into_iter().map(|s| s.join().unwrap().expect("a key")).collect()
        });
        let token =
            issuers[0].signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        for issuer in &issuers {
            assert!(issuer.verifier.verify(&token).is_ok(), "every one of them trusts the same key");
        }
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [std::ffi::OsString::from(DevIssuer::KEY_FILE)], "no half-made key files are left");
    }

    #[test]
    fn the_development_key_is_created_once_and_reused() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let first = DevIssuer::load_or_create(&dir).unwrap();
        let second = DevIssuer::load_or_create(&dir).unwrap();
        let token = first.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(second.verifier.verify(&token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(DevIssuer::KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
        }
    }
}
