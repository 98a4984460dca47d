//! Who is calling, proven. The gateway (or, in the embedded mode, the development
//! issuer) signs a short-lived EdDSA token naming the caller's tenant, person, role
//! and school; the services verify it on every call and trust nothing else.
//!
//! The token travels in the `x-sen-identity` request metadata. [`IdentityVerifier`]
//! turns a token into an [`Identity`]; nothing else can make one, and only an
//! `Identity` can make the [`TenantScope`] and [`SchoolScope`] that every store
//! function takes. So a query that is not scoped to a verified caller does not
//! compile.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

use crate::ids::{LaCode, Urn};

/// Request metadata key carrying the internal identity token.
pub const IDENTITY_METADATA_KEY: &str = "x-sen-identity";
/// Audience of every internal identity token.
pub const AUDIENCE: &str = "sen-services";
/// Issuer of tokens the gateway mints in production.
pub const GATEWAY_ISSUER: &str = "sen-gateway";
/// Issuer of tokens minted by the embedded development issuer; refused in production.
pub const DEV_ISSUER: &str = "sen-embedded-dev";
/// The longest lifetime a token may have.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Clock skew tolerated between issuer and service.
const LEEWAY_SECONDS: u64 = 30;

/// The roles of DESIGN.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Council SEN manager: everything in the tenant.
    LaManager,
    /// Council SEN case officer: pupils, EHCPs, referrals; no staff administration.
    CaseOfficer,
    /// A school's SENCO: their own school only.
    Senco,
    /// Educational psychologist: their own caseload.
    EducationalPsychologist,
    /// Advisory teacher: their own caseload.
    AdvisoryTeacher,
    /// Runs the platform: creates tenants, sees health; never reads tenant data.
    PlatformOperator,
}

impl Role {
    /// Every role, for policy tables and tests.
    pub const ALL: [Role; 6] = [
        Role::LaManager,
        Role::CaseOfficer,
        Role::Senco,
        Role::EducationalPsychologist,
        Role::AdvisoryTeacher,
        Role::PlatformOperator,
    ];

    /// The name used in tokens and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::LaManager => "la_manager",
            Role::CaseOfficer => "case_officer",
            Role::Senco => "senco",
            Role::EducationalPsychologist => "educational_psychologist",
            Role::AdvisoryTeacher => "advisory_teacher",
            Role::PlatformOperator => "platform_operator",
        }
    }

    /// Reads a role name.
    pub fn parse(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("'{s}' is not a role (one of: {})", names.join(", "))
        })
    }

    fn has_tenant(self) -> bool {
        self != Role::PlatformOperator
    }

    fn has_school(self) -> bool {
        self == Role::Senco
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an issuer is asked to vouch for. Not trusted by itself: it becomes an
/// [`Identity`] only after being signed and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Stable id of the person (the identity provider's subject).
    pub person: String,
    /// Their role.
    pub role: Role,
    /// Their authority; none only for the platform operator.
    pub tenant: Option<LaCode>,
    /// Their school; SENCOs only.
    pub school: Option<Urn>,
}

impl Grant {
    /// Checks that the grant has exactly the scope its role needs.
    pub fn validate(&self) -> Result<(), String> {
        if self.person.trim().is_empty() {
            return Err("person id is empty".into());
        }
        match (self.role.has_tenant(), self.tenant) {
            (true, None) => return Err(format!("role {} needs a tenant", self.role)),
            (false, Some(_)) => return Err(format!("role {} has no tenant", self.role)),
            _ => {}
        }
        match (self.role.has_school(), self.school) {
            (true, None) => Err(format!("role {} needs a school URN", self.role)),
            (false, Some(_)) => Err(format!("role {} is not tied to one school", self.role)),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    school: Option<String>,
    iat: u64,
    exp: u64,
}

/// Why a token was refused. Callers only ever see UNAUTHENTICATED; this is for logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, issuer, audience or expiry failed.
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    /// Signed, but its claims do not make a coherent identity.
    #[error("token claims are not a valid identity: {0}")]
    Claims(String),
}

/// A verified caller. Made only by [`IdentityVerifier::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    person: String,
    role: Role,
    tenant: Option<LaCode>,
    school: Option<Urn>,
}

/// The caller may not do this (PERMISSION_DENIED).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccessDenied(String);

impl From<AccessDenied> for Status {
    fn from(denied: AccessDenied) -> Self {
        Status::permission_denied(denied.0)
    }
}

impl Identity {
    /// The person's stable id.
    pub fn person(&self) -> &str {
        &self.person
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The caller's authority, if their role has one.
    pub fn tenant(&self) -> Option<LaCode> {
        self.tenant
    }

    /// Refuses the call unless the caller holds one of `allowed`.
    pub fn require_role(&self, allowed: &[Role]) -> Result<(), AccessDenied> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(AccessDenied(format!("role {} may not do this", self.role)))
        }
    }

    /// The whole-tenant scope. Refused for roles without a tenant and for SENCOs,
    /// whose reach is one school: use [`Identity::scope`] for reads they may make.
    pub fn tenant_scope(&self) -> Result<TenantScope, AccessDenied> {
        match (self.tenant, self.role) {
            (Some(la_code), role) if role != Role::Senco => Ok(TenantScope { la_code }),
            _ => Err(AccessDenied(format!("role {} has no authority-wide access", self.role))),
        }
    }

    /// The widest read scope of this caller: their school for a SENCO, their
    /// tenant for other tenant roles. The platform operator has none.
    pub fn scope(&self) -> Result<Scope, AccessDenied> {
        let Some(la_code) = self.tenant else {
            return Err(AccessDenied(format!("role {} does not read tenant data", self.role)));
        };
        let tenant = TenantScope { la_code };
        Ok(match self.school {
            Some(urn) if self.role == Role::Senco => Scope::School(SchoolScope { tenant, urn }),
            _ => Scope::Tenant(tenant),
        })
    }

    /// The identity attached to a request by [`IdentityVerifier::interceptor`].
    pub fn of<T>(request: &Request<T>) -> Result<Identity, Status> {
        request.extensions().get::<Identity>().cloned().ok_or_else(|| Status::unauthenticated("no verified identity"))
    }
}

/// One authority's data. Made only from a verified [`Identity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantScope {
    la_code: LaCode,
}

impl TenantScope {
    /// The tenant every query must filter on.
    pub fn la_code(&self) -> LaCode {
        self.la_code
    }

    /// The tenant key as stored in every tenant-owned table.
    pub fn key(&self) -> String {
        self.la_code.to_string()
    }
}

/// One school of one authority (a SENCO's reach). Made only from a verified [`Identity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolScope {
    tenant: TenantScope,
    urn: Urn,
}

impl SchoolScope {
    /// The school's tenant.
    pub fn tenant(&self) -> &TenantScope {
        &self.tenant
    }

    /// The one school in reach.
    pub fn urn(&self) -> Urn {
        self.urn
    }
}

/// What a caller may read: a whole tenant, or one school of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every record of the tenant.
    Tenant(TenantScope),
    /// One school's records.
    School(SchoolScope),
}

impl Scope {
    /// The tenant of the scope.
    pub fn tenant(&self) -> &TenantScope {
        match self {
            Scope::Tenant(t) => t,
            Scope::School(s) => &s.tenant,
        }
    }

    /// The one school in reach, when the scope is narrower than the tenant.
    pub fn school(&self) -> Option<Urn> {
        match self {
            Scope::Tenant(_) => None,
            Scope::School(s) => Some(s.urn),
        }
    }

    /// True when `urn` is within reach (tenant membership is checked by the query).
    pub fn reaches(&self, urn: Urn) -> bool {
        self.school().is_none_or(|own| own == urn)
    }
}

/// Signs identity tokens. The gateway holds one with the production key; the
/// embedded mode holds one with the development key.
#[derive(Clone)]
pub struct IdentitySigner {
    key: Arc<EncodingKey>,
    issuer: String,
}

impl fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySigner").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl IdentitySigner {
    /// A signer from an Ed25519 private key in PKCS#8 PEM.
    pub fn from_pem(pem: &[u8], issuer: &str) -> Result<Self, String> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        Ok(Self { key: Arc::new(key), issuer: issuer.to_owned() })
    }

    /// Signs a token for `grant` lasting `lifetime` (at most [`MAX_TOKEN_LIFETIME`]).
    pub fn mint(&self, grant: &Grant, lifetime: Duration) -> Result<String, String> {
        grant.validate()?;
        if lifetime > MAX_TOKEN_LIFETIME || lifetime.is_zero() {
            return Err(format!("lifetime must be between 1 second and {}h", MAX_TOKEN_LIFETIME.as_secs() / 3600));
        }
        let now = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: grant.person.clone(),
            role: grant.role.as_str().to_owned(),
            tenant: grant.tenant.map(|t| t.to_string()),
            school: grant.school.map(|u| u.to_string()),
            iat: now,
            exp: now + lifetime.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)
            .map_err(|e| format!("signing failed: {e}"))
    }
}

/// Verifies identity tokens against the trusted public keys and issuers.
#[derive(Clone)]
pub struct IdentityVerifier {
    keys: Arc<Vec<DecodingKey>>,
    issuers: Vec<String>,
}

impl fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityVerifier").field("keys", &self.keys.len()).field("issuers", &self.issuers).finish()
    }
}

impl IdentityVerifier {
    /// Trusts tokens from `issuers` signed by any of the Ed25519 public keys (SPKI PEM).
    /// Several keys allow rotating the gateway's key without downtime.
    pub fn from_public_pems(pems: &[Vec<u8>], issuers: &[&str]) -> Result<Self, String> {
        if pems.is_empty() {
            return Err("no public key given".into());
        }
        let keys = pems
            .iter()
            .map(|pem| DecodingKey::from_ed_pem(pem).map_err(|e| format!("not an Ed25519 public key: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys: Arc::new(keys), issuers: issuers.iter().map(|s| (*s).to_owned()).collect() })
    }

    /// Checks signature, issuer, audience and expiry, then the claims' coherence.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&self.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let mut last_error = None;
        for key in self.keys.iter() {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return identity_from_claims(data.claims),
                Err(e) => last_error = Some(e),
            }
        }
        Err(TokenError::Rejected(
            last_error.unwrap_or_else(|| jsonwebtoken::errors::ErrorKind::InvalidSignature.into()),
        ))
    }

    /// A tonic interceptor that verifies `x-sen-identity` and attaches the
    /// [`Identity`] to the request; anything else is UNAUTHENTICATED.
    pub fn interceptor(&self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + use<> {
        let verifier = self.clone();
        move |mut request: Request<()>| {
            let token = request
                .metadata()
                .get(IDENTITY_METADATA_KEY)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Status::unauthenticated("missing identity token"))?;
            match verifier.verify(token) {
                Ok(identity) => {
                    request.extensions_mut().insert(identity);
                    Ok(request)
                }
                Err(e) => {
                    tracing::info!(reason = %e, "identity token refused");
                    Err(Status::unauthenticated("invalid identity token"))
                }
            }
        }
    }
}

/// A client interceptor that sends an identity token with every call, together
/// with the current trace context. Used by the gateway, the CLI and tests.
#[derive(Clone, Debug)]
pub struct AttachIdentity {
    token: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl AttachIdentity {
    /// Sends `token` as `x-sen-identity`.
    pub fn new(token: &str) -> Result<Self, String> {
        token
            .parse()
            .map(|token| Self { token })
            .map_err(|_| "the token has characters that cannot be sent in metadata".to_owned())
    }
}

impl tonic::service::Interceptor for AttachIdentity {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert(IDENTITY_METADATA_KEY, self.token.clone());
        crate::telemetry::inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

fn identity_from_claims(claims: Claims) -> Result<Identity, TokenError> {
    let role = Role::parse(&claims.role).map_err(TokenError::Claims)?;
    let tenant = claims.tenant.as_deref().map(LaCode::parse).transpose().map_err(TokenError::Claims)?;
    let school = claims.school.as_deref().map(Urn::parse).transpose().map_err(TokenError::Claims)?;
    let grant = Grant { person: claims.sub, role, tenant, school };
    grant.validate().map_err(TokenError::Claims)?;
    Ok(Identity { person: grant.person, role, tenant, school })
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

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
    pub fn load_or_create(data_dir: &Path) -> Result<Self, String> {
        let path = data_dir.join(Self::KEY_FILE);
        if !path.exists() {
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let key = SigningKey::generate(&mut rand_core::OsRng);
            let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| format!("cannot encode key: {e}"))?;
            write_private(&path, pem.as_bytes())?;
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

/// The verifier a service process uses: in production the gateway's public keys
/// (`SEN_IDENTITY_PUBLIC_KEY_FILES`) and gateway tokens only; in the embedded mode
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
            IdentityVerifier::from_public_pems(&pems, &[GATEWAY_ISSUER])
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
    use super::*;

    fn grant(role: Role, tenant: Option<&str>, school: Option<&str>) -> Grant {
        Grant {
            person: "p-1".into(),
            role,
            tenant: tenant.map(|t| LaCode::parse(t).unwrap()),
            school: school.map(|s| Urn::parse(s).unwrap()),
        }
    }

    #[test]
    fn a_minted_token_verifies_to_the_same_identity() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::Senco, Some("886"), Some("100001")), Duration::from_secs(60)).unwrap();
        let who = dev.verifier.verify(&token).unwrap();
        assert_eq!(who.role(), Role::Senco);
        assert_eq!(who.person(), "p-1");
        let scope = who.scope().unwrap();
        assert_eq!(scope.school().map(|u| u.get()), Some(100001));
        assert_eq!(scope.tenant().key(), "886");
        assert!(who.tenant_scope().is_err(), "a SENCO never gets the whole tenant");
    }

    #[test]
    fn tokens_from_another_key_or_issuer_are_refused() {
        let dev = DevIssuer::generate().unwrap();
        let other = DevIssuer::generate().unwrap();
        let token = other.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(dev.verifier.verify(&token).is_err());
        assert!(dev.verifier.verify("not.a.token").is_err());

        let gateway_only = IdentityVerifier { issuers: vec![GATEWAY_ISSUER.into()], ..dev.verifier.clone() };
        let dev_token = dev.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(gateway_only.verify(&dev_token).is_err(), "development tokens are not gateway tokens");
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::CaseOfficer, Some("886"), None), Duration::from_secs(60)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = grant(Role::LaManager, Some("887"), None);
        let body = format!(
            r#"{{"iss":"{DEV_ISSUER}","aud":"{AUDIENCE}","sub":"{}","role":"la_manager","tenant":"887","iat":1,"exp":{}}}"#,
            forged.person,
            unix_now() + 60
        );
        use base64::Engine;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body);
        assert!(dev.verifier.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn grants_must_match_their_role() {
        assert!(grant(Role::Senco, Some("886"), None).validate().is_err());
        assert!(grant(Role::LaManager, None, None).validate().is_err());
        assert!(grant(Role::LaManager, Some("886"), Some("100001")).validate().is_err());
        assert!(grant(Role::PlatformOperator, Some("886"), None).validate().is_err());
        assert!(grant(Role::PlatformOperator, None, None).validate().is_ok());
    }

    #[test]
    fn the_platform_operator_has_no_tenant_scope() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::PlatformOperator, None, None), Duration::from_secs(60)).unwrap();
        let who = dev.verifier.verify(&token).unwrap();
        assert!(who.scope().is_err());
        assert!(who.tenant_scope().is_err());
    }

    #[test]
    fn the_development_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = DevIssuer::load_or_create(dir.path()).unwrap();
        let second = DevIssuer::load_or_create(dir.path()).unwrap();
        let token = first.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(second.verifier.verify(&token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(DevIssuer::KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
        }
    }
}
