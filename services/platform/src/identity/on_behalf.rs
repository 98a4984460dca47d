//! A service calling another on a person's behalf, so that the audit trail and
//! the timeline of the service called name the person, not the service in the
//! middle: the manager who allocated a case, not "caseloads".
//!
//! The delegation of RFC 8693 (its `act` claim), turned round so that nothing
//! a service may do changes: the token's subject stays the service, with role
//! `service` and the service's tenant, so every role check and every scope is
//! the service's own, exactly as for a token without the claim. The claim
//! `on_behalf_of` carries the person's **own identity token**, as the gateway
//! (or the development issuer) signed it for the call the service is serving,
//! and the service called verifies that token too: its signature, issuer,
//! audience and expiry, that it is a person's (never a service's, so no chains)
//! and that it is of the same authority. So neither a person nor a service can
//! name someone who did not make the call: a forged or expired inner token
//! refuses the whole call, a person's token carrying the claim is refused, and a
//! token without it is recorded as the service, as before. The outer token is
//! trusted no longer than the inner one.

use std::sync::Arc;

use super::{Identity, Role};
use crate::ids::Urn;

/// The person a service acts for on a call, proven by their own token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnBehalfOf {
    person: String,
    role: Role,
    school: Option<Urn>,
    token: Arc<str>,
}

impl OnBehalfOf {
    /// The person's stable id.
    pub fn person(&self) -> &str {
        &self.person
    }

    /// Their role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Their school (SENCOs).
    pub fn school(&self) -> Option<Urn> {
        self.school
    }

    /// Their verified token, to pass on when the service calls a third.
    pub(super) fn token(&self) -> &str {
        &self.token
    }

    /// The person of `person`'s verified identity, for a service of `service`'s
    /// tenant: refused unless it is a person's identity of that same tenant.
    pub(super) fn of(service: &Identity, person: &Identity) -> Result<Self, String> {
        if matches!(person.role(), Role::Service | Role::PlatformOperator) {
            return Err(format!("a service acts only for a person of an authority, not for role {}", person.role()));
        }
        if service.role() != Role::Service {
            return Err(format!("only a service acts for someone else, not role {}", service.role()));
        }
        match (service.tenant(), person.tenant()) {
            (Some(ours), Some(theirs)) if ours == theirs => Ok(Self {
                person: person.person().to_owned(),
                role: person.role(),
                school: person.school,
                token: person.token().into(),
            }),
            _ => Err("the person acted for is of another authority than the service's token".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    use super::super::{
        AUDIENCE, GATEWAY_ISSUER, Grant, IdentitySigner, IdentityVerifier, SERVICE_ISSUER, ServiceIdentity,
    };
    use super::*;
    use crate::ids::LaCode;

    /// A production-like pair of keys: the gateway's for people, the caseloads
    /// service's for itself, and a service's verifier trusting both.
    struct Keys {
        gateway: IdentitySigner,
        gateway_pem: String,
        caseloads: ServiceIdentity,
        service_pem: String,
        verifier: IdentityVerifier,
    }

    fn pem() -> String {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap().to_string()
    }

    fn keys() -> Keys {
        let (gateway_pem, service_pem) = (pem(), pem());
        let (gateway, gateway_check) =
            IdentitySigner::with_own_verifier(gateway_pem.as_bytes(), GATEWAY_ISSUER).unwrap();
        let (service, service_check) =
            IdentitySigner::with_own_verifier(service_pem.as_bytes(), SERVICE_ISSUER).unwrap();
        drop((gateway_check, service_check));
        let public = |pem: &str| {
            use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
            let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).unwrap();
            key.verifying_key().to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap()
        };
        let verifier = IdentityVerifier::from_public_pems(
            &[public(&gateway_pem).into_bytes(), public(&service_pem).into_bytes()],
            &[GATEWAY_ISSUER, SERVICE_ISSUER],
        )
        .unwrap();
        Keys { gateway, gateway_pem, caseloads: ServiceIdentity::new(service, "caseloads"), service_pem, verifier }
    }

    fn la(code: &str) -> LaCode {
        LaCode::parse(code).unwrap()
    }

    fn person_token(keys: &Keys, person: &str, role: Role, tenant: &str, lifetime: u64) -> String {
        let school = (role == Role::Senco).then(|| Urn::parse("100001").unwrap());
        let grant = Grant { person: person.into(), role, tenant: Some(la(tenant)), school };
        keys.gateway.mint(&grant, Duration::from_secs(lifetime)).unwrap()
    }

    fn unix_now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    /// The claims of a token as written by hand.
    #[derive(serde::Serialize)]
    struct Raw<'a> {
        iss: &'a str,
        aud: &'a str,
        sub: &'a str,
        role: &'a str,
        tenant: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<&'a str>,
        iat: u64,
        exp: u64,
    }

    fn raw<'a>(iss: &'a str, sub: &'a str, role: &'a str, tenant: &'a str, on_behalf_of: Option<&'a str>) -> Raw<'a> {
        let now = unix_now();
        Raw { iss, aud: AUDIENCE, sub, role, tenant, on_behalf_of, iat: now, exp: now + 60 }
    }

    /// A token signed with `pem` whatever its claims say (a signer with a
    /// trusted key that does not follow the rules, or someone who has one).
    fn signed(pem: &str, claims: Raw<'_>) -> String {
        let key = EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).unwrap()
    }

    #[test]
    fn a_service_acting_for_the_manager_is_checked_as_the_service_and_recorded_as_the_manager() {
        let keys = keys();
        let manager = keys.verifier.verify(&person_token(&keys, "manager-886", Role::LaManager, "886", 300)).unwrap();
        let token = keys.caseloads.token_on_behalf_of(la("886"), &manager).unwrap();
        let who = keys.verifier.verify(&token).unwrap();
        assert_eq!((who.person(), who.role()), ("caseloads", Role::Service), "the caller is still the service");
        assert!(who.tenant_scope().is_ok() && who.require_role(&[Role::Service]).is_ok());
        assert!(who.require_role(&[Role::LaManager]).is_err(), "it gains nothing of the manager's role");
        let acting = who.on_behalf_of().expect("acting for someone");
        assert_eq!((acting.person(), acting.role()), ("manager-886", Role::LaManager));
        let actor = who.actor();
        assert_eq!(
            (actor.person.as_str(), actor.role),
            ("manager-886", Role::LaManager),
            "the audit names the manager"
        );

        // A third service called on from there still records the manager.
        let onwards = keys.caseloads.token_on_behalf_of(la("886"), &who).unwrap();
        assert_eq!(keys.verifier.verify(&onwards).unwrap().actor().person, "manager-886");
    }

    #[test]
    fn a_service_token_without_the_claim_is_recorded_as_the_service() {
        let keys = keys();
        let who = keys.verifier.verify(&keys.caseloads.token(la("886")).unwrap()).unwrap();
        assert_eq!(who.on_behalf_of(), None);
        assert_eq!((who.actor().person.as_str(), who.actor().role), ("caseloads", Role::Service));
        // A service acting for itself passes no one on.
        let onwards = keys.caseloads.token_on_behalf_of(la("886"), &who).unwrap();
        assert_eq!(keys.verifier.verify(&onwards).unwrap().actor().person, "caseloads");
    }

    #[test]
    fn a_service_cannot_say_it_acts_for_a_person_of_another_authority() {
        let keys = keys();
        let medway = keys.verifier.verify(&person_token(&keys, "manager-887", Role::LaManager, "887", 300)).unwrap();
        assert!(keys.caseloads.token_on_behalf_of(la("886"), &medway).is_err());

        // Signed with the service's key by other means, the callee refuses it.
        let inner = person_token(&keys, "manager-887", Role::LaManager, "887", 300);
        let claims = raw(SERVICE_ISSUER, "caseloads", "service", "886", Some(&inner));
        assert!(keys.verifier.verify(&signed(&keys.service_pem, claims)).is_err());
    }

    #[test]
    fn a_forged_or_misplaced_claim_never_makes_anyone_someone_else() {
        let keys = keys();
        let service = |inner| raw(SERVICE_ISSUER, "caseloads", "service", "886", Some(inner));
        // The inner token signed by a key nobody trusts.
        let stranger = IdentitySigner::from_pem(pem().as_bytes(), GATEWAY_ISSUER).unwrap();
        let grant =
            Grant { person: "manager-886".into(), role: Role::LaManager, tenant: Some(la("886")), school: None };
        let forged = stranger.mint(&grant, Duration::from_secs(60)).unwrap();
        assert!(keys.verifier.verify(&signed(&keys.service_pem, service(&forged))).is_err(), "forged inner token");
        assert!(keys.verifier.verify(&signed(&keys.service_pem, service("not.a.token"))).is_err());

        // An expired inner token.
        let now = unix_now();
        let expired = signed(
            &keys.gateway_pem,
            Raw { iat: now - 600, exp: now - 300, ..raw(GATEWAY_ISSUER, "manager-886", "la_manager", "886", None) },
        );
        assert!(keys.verifier.verify(&signed(&keys.service_pem, service(&expired))).is_err(), "expired inner token");

        // A service's token inside: no chains.
        let plain = keys.caseloads.token(la("886")).unwrap();
        assert!(keys.verifier.verify(&signed(&keys.service_pem, service(&plain))).is_err(), "a service inside");

        // A person's own token carrying the claim (even signed by the gateway's key).
        let manager = person_token(&keys, "manager-886", Role::LaManager, "886", 300);
        let officer =
            signed(&keys.gateway_pem, raw(GATEWAY_ISSUER, "officer-886", "case_officer", "886", Some(&manager)));
        assert!(keys.verifier.verify(&officer).is_err(), "only a service's token carries the claim");

        // A service's key signing a person's token.
        let person_by_service =
            signed(&keys.service_pem, raw(SERVICE_ISSUER, "manager-886", "la_manager", "886", None));
        assert!(keys.verifier.verify(&person_by_service).is_err(), "a service's key vouches for services only");
        let grant = Grant { person: "m".into(), role: Role::LaManager, tenant: Some(la("886")), school: None };
        let service_signer = IdentitySigner::from_pem(keys.service_pem.as_bytes(), SERVICE_ISSUER).unwrap();
        assert!(service_signer.mint(&grant, Duration::from_secs(60)).is_err());

        // The gateway's signer never writes the claim.
        assert!(keys.gateway.mint_acting(&grant, Duration::from_secs(60), Some(&manager)).is_err());
    }

    #[test]
    fn a_token_acting_for_someone_is_trusted_no_longer_than_their_own() {
        let keys = keys();
        let short = person_token(&keys, "manager-886", Role::LaManager, "886", 20);
        let (manager, manager_expires) = keys.verifier.verify_with_expiry(&short).unwrap();
        let token = keys.caseloads.token_on_behalf_of(la("886"), &manager).unwrap();
        let (_, expires) = keys.verifier.verify_with_expiry(&token).unwrap();
        assert_eq!(expires, manager_expires, "the service's five minutes are cut to the manager's twenty seconds");
    }

    fn who(person: &str, role: Role, tenant: Option<&str>) -> Identity {
        let school = (role == Role::Senco).then(|| Urn::parse("100001").unwrap());
        Identity::verified(person.into(), role, tenant.map(|t| LaCode::parse(t).unwrap()), school, "t")
    }

    #[test]
    fn a_service_acts_only_for_a_person_of_its_own_authority() {
        let service = who("caseloads", Role::Service, Some("886"));
        let manager = who("m-1", Role::LaManager, Some("886"));
        let acting = OnBehalfOf::of(&service, &manager).unwrap();
        assert_eq!((acting.person(), acting.role(), acting.school()), ("m-1", Role::LaManager, None));
        let senco = OnBehalfOf::of(&service, &who("s-1", Role::Senco, Some("886"))).unwrap();
        assert_eq!(senco.school().map(|u| u.get()), Some(100001));

        assert!(OnBehalfOf::of(&service, &who("m-2", Role::LaManager, Some("887"))).is_err(), "another authority");
        assert!(OnBehalfOf::of(&service, &who("pupils", Role::Service, Some("886"))).is_err(), "no chains");
        assert!(OnBehalfOf::of(&service, &who("op", Role::PlatformOperator, None)).is_err(), "no tenant data");
        assert!(OnBehalfOf::of(&manager, &manager).is_err(), "a person does not act for another");
        let every_tenant = who("caseloads", Role::Service, None);
        assert!(OnBehalfOf::of(&every_tenant, &manager).is_err(), "a token for every authority acts for nobody");
    }
}
