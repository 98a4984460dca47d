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

    /// A secret-bearing value given either directly in `name` or, so that it is
    /// a mounted file rather than an environment variable (which `kubectl
    /// describe`, `/proc/<pid>/environ` and crash reporters show), as the path
    /// in `file_name` (`SEN_DATABASE_URL_FILE`). The file's content is the
    /// value, with surrounding whitespace (a final newline) removed. Both set,
    /// an unreadable file or an empty one is a problem of `file_name`.
    pub fn value_or_file(&mut self, name: &'static str, file_name: &'static str) -> Option<String> {
        let direct = self.raw(name);
        let Some(path) = self.raw(file_name).map(PathBuf::from) else {
            return direct;
        };
        if direct.is_some() {
            self.problem(file_name, format!("must not be set together with {name}: set one of the two"));
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(content) if !content.trim().is_empty() => Some(content.trim().to_owned()),
            Ok(_) => {
                self.problem(file_name, format!("{} is empty: it must hold the value of {name}", path.display()));
                None
            }
            Err(e) => {
                self.problem(file_name, format!("cannot read {}: {e}", path.display()));
                None
            }
        }
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

    fn read_secret(vars: &[(&str, String)]) -> (Option<String>, Vec<ConfigProblem>) {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let mut r = EnvReader::new(&lookup);
        let value = r.value_or_file("SEN_DATABASE_URL", "SEN_DATABASE_URL_FILE");
        (value, r.take_problems())
    }

    #[test]
    fn a_secret_is_read_from_its_file_without_the_final_newline() {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("url");
        std::fs::write(&file, "postgres://sen_pupils:s3cret@db:5432/sen_pupils\n").expect("written");
        let (value, problems) = read_secret(&[("SEN_DATABASE_URL_FILE", file.display().to_string())]);
        assert_eq!(value.as_deref(), Some("postgres://sen_pupils:s3cret@db:5432/sen_pupils"));
        assert!(problems.is_empty(), "{problems:?}");
        let (value, problems) = read_secret(&[("SEN_DATABASE_URL", "postgres://db/x".into())]);
        assert_eq!(value.as_deref(), Some("postgres://db/x"), "the variable alone still works");
        assert!(problems.is_empty());
    }

    #[test]
    fn a_secret_given_both_ways_is_refused_naming_both() {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("url");
        std::fs::write(&file, "postgres://db/x").expect("written");
        let (value, problems) = read_secret(&[
            ("SEN_DATABASE_URL", "postgres://db/y".into()),
            ("SEN_DATABASE_URL_FILE", file.display().to_string()),
        ]);
        assert_eq!(value, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].variable, "SEN_DATABASE_URL_FILE");
        assert!(problems[0].message.contains("SEN_DATABASE_URL"), "{}", problems[0].message);
    }

    #[test]
    fn a_missing_or_empty_secret_file_is_named_with_its_path() {
        let dir = tempfile::tempdir().expect("a folder");
        let missing = dir.path().join("nowhere");
        let (value, problems) = read_secret(&[("SEN_DATABASE_URL_FILE", missing.display().to_string())]);
        assert_eq!(value, None);
        assert_eq!(problems[0].variable, "SEN_DATABASE_URL_FILE");
        assert!(problems[0].message.contains("cannot read") && problems[0].message.contains("nowhere"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("written");
        let (value, problems) = read_secret(&[("SEN_DATABASE_URL_FILE", empty.display().to_string())]);
        assert_eq!(value, None);
        assert!(problems[0].message.contains("is empty"), "{}", problems[0].message);
    }
}
