//! The reconciler's settings, read from the environment through the platform's
//! `EnvReader`, every bad variable named.

use std::time::Duration;

use sen_platform::env::{ConfigError, EnvReader};

/// The variables read here, with what they mean, for the runbook.
pub const VARIABLES: &[(&str, &str)] = &[(
    "SEN_RECONCILE_INTERVAL_SECONDS",
    "seconds between two passes of the allocation reconciler, 1 to 3600 (default 60); 0 turns it off",
)];

/// Default time between two passes.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

/// How the reconciler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// Time between two passes; `None` when turned off.
    pub every: Option<Duration>,
}

impl ReconcileSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = EnvReader::new(lookup);
        let seconds = r.number("SEN_RECONCILE_INTERVAL_SECONDS", DEFAULT_EVERY.as_secs(), 0, 3600);
        let every = (seconds > 0).then(|| Duration::from_secs(seconds));
        r.finish(Self { every })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Option<&str>) -> Result<ReconcileSettings, ConfigError> {
        let value = value.map(str::to_owned);
        ReconcileSettings::from_lookup(&move |name| {
            (name == "SEN_RECONCILE_INTERVAL_SECONDS").then(|| value.clone()).flatten()
        })
    }

    #[test]
    fn the_reconciler_runs_every_minute_unless_told_otherwise() {
        assert_eq!(read(None).unwrap().every, Some(Duration::from_secs(60)));
        assert_eq!(read(Some("15")).unwrap().every, Some(Duration::from_secs(15)));
        assert_eq!(read(Some("0")).unwrap().every, None, "0 turns it off");
    }

    #[test]
    fn a_bad_interval_is_named() {
        for bad in ["soon", "-5", "3601"] {
            assert_eq!(read(Some(bad)).unwrap_err().variables(), ["SEN_RECONCILE_INTERVAL_SECONDS"], "{bad}");
        }
    }
}
