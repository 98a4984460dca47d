//! Each authority's retention period, read from the environment through the
//! platform's `EnvReader`, every bad variable named.
//!
//! `SEN_RETENTION_YEARS` is the period of every authority (default 31: date of
//! birth + 31 years); `SEN_RETENTION_YEARS_BY_AUTHORITY` lists those that keep
//! records for another period, as `LA=years` pairs separated by commas
//! (`990=45,991=35`).

use std::collections::BTreeMap;

use sen_platform::env::{ConfigError, EnvReader};
use sen_platform::ids::LaCode;

use crate::domain::{DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS, RetentionPolicy};

/// The variables read here, with what they mean, for the runbook.
pub const VARIABLES: &[(&str, &str)] = &[
    ("SEN_RETENTION_YEARS", "years after a pupil's date of birth their records are kept, 1 to 120 (default 31)"),
    (
        "SEN_RETENTION_YEARS_BY_AUTHORITY",
        "authorities that keep records for another period, as LA=years pairs separated by commas (e.g. 990=45)",
    ),
];

/// Reads the process environment.
pub fn from_env() -> Result<RetentionPolicy, ConfigError> {
    from_lookup(&|name| std::env::var(name).ok())
}

/// Reads variables through `lookup`.
pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<RetentionPolicy, ConfigError> {
    let mut r = EnvReader::new(lookup);
    let years = r.number("SEN_RETENTION_YEARS", u64::from(DEFAULT_RETENTION_YEARS), 1, u64::from(MAX_RETENTION_YEARS));
    let by_authority = r.parse("SEN_RETENTION_YEARS_BY_AUTHORITY", BTreeMap::new(), by_authority);
    let years = u32::try_from(years).unwrap_or(DEFAULT_RETENTION_YEARS);
    match RetentionPolicy::new(years, by_authority) {
        Ok(policy) => r.finish(policy),
        Err(e) => {
            r.problem("SEN_RETENTION_YEARS_BY_AUTHORITY", e);
            r.finish(RetentionPolicy::default())
        }
    }
}

/// `990=45,991=35` as LA code → years.
fn by_authority(text: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut periods = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (la, years) = pair.split_once('=').ok_or_else(|| format!("'{pair}' is not LA=years"))?;
        let la = LaCode::parse(la.trim()).map_err(|e| format!("'{pair}': {e}"))?;
        let years = years.trim().parse::<u32>().map_err(|_| format!("'{pair}': the years are not a number"))?;
        periods.insert(la.to_string(), years);
    }
    Ok(periods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(years: Option<&str>, by: Option<&str>) -> Result<RetentionPolicy, ConfigError> {
        let (years, by) = (years.map(str::to_owned), by.map(str::to_owned));
        from_lookup(&move |name| match name {
            "SEN_RETENTION_YEARS" => years.clone(),
            "SEN_RETENTION_YEARS_BY_AUTHORITY" => by.clone(),
            _ => None,
        })
    }

    #[test]
    fn records_are_kept_31_years_after_birth_unless_an_authority_says_otherwise() {
        let policy = read(None, None).unwrap();
        assert_eq!(policy.years_for("886"), 31);
        let policy = read(Some("35"), Some("990=45, 991=40")).unwrap();
        assert_eq!((policy.years_for("886"), policy.years_for("990"), policy.years_for("991")), (35, 45, 40));
    }

    #[test]
    fn a_bad_period_is_named() {
        assert_eq!(read(Some("0"), None).unwrap_err().variables(), ["SEN_RETENTION_YEARS"]);
        for bad in ["990", "99=45", "990=many", "990=0"] {
            assert_eq!(read(None, Some(bad)).unwrap_err().variables(), ["SEN_RETENTION_YEARS_BY_AUTHORITY"], "{bad}");
        }
    }
}
