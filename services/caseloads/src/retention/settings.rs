//! The retention pass's settings, read from the environment through the
//! platform's `EnvReader`, every bad variable named.

use std::time::Duration;

use sen_platform::env::{ConfigError, EnvReader};

/// The variables read here, with what they mean, for the runbook.
pub const VARIABLES: &[(&str, &str)] = &[(
    "SEN_RETENTION_INTERVAL_HOURS",
    "hours between two passes erasing pupils past their retention period, 1 to 168 (default 24); 0 turns them off",
)];

/// Default time between two passes, in hours.
pub const DEFAULT_HOURS: u64 = 24;

/// How the retention pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionSettings {
    /// Time between two passes; `None` when turned off.
    pub every: Option<Duration>,
}

impl RetentionSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = EnvReader::new(lookup);
        let hours = r.number("SEN_RETENTION_INTERVAL_HOURS", DEFAULT_HOURS, 0, 168);
        let every = (hours > 0).then(|| Duration::from_secs(hours * 3600));
        r.finish(Self { every })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Option<&str>) -> Result<RetentionSettings, ConfigError> {
        let value = value.map(str::to_owned);
        RetentionSettings::from_lookup(&move |name| {
            (name == "SEN_RETENTION_INTERVAL_HOURS").then(|| value.clone()).flatten()
        })
    }

    #[test]
    fn pupils_past_retention_are_erased_daily_unless_told_otherwise() {
        assert_eq!(read(None).unwrap().every, Some(Duration::from_secs(24 * 3600)));
        assert_eq!(read(Some("6")).unwrap().every, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(read(Some("0")).unwrap().every, None, "0 turns it off");
    }

    #[test]
    fn a_bad_interval_is_named() {
        for bad in ["daily", "-1", "169"] {
            assert_eq!(read(Some(bad)).unwrap_err().variables(), ["SEN_RETENTION_INTERVAL_HOURS"], "{bad}");
        }
    }
}
