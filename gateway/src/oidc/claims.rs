//! From the claims of a token whose signature, lifetime, issuer and audience are
//! already checked to a platform [`Grant`], as [`ClaimMapping`] configures. Pure:
//! no I/O, so every rule is tested with plain JSON.
//!
//! Nothing is guessed. A token whose values name two platform roles is refused,
//! not resolved by precedence, because whichever role won, someone in the
//! council's directory assigned the other one on purpose and must fix it there.

use serde_json::{Map, Value};

use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use super::error::AuthError;
use super::settings::{ClaimMapping, TenantSource};

/// Longest piece of a claim value quoted in a log reason.
const QUOTE_LIMIT: usize = 80;

/// Checks `iss` is exactly the configured issuer.
pub(crate) fn check_issuer(claims: &Map<String, Value>, issuer: &str) -> Result<(), AuthError> {
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == issuer => Ok(()),
        Some(Value::String(iss)) => {
            Err(AuthError::Invalid(format!("issuer '{}' is not the configured issuer '{issuer}'", quote(iss))))
        }
        _ => Err(AuthError::Invalid("the token has no issuer (iss)".into())),
    }
}

/// Checks `aud` (a string or an array of strings) contains the configured audience.
pub(crate) fn check_audience(claims: &Map<String, Value>, audience: &str) -> Result<(), AuthError> {
    let Some(aud) = claims.get("aud") else {
        return Err(AuthError::Invalid("the token has no audience (aud)".into()));
    };
    let values = strings(aud);
    if values.contains(&audience) {
        Ok(())
    } else {
        let shown: Vec<String> = values.iter().map(|v| quote(v)).collect();
        Err(AuthError::Invalid(format!("audience [{}] does not include '{audience}'", shown.join(", "))))
    }
}

impl ClaimMapping {
    /// The grant these claims give, or why they give none.
    pub(crate) fn grant(&self, claims: &Map<String, Value>) -> Result<Grant, AuthError> {
        let person = match claims.get(&self.person_claim) {
            Some(Value::String(p)) if !p.trim().is_empty() => p.clone(),
            _ => {
                return Err(not_permitted(format!("the token has no '{}' claim naming the person", self.person_claim)));
            }
        };
        let role = self.role(claims, &person)?;
        // Only the platform operator works outside any tenant, and only SENCOs
        // are tied to a school (sen_platform::identity::Grant::validate).
        let tenant = if role == Role::PlatformOperator { None } else { Some(self.tenant(claims)?) };
        let school = if role == Role::Senco { Some(self.school(claims)?) } else { None };
        let grant = Grant { person, role, tenant, school };
        grant.validate().map_err(not_permitted)?;
        Ok(grant)
    }

    fn role(&self, claims: &Map<String, Value>, person: &str) -> Result<Role, AuthError> {
        let Some(value) = claims.get(&self.role_claim) else {
            return Err(not_permitted(format!("the token has no '{}' claim", self.role_claim)));
        };
        let mut roles: Vec<Role> = Vec::new();
        for v in strings(value) {
            let role = match &self.role_map {
                Some(map) => map.get(v).copied(),
                None => Role::parse(v).ok(),
            };
            if let Some(role) = role
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
        if roles.contains(&Role::Service) {
            tracing::warn!(person, claim = %self.role_claim, "a token claims the platform's own service role; refused");
            return Err(not_permitted("the service role is never granted by a token"));
        }
        match roles.as_slice() {
            [role] => Ok(*role),
            [] => Err(not_permitted(format!("no value of the '{}' claim is a platform role", self.role_claim))),
            several => {
                let names: Vec<&str> = several.iter().map(|r| r.as_str()).collect();
                tracing::warn!(
                    person,
                    roles = %names.join(", "),
                    "a token maps to more than one platform role; refused (assign the person one role)"
                );
                Err(not_permitted(format!("ambiguous: the token maps to roles {}", names.join(", "))))
            }
        }
    }

    fn tenant(&self, claims: &Map<String, Value>) -> Result<LaCode, AuthError> {
        match &self.tenant {
            TenantSource::Fixed(code) => Ok(*code),
            TenantSource::Claim(claim) => {
                let value = single(claims, claim)?;
                LaCode::parse(&value).map_err(|e| not_permitted(format!("claim '{claim}': {}", quote(&e))))
            }
            TenantSource::Mapped { claim, map } => {
                let value = single(claims, claim)?;
                map.get(&value).copied().ok_or_else(|| {
                    not_permitted(format!("claim '{claim}' value '{}' is not in SEN_OIDC_TENANT_MAP", quote(&value)))
                })
            }
        }
    }

    fn school(&self, claims: &Map<String, Value>) -> Result<Urn, AuthError> {
        let claim = &self.school_claim;
        let value = single(claims, claim).map_err(|_| not_permitted(format!("a SENCO needs a school in '{claim}'")))?;
        Urn::parse(&value).map_err(|e| not_permitted(format!("claim '{claim}': {}", quote(&e))))
    }
}

/// The one value of a claim that holds a code: a string, a whole number, or an
/// array of exactly one of those (Entra emits some extension claims as arrays).
fn single(claims: &Map<String, Value>, claim: &str) -> Result<String, AuthError> {
    let value = match claims.get(claim) {
        Some(Value::Array(items)) if items.len() == 1 => &items[0],
        Some(value) => value,
        None => return Err(not_permitted(format!("the token has no '{claim}' claim"))),
    };
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(not_permitted(format!("the '{claim}' claim is not a single string or number"))),
    }
}

/// The strings of a claim that is a string or an array (other items ignored).
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn not_permitted(reason: impl Into<String>) -> AuthError {
    AuthError::NotPermitted(reason.into())
}

/// A claim value fit for a log line: bounded, whatever the token carried.
pub(crate) fn quote(value: &str) -> String {
    if value.chars().count() <= QUOTE_LIMIT {
        value.to_owned()
    } else {
        format!("{}…", value.chars().take(QUOTE_LIMIT).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("claims are an object"),
        }
    }

    fn code(s: &str) -> LaCode {
        LaCode::parse(s).unwrap()
    }

    fn entra() -> ClaimMapping {
        ClaimMapping {
            person_claim: "oid".into(),
            role_claim: "roles".into(),
            role_map: Some(HashMap::from([
                ("SEN.Manager".to_owned(), Role::LaManager),
                ("SEN.CaseOfficer".to_owned(), Role::CaseOfficer),
                ("SEN.Senco".to_owned(), Role::Senco),
            ])),
            tenant: TenantSource::Mapped {
                claim: "tid".into(),
                map: HashMap::from([("7a1c".to_owned(), code("990"))]),
            },
            school_claim: "extn.senSchoolUrn".into(),
        }
    }

    #[test]
    fn a_role_name_as_a_string_or_in_an_array_gives_the_grant() {
        let mapping = ClaimMapping::default();
        for roles in [json!("case_officer"), json!(["case_officer", "something-else"])] {
            let grant = mapping.grant(&claims(json!({"sub": "p1", "roles": roles, "sen_tenant": "886"}))).unwrap();
            assert_eq!(
                grant,
                Grant { person: "p1".into(), role: Role::CaseOfficer, tenant: Some(code("886")), school: None }
            );
        }
    }

    #[test]
    fn a_tenant_claim_may_be_a_number() {
        let grant = ClaimMapping::default()
            .grant(&claims(json!({"sub": "p1", "roles": "la_manager", "sen_tenant": 886})))
            .unwrap();
        assert_eq!(grant.tenant, Some(code("886")));
    }

    #[test]
    fn entra_app_roles_map_through_the_role_and_tenant_maps() {
        let grant = entra()
            .grant(&claims(json!({
                "oid": "0c9e", "roles": ["SEN.Senco"], "tid": "7a1c", "extn.senSchoolUrn": ["100001"]
            })))
            .unwrap();
        assert_eq!(
            grant,
            Grant {
                person: "0c9e".into(),
                role: Role::Senco,
                tenant: Some(code("990")),
                school: Some(Urn::parse("100001").unwrap()),
            }
        );
    }

    #[test]
    fn unmapped_values_are_ignored_and_an_unknown_tenant_is_refused() {
        let c = claims(json!({"oid": "0c9e", "roles": ["Other.App", "SEN.Manager"], "tid": "7a1c"}));
        assert_eq!(entra().grant(&c).unwrap().role, Role::LaManager);
        let c = claims(json!({"oid": "0c9e", "roles": ["SEN.Manager"], "tid": "another-tenant"}));
        assert!(matches!(entra().grant(&c), Err(AuthError::NotPermitted(_))));
    }

    #[test]
    fn a_senco_without_a_valid_school_is_refused() {
        for school in [json!(null), json!("12"), json!(["100001", "100002"])] {
            let c = claims(json!({"oid": "0c9e", "roles": ["SEN.Senco"], "tid": "7a1c", "extn.senSchoolUrn": school}));
            assert!(matches!(entra().grant(&c), Err(AuthError::NotPermitted(_))), "{school}");
        }
    }

    #[test]
    fn a_school_claim_is_ignored_for_roles_without_a_school() {
        let c =
            claims(json!({"oid": "0c9e", "roles": ["SEN.CaseOfficer"], "tid": "7a1c", "extn.senSchoolUrn": "100001"}));
        assert_eq!(entra().grant(&c).unwrap().school, None);
    }

    #[test]
    fn two_distinct_roles_are_refused_as_ambiguous() {
        let c = claims(json!({"oid": "0c9e", "roles": ["SEN.Manager", "SEN.CaseOfficer"], "tid": "7a1c"}));
        let Err(AuthError::NotPermitted(reason)) = entra().grant(&c) else { panic!("refusal expected") };
        assert!(reason.contains("ambiguous"), "{reason}");
    }

    #[test]
    fn two_values_naming_the_same_role_are_not_ambiguous() {
        let mut mapping = entra();
        mapping.role_map.as_mut().unwrap().insert("group-1".into(), Role::LaManager);
        let c = claims(json!({"oid": "0c9e", "roles": ["SEN.Manager", "group-1"], "tid": "7a1c"}));
        assert_eq!(mapping.grant(&c).unwrap().role, Role::LaManager);
    }

    #[test]
    fn the_service_role_is_never_taken_from_a_token() {
        let c = claims(json!({"sub": "p1", "roles": ["service"], "sen_tenant": "886"}));
        assert!(matches!(ClaimMapping::default().grant(&c), Err(AuthError::NotPermitted(_))));
        let c = claims(json!({"sub": "p1", "roles": ["service", "la_manager"], "sen_tenant": "886"}));
        assert!(matches!(ClaimMapping::default().grant(&c), Err(AuthError::NotPermitted(_))));
    }

    #[test]
    fn a_platform_operator_has_no_tenant() {
        let mapping = ClaimMapping { tenant: TenantSource::Fixed(code("990")), ..ClaimMapping::default() };
        let grant = mapping.grant(&claims(json!({"sub": "op", "roles": "platform_operator"}))).unwrap();
        assert_eq!(grant.tenant, None);
    }

    #[test]
    fn no_person_no_role_or_no_tenant_is_refused() {
        let mapping = ClaimMapping::default();
        for c in [
            json!({"roles": "la_manager", "sen_tenant": "886"}),
            json!({"sub": " ", "roles": "la_manager", "sen_tenant": "886"}),
            json!({"sub": "p1", "sen_tenant": "886"}),
            json!({"sub": "p1", "roles": ["Admin"], "sen_tenant": "886"}),
            json!({"sub": "p1", "roles": "la_manager"}),
            json!({"sub": "p1", "roles": "la_manager", "sen_tenant": "1000"}),
        ] {
            assert!(matches!(mapping.grant(&claims(c.clone())), Err(AuthError::NotPermitted(_))), "{c}");
        }
    }

    #[test]
    fn issuer_must_match_exactly_and_audience_must_be_included() {
        let c = claims(json!({"iss": "https://idp/", "aud": ["other", "sen"]}));
        assert!(check_issuer(&c, "https://idp/").is_ok());
        assert!(matches!(check_issuer(&c, "https://idp"), Err(AuthError::Invalid(_))));
        assert!(check_audience(&c, "sen").is_ok());
        assert!(matches!(check_audience(&c, "se"), Err(AuthError::Invalid(_))));
        assert!(matches!(check_audience(&claims(json!({})), "sen"), Err(AuthError::Invalid(_))));
    }
}
