//! The `SEN_OIDC_*` variables: which provider to trust and how its claims become
//! a platform identity. Read once at start, every bad variable reported at once
//! with its name (as `sen_platform::config` does for the rest of the platform).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use sen_platform::config::ConfigProblem;
use sen_platform::env::EnvReader;
use sen_platform::identity::Role;
use sen_platform::ids::LaCode;

/// The `SEN_OIDC_*` variables, each with a one-line description and its default,
/// for the runbook and `--help` texts.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SEN_OIDC_ISSUER",
        "the identity provider's issuer, exactly as in the tokens' `iss` (e.g. https://login.microsoftonline.com/<tenant-id>/v2.0); unset: no OpenID Connect",
    ),
    (
        "SEN_OIDC_AUDIENCE",
        "the `aud` the tokens must carry: the application (client) id or API identifier; required with SEN_OIDC_ISSUER",
    ),
    (
        "SEN_OIDC_JWKS_URL",
        "where the provider's signing keys (JWKS) are; default: the `jwks_uri` of {issuer}/.well-known/openid-configuration",
    ),
    (
        "SEN_OIDC_CA_FILE",
        "PEM file of extra CA certificates to trust for the provider's HTTPS (private PKI); default: the public web roots only",
    ),
    ("SEN_OIDC_PERSON_CLAIM", "claim holding the person's stable id; default `sub` (Microsoft Entra ID: `oid`)"),
    (
        "SEN_OIDC_ROLE_CLAIM",
        "claim holding the role value(s), a string or an array; default `roles` (Entra security groups: `groups`)",
    ),
    (
        "SEN_OIDC_ROLE_MAP",
        "claim value=platform role, comma-separated (e.g. SEN.Manager=la_manager,<group-id>=senco); default: the values are platform role names",
    ),
    (
        "SEN_OIDC_TENANT_CLAIM",
        "claim holding the tenant: the three-digit LA code, or a value of SEN_OIDC_TENANT_MAP; default `sen_tenant`",
    ),
    (
        "SEN_OIDC_TENANT_MAP",
        "claim value=LA code, comma-separated (e.g. an Entra `tid`: <tenant-id>=990); default: the claim holds the LA code",
    ),
    ("SEN_OIDC_TENANT", "the one LA code of a single-council deployment, instead of a tenant claim; default: unset"),
    ("SEN_OIDC_SCHOOL_CLAIM", "claim holding a SENCO's school URN; default `sen_school`"),
    (
        "SEN_OIDC_JWKS_MIN_REFRESH_SECONDS",
        "least time between two fetches of the signing keys, however many unknown key ids arrive; default 60 (1–3600)",
    ),
];

/// The person claim unless `SEN_OIDC_PERSON_CLAIM` says otherwise.
const DEFAULT_PERSON_CLAIM: &str = "sub";
/// The role claim unless `SEN_OIDC_ROLE_CLAIM` says otherwise.
const DEFAULT_ROLE_CLAIM: &str = "roles";
/// The tenant claim unless `SEN_OIDC_TENANT_CLAIM` says otherwise.
const DEFAULT_TENANT_CLAIM: &str = "sen_tenant";
/// The school claim unless `SEN_OIDC_SCHOOL_CLAIM` says otherwise.
const DEFAULT_SCHOOL_CLAIM: &str = "sen_school";
/// The least time between two key-set fetches unless configured.
pub const DEFAULT_JWKS_MIN_REFRESH: Duration = Duration::from_secs(60);

/// Which identity provider to trust and how its tokens map to a platform
/// [`Grant`](sen_platform::identity::Grant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer, compared exactly with each token's `iss`.
    pub issuer: String,
    /// The audience each token's `aud` must contain.
    pub audience: String,
    /// The key set's address; `None` discovers it from the issuer.
    pub jwks_url: Option<String>,
    /// Extra CA certificates (PEM) to trust for the provider's HTTPS.
    pub ca_file: Option<PathBuf>,
    /// How claims become person, role, tenant and school.
    pub claims: ClaimMapping,
    /// The least time between two key-set fetches (tests may set zero).
    pub jwks_min_refresh: Duration,
}

/// How a verified token's claims become a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMapping {
    /// Claim holding the person's stable id.
    pub person_claim: String,
    /// Claim holding role values (a string or an array of strings).
    pub role_claim: String,
    /// Claim value → platform role; `None`: the values are role names themselves.
    pub role_map: Option<HashMap<String, Role>>,
    /// Where the tenant comes from.
    pub tenant: TenantSource,
    /// Claim holding a SENCO's school URN.
    pub school_claim: String,
}

/// Where a caller's tenant (LA code) comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantSource {
    /// This claim holds the three-digit LA code.
    Claim(String),
    /// This claim holds a value that the map turns into an LA code.
    Mapped {
        /// The claim (e.g. Entra's `tid`).
        claim: String,
        /// Claim value → LA code.
        map: HashMap<String, LaCode>,
    },
    /// Every caller belongs to this one authority (a single-council deployment).
    Fixed(LaCode),
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            person_claim: DEFAULT_PERSON_CLAIM.into(),
            role_claim: DEFAULT_ROLE_CLAIM.into(),
            role_map: None,
            tenant: TenantSource::Claim(DEFAULT_TENANT_CLAIM.into()),
            school_claim: DEFAULT_SCHOOL_CLAIM.into(),
        }
    }
}

impl OidcSettings {
    /// Settings for `issuer` and `audience` with every other value at its default
    /// (keys discovered from the issuer, the default claim names).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            ca_file: None,
            claims: ClaimMapping::default(),
            jwks_min_refresh: DEFAULT_JWKS_MIN_REFRESH,
        }
    }

    /// Reads the process environment; see [`OidcSettings::from_lookup`].
    pub fn from_env() -> Result<Option<Self>, Vec<ConfigProblem>> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the `SEN_OIDC_*` variables through `lookup`. `Ok(None)` when no
    /// `SEN_OIDC_*` variable is set (OpenID Connect is off); every bad variable
    /// otherwise, each named. Setting others without `SEN_OIDC_ISSUER` is a
    /// problem, so that a misspelt issuer never silently turns authentication off.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, Vec<ConfigProblem>> {
        let mut r = EnvReader::new(lookup);
        let Some(issuer) = r.raw("SEN_OIDC_ISSUER") else {
            let set: Vec<&str> = VARIABLES.iter().map(|(name, _)| *name).filter(|name| r.raw(name).is_some()).collect();
            if set.is_empty() {
                return Ok(None);
            }
            r.problem("SEN_OIDC_ISSUER", format!("is required when {} is set", set.join(", ")));
            return Err(r.take_problems());
        };
        if let Err(message) = check_provider_url(&issuer) {
            r.problem("SEN_OIDC_ISSUER", format!("'{issuer}' {message}"));
        }
        let audience = r.raw("SEN_OIDC_AUDIENCE").unwrap_or_else(|| {
            r.problem(
                "SEN_OIDC_AUDIENCE",
                "is required with SEN_OIDC_ISSUER: the application (client) id or API identifier the tokens are for",
            );
            String::new()
        });
        let jwks_url = r.raw("SEN_OIDC_JWKS_URL");
        if let Some(url) = &jwks_url
            && let Err(message) = check_provider_url(url)
        {
            r.problem("SEN_OIDC_JWKS_URL", format!("'{url}' {message}"));
        }
        let ca_file = r.file("SEN_OIDC_CA_FILE");
        let role_map = r.raw("SEN_OIDC_ROLE_MAP").map(|v| r.map("SEN_OIDC_ROLE_MAP", &v, parse_token_role));
        let tenant = r.tenant_source();
        let claims = ClaimMapping {
            person_claim: r.raw("SEN_OIDC_PERSON_CLAIM").unwrap_or_else(|| DEFAULT_PERSON_CLAIM.into()),
            role_claim: r.raw("SEN_OIDC_ROLE_CLAIM").unwrap_or_else(|| DEFAULT_ROLE_CLAIM.into()),
            role_map,
            tenant,
            school_claim: r.raw("SEN_OIDC_SCHOOL_CLAIM").unwrap_or_else(|| DEFAULT_SCHOOL_CLAIM.into()),
        };
        let jwks_min_refresh = Duration::from_secs(r.number(
            "SEN_OIDC_JWKS_MIN_REFRESH_SECONDS",
            DEFAULT_JWKS_MIN_REFRESH.as_secs(),
            1,
            3600,
        ));
        r.finish(Some(Self { issuer, audience, jwks_url, ca_file, claims, jwks_min_refresh })).map_err(|e| e.0)
    }
}

/// A role a token may carry: any but `service`, which only the platform's own
/// services hold and no identity provider may hand out.
fn parse_token_role(value: &str) -> Result<Role, String> {
    match Role::parse(value)? {
        Role::Service => Err("'service' is the platform's own role and is never granted by a token".into()),
        role => Ok(role),
    }
}

/// Checks an address the gateway fetches keys from: HTTPS, or plain HTTP to this
/// machine only (a stub provider in tests), since keys fetched over plain HTTP
/// could be swapped on the way.
pub(crate) fn check_provider_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    let loopback = match parsed.host_str() {
        Some("localhost") => true,
        Some(host) => {
            host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err("must be https:// (plain http:// only to localhost)".into()),
        _ => return Err("must be an https:// URL".into()),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(())
}

/// The `SEN_OIDC_*` readings beyond the platform's common ones.
trait OidcVariables {
    fn map<T: PartialEq>(
        &mut self,
        name: &'static str,
        list: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> HashMap<String, T>;
    fn tenant_source(&mut self) -> TenantSource;
}

impl OidcVariables for EnvReader<'_> {
    /// Reads `value=target` pairs separated by commas. The target is after the
    /// last `=`, so claim values containing `=` still map.
    fn map<T: PartialEq>(
        &mut self,
        name: &'static str,
        list: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> HashMap<String, T> {
        let mut map = HashMap::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((value, target)) = entry.rsplit_once('=').map(|(v, t)| (v.trim(), t.trim())) else {
                self.problem(name, format!("'{entry}' is not claim-value=target"));
                continue;
            };
            if value.is_empty() {
                self.problem(name, format!("'{entry}' has no claim value before '='"));
                continue;
            }
            match parse(target) {
                Ok(target) => {
                    if map.get(value).is_some_and(|known| *known != target) {
                        self.problem(name, format!("'{value}' is mapped twice, to different values"));
                    }
                    map.insert(value.to_owned(), target);
                }
                Err(message) => self.problem(name, format!("in '{entry}': {message}")),
            }
        }
        map
    }

    fn tenant_source(&mut self) -> TenantSource {
        let claim = self.raw("SEN_OIDC_TENANT_CLAIM");
        let map = self.raw("SEN_OIDC_TENANT_MAP").map(|v| self.map("SEN_OIDC_TENANT_MAP", &v, LaCode::parse));
        let fixed = self.raw("SEN_OIDC_TENANT").and_then(|v| match LaCode::parse(&v) {
            Ok(code) => Some(code),
            Err(message) => {
                self.problem("SEN_OIDC_TENANT", message);
                None
            }
        });
        let single_council = self.raw("SEN_OIDC_TENANT").is_some();
        if single_council && map.is_some() {
            self.problem("SEN_OIDC_TENANT_MAP", "is not used with SEN_OIDC_TENANT (one council): set one or the other");
        }
        if single_council && claim.is_some() {
            self.problem(
                "SEN_OIDC_TENANT_CLAIM",
                "is not used with SEN_OIDC_TENANT (one council): set one or the other",
            );
        }
        let claim = claim.unwrap_or_else(|| DEFAULT_TENANT_CLAIM.into());
        match (fixed, map) {
            (Some(code), _) => TenantSource::Fixed(code),
            (None, Some(map)) => TenantSource::Mapped { claim, map },
            (None, None) => TenantSource::Claim(claim),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<OidcSettings>, Vec<ConfigProblem>> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        OidcSettings::from_lookup(&|name| vars.get(name).cloned())
    }

    fn problem_variables(vars: &[(&str, &str)]) -> Vec<&'static str> {
        read(vars).expect_err("problems expected").iter().map(|p| p.variable).collect()
    }

    const ENTRA: &str = "https://login.microsoftonline.com/6f1a7c2e-0000-4000-8000-000000000001/v2.0";

    #[test]
    fn no_issuer_means_no_openid_connect() {
        assert_eq!(read(&[]), Ok(None));
    }

    #[test]
    fn other_variables_without_an_issuer_name_the_issuer() {
        assert_eq!(problem_variables(&[("SEN_OIDC_AUDIENCE", "api://sen")]), ["SEN_OIDC_ISSUER"]);
    }

    #[test]
    fn an_issuer_and_audience_take_the_defaults() {
        let settings = read(&[("SEN_OIDC_ISSUER", ENTRA), ("SEN_OIDC_AUDIENCE", "client-id")]).unwrap().unwrap();
        assert_eq!(settings, OidcSettings::new(ENTRA, "client-id"));
    }

    #[test]
    fn an_entra_configuration_reads_in_full() {
        let settings = read(&[
            ("SEN_OIDC_ISSUER", ENTRA),
            ("SEN_OIDC_AUDIENCE", "client-id"),
            ("SEN_OIDC_PERSON_CLAIM", "oid"),
            ("SEN_OIDC_ROLE_MAP", "SEN.Manager=la_manager, SEN.Senco=senco,"),
            ("SEN_OIDC_TENANT_CLAIM", "tid"),
            ("SEN_OIDC_TENANT_MAP", "6f1a7c2e-0000-4000-8000-000000000001=990"),
            ("SEN_OIDC_SCHOOL_CLAIM", "extn.senSchoolUrn"),
            ("SEN_OIDC_JWKS_MIN_REFRESH_SECONDS", "120"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.claims.person_claim, "oid");
        let roles = settings.claims.role_map.unwrap();
        assert_eq!(roles.get("SEN.Manager"), Some(&Role::LaManager));
        assert_eq!(roles.get("SEN.Senco"), Some(&Role::Senco));
        let TenantSource::Mapped { claim, map } = settings.claims.tenant else { panic!("a tenant map expected") };
        assert_eq!(claim, "tid");
        assert_eq!(map.get("6f1a7c2e-0000-4000-8000-000000000001"), LaCode::parse("990").ok().as_ref());
        assert_eq!(settings.claims.school_claim, "extn.senSchoolUrn");
        assert_eq!(settings.jwks_min_refresh, Duration::from_secs(120));
    }

    #[test]
    fn a_fixed_tenant_serves_one_council() {
        let settings = read(&[("SEN_OIDC_ISSUER", ENTRA), ("SEN_OIDC_AUDIENCE", "a"), ("SEN_OIDC_TENANT", "990")])
            .unwrap()
            .unwrap();
        assert_eq!(settings.claims.tenant, TenantSource::Fixed(LaCode::parse("990").unwrap()));
    }

    #[test]
    fn every_bad_variable_is_named() {
        let mut named = problem_variables(&[
            ("SEN_OIDC_ISSUER", "http://idp.example.org/"),
            ("SEN_OIDC_JWKS_URL", "ftp://idp.example.org/keys"),
            ("SEN_OIDC_CA_FILE", "/no/such/ca.pem"),
            ("SEN_OIDC_ROLE_MAP", "SEN.Manager=boss"),
            ("SEN_OIDC_TENANT_MAP", "tid-1=99"),
            ("SEN_OIDC_JWKS_MIN_REFRESH_SECONDS", "0"),
        ]);
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "SEN_OIDC_AUDIENCE",
                "SEN_OIDC_CA_FILE",
                "SEN_OIDC_ISSUER",
                "SEN_OIDC_JWKS_MIN_REFRESH_SECONDS",
                "SEN_OIDC_JWKS_URL",
                "SEN_OIDC_ROLE_MAP",
                "SEN_OIDC_TENANT_MAP",
            ]
        );
    }

    #[test]
    fn the_service_role_cannot_be_mapped() {
        let problems =
            read(&[("SEN_OIDC_ISSUER", ENTRA), ("SEN_OIDC_AUDIENCE", "a"), ("SEN_OIDC_ROLE_MAP", "x=service")])
                .expect_err("service must be refused");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].variable, "SEN_OIDC_ROLE_MAP");
        assert!(problems[0].message.contains("service"), "{}", problems[0].message);
    }

    #[test]
    fn map_entries_without_a_target_or_mapped_twice_are_refused() {
        let base = [("SEN_OIDC_ISSUER", ENTRA), ("SEN_OIDC_AUDIENCE", "a")];
        for bad in ["SEN.Manager", "=senco", "g=senco,g=la_manager"] {
            let vars = [base[0], base[1], ("SEN_OIDC_ROLE_MAP", bad)];
            assert_eq!(problem_variables(&vars), ["SEN_OIDC_ROLE_MAP"], "{bad}");
        }
    }

    #[test]
    fn a_fixed_tenant_excludes_tenant_claims_and_maps() {
        let mut named = problem_variables(&[
            ("SEN_OIDC_ISSUER", ENTRA),
            ("SEN_OIDC_AUDIENCE", "a"),
            ("SEN_OIDC_TENANT", "99O"),
            ("SEN_OIDC_TENANT_CLAIM", "tid"),
            ("SEN_OIDC_TENANT_MAP", "t=990"),
        ]);
        named.sort_unstable();
        assert_eq!(named, ["SEN_OIDC_TENANT", "SEN_OIDC_TENANT_CLAIM", "SEN_OIDC_TENANT_MAP"]);
    }

    #[test]
    fn plain_http_is_accepted_to_this_machine_only() {
        assert!(check_provider_url("http://127.0.0.1:8443/realms/sen").is_ok());
        assert!(check_provider_url("http://localhost/").is_ok());
        assert!(check_provider_url("https://idp.example.org/").is_ok());
        assert!(check_provider_url("http://idp.example.org/").is_err());
        assert!(check_provider_url("https://idp.example.org/?x=1").is_err());
        assert!(check_provider_url("idp.example.org").is_err());
    }
}
