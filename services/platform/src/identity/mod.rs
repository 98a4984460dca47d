//! Who is calling, proven. The gateway (or, in the embedded mode, the development
//! issuer) signs a short-lived EdDSA token naming the caller's tenant, person, role
//! and school; the services verify it on every call and trust nothing else.
//!
//! The token travels in the `x-sen-identity` request metadata. [`IdentityVerifier`]
//! turns a token into an [`Identity`]; nothing else can make one, and only an
//! `Identity` can make the [`TenantScope`] and [`SchoolScope`] that every store
//! function takes. So a query that is not scoped to a verified caller does not
//! compile.

mod cache;
mod dev;
mod on_behalf;
mod service;
mod token;

pub use cache::TokenCache;
pub use dev::{DevIssuer, verifier_for};
pub use on_behalf::OnBehalfOf;
pub use service::ServiceIdentity;
pub use token::{AttachBearer, AttachIdentity, IdentitySigner, IdentityVerifier, TokenError, VerifyIdentity};

use std::fmt;
use std::time::Duration;

use tonic::{Request, Status};

use crate::ids::{LaCode, Urn};

/// Request metadata key carrying the internal identity token.
pub const IDENTITY_METADATA_KEY: &str = "x-sen-identity";
/// Audience of every internal identity token.
pub const AUDIENCE: &str = "sen-services";
/// Issuer of tokens the gateway mints in production.
pub const GATEWAY_ISSUER: &str = "sen-gateway";
/// Issuer of tokens a service mints to call another service as itself.
pub const SERVICE_ISSUER: &str = "sen-service";
/// Issuer of tokens minted by the embedded development issuer; refused in production.
pub const DEV_ISSUER: &str = "sen-embedded-dev";
/// The longest lifetime a token may have.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Clock skew tolerated between issuer and service.
const LEEWAY_SECONDS: u64 = 30;

/// The roles people (and the platform's own services) hold (docs/ARCHITECTURE.md, "Identity and tenancy").
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
    /// One of the platform's own services acting for itself within a tenant (the
    /// caseloads service opening a professional's access to a pupil). Never minted
    /// for a person.
    Service,
}

impl Role {
    /// Every role, for policy tables and tests.
    pub const ALL: [Role; 7] = [
        Role::LaManager,
        Role::CaseOfficer,
        Role::Senco,
        Role::EducationalPsychologist,
        Role::AdvisoryTeacher,
        Role::PlatformOperator,
        Role::Service,
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
            Role::Service => "service",
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
            // A service may call about every tenant at once (the retention pass's
            // listing); every tenant-scoped method still refuses it.
            (true, None) if self.role == Role::Service => {}
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

/// A verified caller. Made only by [`IdentityVerifier::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    person: String,
    role: Role,
    tenant: Option<LaCode>,
    school: Option<Urn>,
    token: std::sync::Arc<str>,
    on_behalf_of: Option<std::sync::Arc<OnBehalfOf>>,
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
    /// Only token verification makes identities.
    fn verified(person: String, role: Role, tenant: Option<LaCode>, school: Option<Urn>, token: &str) -> Self {
        Self { person, role, tenant, school, token: token.into(), on_behalf_of: None }
    }

    /// A verified service identity acting for the verified `person`
    /// ([`OnBehalfOf`]); refused unless `person` is a person of its authority.
    fn acting_for(mut self, person: &Identity) -> Result<Self, String> {
        self.on_behalf_of = Some(std::sync::Arc::new(OnBehalfOf::of(&self, person)?));
        Ok(self)
    }

    /// The person a service makes this call for, proven by their own token;
    /// `None` for a person's own call or a service acting for itself.
    pub fn on_behalf_of(&self) -> Option<&OnBehalfOf> {
        self.on_behalf_of.as_deref()
    }

    /// The verified token itself, to send on calls made on the caller's behalf,
    /// so the called service applies the caller's own scope.
    pub fn token(&self) -> &str {
        &self.token
    }

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

    /// The whole-tenant scope: the council SEN team and the platform's services.
    /// Refused to SENCOs (one school), educational psychologists and advisory
    /// teachers (their caseload) and the platform operator (no tenant data): use
    /// [`Identity::scope`] for what they may read.
    pub fn tenant_scope(&self) -> Result<TenantScope, AccessDenied> {
        match (self.tenant, self.role) {
            (Some(la_code), Role::LaManager | Role::CaseOfficer | Role::Service) => Ok(TenantScope { la_code }),
            _ => Err(AccessDenied(format!("role {} has no authority-wide access", self.role))),
        }
    }

    /// The widest read scope of this caller: their school for a SENCO, their own
    /// caseload for educational psychologists and advisory teachers, the tenant
    /// for the council SEN team and services. The platform operator has none.
    pub fn scope(&self) -> Result<Scope, AccessDenied> {
        let Some(la_code) = self.tenant else {
            return Err(AccessDenied(format!("role {} does not read tenant data", self.role)));
        };
        let tenant = TenantScope { la_code };
        Ok(match (self.role, self.school) {
            (Role::Senco, Some(urn)) => Scope::School(SchoolScope { tenant, urn }),
            (Role::EducationalPsychologist | Role::AdvisoryTeacher, _) => {
                Scope::Caseload(CaseloadScope { tenant, person: self.person.clone() })
            }
            _ => Scope::Tenant(tenant),
        })
    }

    /// The verified caller of `request`, refused unless their role is one of `allowed`:
    /// the first line of every handler. A service token for every tenant at once
    /// is refused here whatever the method, so no handler can mistake its missing
    /// tenant for a platform operator's or reach past a tenant with it.
    pub fn caller<T>(request: &Request<T>, allowed: &[Role]) -> Result<Identity, Status> {
        let who = Self::of(request)?;
        if who.is_for_every_tenant() {
            return Err(AccessDenied(
                "a service token for every authority is taken by no method but TakeErasures".into(),
            )
            .into());
        }
        who.require_role(allowed)?;
        Ok(who)
    }

    /// As [`Identity::caller`], also admitting a service token for every tenant
    /// at once: for the one method that lists across authorities (the pupils
    /// service's `TakeErasures`, the retention pass's work). Its handler must treat
    /// [`Identity::tenant`] `None` as every authority and answer ids only.
    pub fn caller_across_tenants<T>(request: &Request<T>, allowed: &[Role]) -> Result<Identity, Status> {
        let who = Self::of(request)?;
        who.require_role(allowed)?;
        Ok(who)
    }

    /// Whether this is a service's token for every tenant at once
    /// ([`ServiceIdentity::token_for_every_tenant`]).
    pub fn is_for_every_tenant(&self) -> bool {
        self.role == Role::Service && self.tenant.is_none()
    }

    /// Who did it, for the audit trail and timelines: the person a service acts
    /// for when it does ([`Identity::on_behalf_of`]), else the caller itself.
    pub fn actor(&self) -> Actor {
        let (person, role) = match self.on_behalf_of() {
            Some(person) => (person.person().to_owned(), person.role()),
            None => (self.person.clone(), self.role),
        };
        Actor { person, role, trace_id: crate::telemetry::current_trace_id() }
    }

    /// The identity attached to a request by [`IdentityVerifier::interceptor`].
    pub fn of<T>(request: &Request<T>) -> Result<Identity, Status> {
        request.extensions().get::<Identity>().cloned().ok_or_else(|| Status::unauthenticated("no verified identity"))
    }
}

/// Who made a change or read a record, as audit rows and timelines keep it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Person id (or service name).
    pub person: String,
    /// Their role.
    pub role: Role,
    /// The request's trace, to find its logs.
    pub trace_id: Option<String>,
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

/// The cases of one professional (an educational psychologist or advisory
/// teacher): only records for which an access grant to them is open. Made only
/// from a verified [`Identity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseloadScope {
    tenant: TenantScope,
    person: String,
}

impl CaseloadScope {
    /// The professional's tenant.
    pub fn tenant(&self) -> &TenantScope {
        &self.tenant
    }

    /// The professional whose grants open records.
    pub fn person(&self) -> &str {
        &self.person
    }
}

/// What a caller may read: a whole tenant, one school of it, or one
/// professional's caseload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every record of the tenant.
    Tenant(TenantScope),
    /// One school's records.
    School(SchoolScope),
    /// Records opened to one professional by an access grant.
    Caseload(CaseloadScope),
}

impl Scope {
    /// The tenant of the scope.
    pub fn tenant(&self) -> &TenantScope {
        match self {
            Scope::Tenant(t) => t,
            Scope::School(s) => &s.tenant,
            Scope::Caseload(c) => &c.tenant,
        }
    }

    /// The one school in reach, when the scope is one school.
    pub fn school(&self) -> Option<Urn> {
        match self {
            Scope::School(s) => Some(s.urn),
            Scope::Tenant(_) | Scope::Caseload(_) => None,
        }
    }

    /// True when every record of school `urn` is within reach (tenant membership is
    /// checked by the query). A caseload reaches records one grant at a time, never
    /// a whole school.
    pub fn reaches(&self, urn: Urn) -> bool {
        match self {
            Scope::Tenant(_) => true,
            Scope::School(s) => s.urn == urn,
            Scope::Caseload(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn grant(role: Role, tenant: Option<&str>, school: Option<&str>) -> Grant {
        Grant {
            person: "p-1".into(),
            role,
            tenant: tenant.map(|t| LaCode::parse(t).unwrap()),
            school: school.map(|s| Urn::parse(s).unwrap()),
        }
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
    fn a_senco_reaches_one_school_and_never_the_whole_tenant() {
        let who =
            Identity::verified("p".into(), Role::Senco, LaCode::parse("886").ok(), Urn::parse("100001").ok(), "t");
        let scope = who.scope().unwrap();
        assert!(scope.reaches(Urn::parse("100001").unwrap()));
        assert!(!scope.reaches(Urn::parse("100002").unwrap()));
        assert!(who.tenant_scope().is_err());
    }

    #[test]
    fn a_professional_reaches_their_caseload_only() {
        let who =
            Identity::verified("ep-7".into(), Role::EducationalPsychologist, LaCode::parse("886").ok(), None, "t");
        let Scope::Caseload(caseload) = who.scope().unwrap() else { panic!("caseload scope expected") };
        assert_eq!(caseload.person(), "ep-7");
        assert!(!Scope::Caseload(caseload).reaches(Urn::parse("100001").unwrap()));
        assert!(who.tenant_scope().is_err());
    }

    #[test]
    fn a_service_token_for_every_tenant_is_refused_by_every_method_but_the_one_across_tenants() {
        assert!(grant(Role::Service, None, None).validate().is_ok());
        let who = Identity::verified("caseloads".into(), Role::Service, None, None, "t");
        assert!(who.is_for_every_tenant());
        assert!(who.scope().is_err() && who.tenant_scope().is_err(), "it holds no tenant's scope");
        let mut request = Request::new(());
        request.extensions_mut().insert(who);
        let refused = Identity::caller(&request, &[Role::Service]).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(Identity::caller_across_tenants(&request, &[Role::Service]).is_ok());
        assert!(Identity::caller_across_tenants(&request, &[Role::LaManager]).is_err(), "its role is still checked");

        let one_tenant = Identity::verified("caseloads".into(), Role::Service, LaCode::parse("886").ok(), None, "t");
        assert!(!one_tenant.is_for_every_tenant());
        let mut request = Request::new(());
        request.extensions_mut().insert(one_tenant);
        assert!(Identity::caller(&request, &[Role::Service]).is_ok());
    }

    #[test]
    fn the_platform_operator_has_no_tenant_scope() {
        let who = Identity::verified("op".into(), Role::PlatformOperator, None, None, "t");
        assert!(who.scope().is_err());
        assert!(who.tenant_scope().is_err());
    }
}
