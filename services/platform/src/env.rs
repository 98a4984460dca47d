//! Reading `SEN_*` variables: every bad one recorded with its name, all reported
//! at once, so an operator fixes a deployment in one pass. The lookup is a
//! function so that tests never touch the process environment.
//!
//! The platform's [`crate::config::Config`] and the gateway's own settings read
//! through the same [`EnvReader`].

use std::fmt;
use std::path::PathBuf;

/// One bad variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong, and what would be right.
    pub message: String,
}

/// Every bad variable found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration is not valid:")?;
        for p in &self.0 {
            writeln!(f, "  {}: {}", p.variable, p.message)?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The variables named, for tests and messages.
    pub fn variables(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.variable).collect()
    }
}

/// Reads variables through a lookup, collecting a [`ConfigProblem`] for each bad one.
pub struct EnvReader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<ConfigProblem>,
}

impl<'a> EnvReader<'a> {
    /// A reader over `lookup` (the process environment, or a test's map).
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup, problems: Vec::new() }
    }

    /// The trimmed value of `name`; unset and blank are the same.
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Records that `variable` is wrong.
    pub fn problem(&mut self, variable: &'static str, message: impl Into<String>) {
        self.problems.push(ConfigProblem { variable, message: message.into() });
    }

    /// Whether a problem was already recorded for a variable starting with `prefix`.
    pub fn has_problem_with(&self, prefix: &str) -> bool {
        self.problems.iter().any(|p| p.variable.starts_with(prefix))
    }

    /// The value of `name` parsed by `parse`, or `default` when unset (or bad, with the problem recorded).
    pub fn parse<T>(&mut self, name: &'static str, default: T, parse: impl Fn(&str) -> Result<T, String>) -> T {
        match self.raw(name) {
            None => default,
            Some(value) => match parse(&value) {
                Ok(v) => v,
                Err(message) => {
                    self.problem(name, format!("'{value}' {message}"));
                    default
                }
            },
        }
    }

    /// A whole number from `min` to `max`.
    pub fn number(&mut self, name: &'static str, default: u64, min: u64, max: u64) -> u64 {
        self.parse(name, default, |v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("is not a whole number from {min} to {max}"))
        })
    }

    /// An `http://` or `https://` URL of another part of the platform.
    pub fn service_url(&mut self, name: &'static str) -> Option<String> {
        let url = self.raw(name)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            self.problem(name, format!("'{url}' must be an http:// or https:// URL"));
        }
        Some(url)
    }

    /// A path that must name a readable file.
    pub fn file(&mut self, name: &'static str) -> Option<PathBuf> {
        let path = PathBuf::from(self.raw(name)?);
        if !path.is_file() {
            self.problem(name, format!("{} is not a readable file", path.display()));
        }
        Some(path)
    }

    /// The problems found so far, leaving none.
    pub fn take_problems(&mut self) -> Vec<ConfigProblem> {
        std::mem::take(&mut self.problems)
    }

    /// `value` when every variable was good, or every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() { Ok(value) } else { Err(ConfigError(self.problems)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_variable_is_named_at_once() {
        let lookup = |name: &str| match name {
            "A" => Some("x".to_owned()),
            "B" => Some("ftp://host".to_owned()),
            "C" => Some("   ".to_owned()),
            _ => None,
        };
        let mut r = EnvReader::new(&lookup);
        assert_eq!(r.number("A", 5, 1, 10), 5);
        assert_eq!(r.service_url("B").as_deref(), Some("ftp://host"));
        assert_eq!(r.raw("C"), None, "a blank value is unset");
        let problems = r.finish(()).unwrap_err();
        assert_eq!(problems.variables(), ["A", "B"]);
    }
}
