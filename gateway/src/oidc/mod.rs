//! OpenID Connect bearer tokens: the council's identity provider vouches for the
//! caller, and [`OidcVerifier`] turns its token into a platform
//! [`Grant`] (person, role, tenant, school) or refuses it.
//!
//! A token is accepted when its signature checks against the provider's published
//! keys (JWKS; RS256 or ES256 only, chosen by the key, never by the token), its
//! `iss` is exactly `SEN_OIDC_ISSUER`, its `aud` includes `SEN_OIDC_AUDIENCE`,
//! and it is within `exp` and `nbf` (60 s of clock skew tolerated). Its claims are
//! then mapped as configured ([`OidcSettings`], the `SEN_OIDC_*` variables in
//! [`VARIABLES`]): a person id, exactly one platform role, the tenant (a claim, a
//! map from claim values, or one fixed council) and a SENCO's school. The
//! `service` role never comes from a token, and values naming two roles are
//! refused, never resolved by precedence. Refusal reasons go to the logs
//! ([`AuthError`]'s `Display`); callers see only [`AuthError::client_message`].
//! The token itself is never logged.
//!
//! # Worked example: Microsoft Entra ID, one council
//!
//! 1. **Register the API.** Entra admin center → *Entra ID* → *App
//!    registrations* → *New registration*, e.g. "SEN oversight platform",
//!    single tenant. Note the *Application (client) ID* and the *Directory
//!    (tenant) ID*. Under *Expose an API*, set the Application ID URI (default
//!    `api://<client-id>`) and add a delegated scope (e.g. `access_as_user`) for
//!    the web sign-in and the `sen` CLI to request. Under *Manifest*, set
//!    `api.requestedAccessTokenVersion` to `2` (`accessTokenAcceptedVersion` in
//!    the older Azure AD Graph manifest format), so that access tokens carry the
//!    v2.0 issuer below and their `aud` is the client id.
//! 2. **App roles.** *App roles* → *Create app role*, allowed member types
//!    *Users/Groups*, one per platform role, with these values:
//!
//!    | app role value | platform role |
//!    | --- | --- |
//!    | `SEN.Manager` | `la_manager` |
//!    | `SEN.CaseOfficer` | `case_officer` |
//!    | `SEN.Senco` | `senco` |
//!    | `SEN.EducationalPsychologist` | `educational_psychologist` |
//!    | `SEN.AdvisoryTeacher` | `advisory_teacher` |
//!
//!    Assign people (or groups, which needs Entra ID P1 or P2) under *Enterprise
//!    applications* → the app → *Users and groups* → *Add user/group*, one role
//!    each: a person given two platform roles is refused until one is removed. Set
//!    *Properties* → *Assignment required?* to *Yes* so that unassigned staff get
//!    no token for the platform at all. Assigned roles arrive in the access
//!    token's `roles` claim, an array.
//! 3. **SENCO schools.** A SENCO's school URN travels in a directory extension
//!    attribute on the user. Register one on the API's application with Microsoft
//!    Graph: `POST /applications/<application object id>/extensionProperties` with
//!    `{"name": "senSchoolUrn", "dataType": "String", "targetObjects": ["User"]}`;
//!    it is named `extension_<client id without dashes>_senSchoolUrn`. Set it on
//!    each SENCO (`PATCH /users/<id>` with
//!    `{"extension_<client id without dashes>_senSchoolUrn": "100001"}`, or sync it
//!    from on-premises with Entra Connect). Then ask for it in the access token:
//!    in the manifest's `optionalClaims.accessToken` add
//!    `{"name": "extension_<client id without dashes>_senSchoolUrn", "source": "user", "essential": false}`.
//!    In JWTs Entra emits it as `extn.senSchoolUrn`.
//! 4. **Configure the gateway.**
//!
//!    ```text
//!    SEN_OIDC_ISSUER=https://login.microsoftonline.com/<tenant-id>/v2.0
//!    SEN_OIDC_AUDIENCE=<application (client) id>
//!    SEN_OIDC_PERSON_CLAIM=oid
//!    SEN_OIDC_ROLE_MAP=SEN.Manager=la_manager,SEN.CaseOfficer=case_officer,SEN.Senco=senco,SEN.EducationalPsychologist=educational_psychologist,SEN.AdvisoryTeacher=advisory_teacher
//!    SEN_OIDC_TENANT=990
//!    SEN_OIDC_SCHOOL_CLAIM=extn.senSchoolUrn
//!    ```
//!
//!    The keys are found through
//!    `https://login.microsoftonline.com/<tenant-id>/v2.0/.well-known/openid-configuration`
//!    (its `jwks_uri` is `https://login.microsoftonline.com/<tenant-id>/discovery/v2.0/keys`),
//!    so `SEN_OIDC_JWKS_URL` is not needed. `oid` is the person's object id, the
//!    same in every application of the tenant (Entra's `sub` differs per
//!    application). Tokens left at version 1 carry the issuer
//!    `https://sts.windows.net/<tenant-id>/` and, as `aud`, the resource the client
//!    asked for, usually the Application ID URI (`api://…`): set
//!    `SEN_OIDC_ISSUER` and `SEN_OIDC_AUDIENCE` to those instead.
//!
//! **Roles from security groups instead of app roles:** under *Token
//! configuration* → *Add groups claim*, choose *Security groups* (or *Groups
//! assigned to the application*, which keeps the claim short); the access token's
//! `groups` claim then lists group object ids. Set `SEN_OIDC_ROLE_CLAIM=groups` and
//! map each group's object id, e.g.
//! `SEN_OIDC_ROLE_MAP=<managers group id>=la_manager,<sencos group id>=senco`;
//! groups not in the map are ignored. A person in more than 200 groups gets no
//! `groups` claim in a JWT (Entra sends an overage indicator instead) and so no
//! role here: use app roles, or *Groups assigned to the application*, for them.
//!
//! **Tenant from a claim.** `SEN_OIDC_TENANT_CLAIM=tid` with
//! `SEN_OIDC_TENANT_MAP=<tenant-id>=990` gives the same result as
//! `SEN_OIDC_TENANT=990` (the issuer already fixes the Entra tenant) and checks
//! `tid` as well. Several councils sharing one Entra tenant (a hosted service)
//! carry each person's council in a claim instead, e.g. a second directory
//! extension `senLaCode` emitted as `extn.senLaCode` holding the three-digit LA
//! code, with `SEN_OIDC_TENANT_CLAIM=extn.senLaCode`. Councils with their own
//! Entra tenants have one issuer each, which one gateway does not verify.

mod claims;
mod error;
mod jwks;
mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use settings::{ClaimMapping, DEFAULT_JWKS_MIN_REFRESH, OidcSettings, TenantSource, VARIABLES};

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use sen_platform::identity::Grant;
use serde_json::{Map, Value};

use self::jwks::{JwksSource, KeyStore};

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;
/// Longest bearer token looked at; real ones, even with group claims, are a few KiB.
const MAX_TOKEN_BYTES: usize = 32 * 1024;
/// How long fetching the provider's keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A token the provider vouches for, as a platform grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Person, role, tenant and school; passes [`Grant::validate`].
    pub grant: Grant,
    /// When the token expires (its `exp`).
    pub expires_at: SystemTime,
}

/// Verifies bearer tokens from one OpenID Connect provider. Cheap to clone; clones
/// share the key cache.
#[derive(Clone)]
pub struct OidcVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    claims: ClaimMapping,
    keys: Arc<KeyStore>,
    rs256: Validation,
    es256: Validation,
}

impl fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// A verifier for `settings`, with an HTTPS client trusting the public web
    /// roots and `SEN_OIDC_CA_FILE`. Keys are fetched on the first token (or by
    /// [`OidcVerifier::refresh_keys`]).
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            // Keys come from the configured address, not from wherever it redirects.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sen-gateway/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_file {
            let pem =
                std::fs::read(path).with_context(|| format!("SEN_OIDC_CA_FILE: cannot read {}", path.display()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("SEN_OIDC_CA_FILE: {} is not PEM certificates", path.display()))?;
            anyhow::ensure!(!certificates.is_empty(), "SEN_OIDC_CA_FILE: {} holds no certificate", path.display());
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http.build().context("cannot build the HTTPS client for the identity provider")?;
        let source = match settings.jwks_url {
            Some(url) => JwksSource::Url(url),
            None => JwksSource::Discovery { issuer: settings.issuer.clone() },
        };
        Ok(Self {
            inner: Arc::new(Inner {
                issuer: settings.issuer,
                audience: settings.audience,
                claims: settings.claims,
                keys: Arc::new(KeyStore::new(http, source, settings.jwks_min_refresh)),
                rs256: validation(Algorithm::RS256),
                es256: validation(Algorithm::ES256),
            }),
        })
    }

    /// Fetches the provider's keys now (at start, or for a readiness check),
    /// unless they were fetched within the minimum refresh interval. The error is
    /// the reason the provider could not be used.
    pub async fn refresh_keys(&self) -> Result<(), String> {
        self.inner.keys.refresh().await
    }

    /// Checks a bearer token (without the `Bearer ` prefix) and maps its claims to
    /// a grant. Does not log the refusal: the caller logs its `Display`.
    pub async fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid(format!("the token is longer than {MAX_TOKEN_BYTES} bytes")));
        }
        // `alg: none` is no `Algorithm`, so such a header fails to decode here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::Invalid(format!("malformed token header: {e}")))?;
        let validation = match header.alg {
            Algorithm::RS256 => &self.inner.rs256,
            Algorithm::ES256 => &self.inner.es256,
            other => return Err(AuthError::Invalid(format!("algorithm {other:?} is not accepted (RS256, ES256)"))),
        };
        let kid = header.kid.ok_or_else(|| AuthError::Invalid("the token names no key (kid)".into()))?;
        let key = self.inner.keys.key(&kid).await?;
        if key.algorithm != header.alg {
            return Err(AuthError::Invalid(format!(
                "key '{}' is for {:?}, the token says {:?}",
                claims::quote(&kid),
                key.algorithm,
                header.alg
            )));
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation).map_err(refusal)?;
        claims::check_issuer(&data.claims, &self.inner.issuer)?;
        claims::check_audience(&data.claims, &self.inner.audience)?;
        let expires_at = data
            .claims
            .get("exp")
            .and_then(Value::as_u64)
            .and_then(|exp| UNIX_EPOCH.checked_add(Duration::from_secs(exp)))
            .ok_or_else(|| AuthError::Invalid("the token's exp is not a whole number of seconds".into()))?;
        let grant = self.inner.claims.grant(&data.claims)?;
        Ok(Verified { grant, expires_at })
    }
}

/// Signature, `exp` (required) and `nbf` (when present) for one algorithm;
/// issuer and audience are checked afterwards, to say what was wrong.
fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    validation
}

fn refusal(error: jsonwebtoken::errors::Error) -> AuthError {
    match error.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::Invalid("the token is not valid yet (nbf)".into()),
        ErrorKind::InvalidSignature => AuthError::Invalid("the signature does not match".into()),
        _ => AuthError::Invalid(error.to_string()),
    }
}
