//! A service's own identity, for calls it makes as itself rather than with a
//! person's own token: the caseloads service opening a professional's access to
//! a pupil, or moving a referral to allocated. Tokens carry role `service`, the
//! service's name as the person, and the tenant the call is for; they last five
//! minutes. When the service does it for a person (the manager allocating a
//! case), the token also carries that person's own token
//! ([`super::OnBehalfOf`]), so that the service called records the person.

use std::time::Duration;

use super::{DevIssuer, Grant, Identity, IdentitySigner, Role, SERVICE_ISSUER};
use crate::config::{Config, Mode};
use crate::ids::LaCode;

/// Lifetime of a service token: long enough for one call and its retries.
const LIFETIME: Duration = Duration::from_secs(300);

/// Mints service tokens.
#[derive(Clone, Debug)]
pub struct ServiceIdentity {
    signer: IdentitySigner,
    name: String,
}

impl ServiceIdentity {
    /// A service called `name` signing with `signer`.
    pub fn new(signer: IdentitySigner, name: &str) -> Self {
        Self { signer, name: name.to_owned() }
    }

    /// As configured: the key in `SEN_SERVICE_SIGNING_KEY_FILE` in production, the
    /// development issuer's key in the embedded mode.
    pub fn from_config(config: &Config, name: &str) -> anyhow::Result<Self> {
        let signer = match (config.mode, &config.service_signing_key) {
            (Mode::Production, Some(path)) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("SEN_SERVICE_SIGNING_KEY_FILE: {}: {e}", path.display()))?;
                IdentitySigner::from_pem(&pem, SERVICE_ISSUER)
                    .map_err(|e| anyhow::anyhow!("SEN_SERVICE_SIGNING_KEY_FILE: {e}"))?
            }
            (Mode::Production, None) => {
                anyhow::bail!("SEN_SERVICE_SIGNING_KEY_FILE is required: the {name} service calls others as itself")
            }
            (Mode::Embedded, _) => DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?.signer,
        };
        Ok(Self::new(signer, name))
    }

    /// A token for one call in `tenant`.
    pub fn token(&self, tenant: LaCode) -> Result<String, String> {
        let grant = Grant { person: self.name.clone(), role: Role::Service, tenant: Some(tenant), school: None };
        self.signer.mint(&grant, LIFETIME)
    }

    /// A token for one call in `tenant` made for `caller`, the verified caller of
    /// the request the service is serving: the service called checks the role
    /// and scope of this service as ever, and records `caller`'s person as who
    /// did it. For a caller that is itself a service acting for a person, that
    /// person; for a service acting for itself (a background pass), a plain
    /// service token. Refused when `caller` is of another authority.
    pub fn token_on_behalf_of(&self, tenant: LaCode, caller: &Identity) -> Result<String, String> {
        let person = match (caller.role(), caller.on_behalf_of()) {
            (Role::Service, Some(person)) => person.token(),
            (Role::Service, None) => return self.token(tenant),
            _ => caller.token(),
        };
        if caller.tenant() != Some(tenant) {
            return Err(format!("a call for authority {tenant} cannot be made for a caller of another"));
        }
        let grant = Grant { person: self.name.clone(), role: Role::Service, tenant: Some(tenant), school: None };
        self.signer.mint_acting(&grant, LIFETIME, Some(person))
    }

    /// A token for one call about every tenant at once, for the few service-only
    /// methods that take one (the retention pass listing what is due across
    /// authorities); every tenant-scoped method refuses it.
    pub fn token_for_every_tenant(&self) -> Result<String, String> {
        let grant = Grant { person: self.name.clone(), role: Role::Service, tenant: None, school: None };
        self.signer.mint(&grant, LIFETIME)
    }
}
