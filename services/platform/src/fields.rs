//! Checking a request's fields so that a handler gets either every parsed value
//! or every bad field, never a mix: each check answers [`Checked`], and
//! [`AllChecked::all`] joins several into one tuple of values or one list of
//! violations. No step can lose a value it parsed, so no handler needs a
//! "this cannot happen" branch after validation.
//!
//! ```
//! use sen_platform::fields::{AllChecked, field, text};
//! let (name, age) = (text("  Ada ", "name", 50), field("age", "7".parse::<u8>().map_err(|e| e.to_string())))
//!     .all()
//!     .unwrap();
//! assert_eq!((name.as_str(), age), ("Ada", 7));
//! let bad = (text("", "name", 50), text("Ada", "school", 50)).all().unwrap_err();
//! assert_eq!(bad.to_string(), "name: is required");
//! ```

use crate::error::FieldViolations;

/// A parsed value, or the violations that stopped it.
pub type Checked<T> = Result<T, FieldViolations>;

/// A parse result with its error recorded against `name`.
pub fn field<T>(name: &str, parsed: Result<T, String>) -> Checked<T> {
    parsed.map_err(|description| FieldViolations::one(name, description))
}

/// Trimmed, non-blank text of at most `max` characters.
pub fn text(value: &str, name: &str, max: usize) -> Checked<String> {
    let value = value.trim();
    field(
        name,
        match value.chars().count() {
            0 => Err("is required".to_owned()),
            n if n > max => Err(format!("is {n} characters; at most {max}")),
            _ => Ok(value.to_owned()),
        },
    )
}

/// Trimmed text of at most `max` characters that may be blank (`None`).
pub fn optional_text(value: &str, name: &str, max: usize) -> Checked<Option<String>> {
    if value.trim().is_empty() { Ok(None) } else { text(value, name, max).map(Some) }
}

/// `name` under `prefix`, the path a violation names (`school.postcode`); just `name` when `prefix` is empty.
pub fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// The version an update sends back, the one the caller read, so that a change
/// made since is refused rather than overwritten; 0 (unset) is refused under `name`.
pub fn version(value: i64, name: &str) -> Checked<i64> {
    field(name, if value < 1 { Err("is required: send the version you read".to_owned()) } else { Ok(value) })
}

/// `Ok` when `violations` is empty, for checks that parse nothing (dates in order, a decision with its date).
pub fn none_of(violations: FieldViolations) -> Checked<()> {
    violations.into_result()
}

/// Several checks joined: every value, or every violation of every check.
pub trait AllChecked {
    /// The values, in the order of the checks.
    type Values;
    /// Every value when all checks passed; otherwise all their violations together.
    fn all(self) -> Checked<Self::Values>;
}

macro_rules! all_checked {
    ($($name:ident),+) => {
        impl<$($name),+> AllChecked for ($(Checked<$name>,)+) {
            type Values = ($($name,)+);

            #[allow(non_snake_case)]
            fn all(self) -> Checked<Self::Values> {
                let ($($name,)+) = self;
                let mut violations = FieldViolations::new();
                $(let $name = match $name {
                    Ok(value) => Some(value),
                    Err(found) => {
                        violations.extend(found);
                        None
                    }
                };)+
                match ($($name,)+) {
                    ($(Some($name),)+) => Ok(($($name,)+)),
                    _ => Err(violations),
                }
            }
        }
    };
}

all_checked!(A);
all_checked!(A, B);
all_checked!(A, B, C);
all_checked!(A, B, C, D);
all_checked!(A, B, C, D, E);
all_checked!(A, B, C, D, E, F);
all_checked!(A, B, C, D, E, F, G);
all_checked!(A, B, C, D, E, F, G, H);
all_checked!(A, B, C, D, E, F, G, H, I);
all_checked!(A, B, C, D, E, F, G, H, I, J);
all_checked!(A, B, C, D, E, F, G, H, I, J, K);
all_checked!(A, B, C, D, E, F, G, H, I, J, K, L);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_together() {
        let checked = (text("", "a", 5), text("toolong", "b", 5), text("ok", "c", 5)).all();
        let names: Vec<String> = checked.unwrap_err().iter().map(|v| v.field.clone()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn good_fields_come_back_trimmed_in_order() {
        assert_eq!((text(" x ", "a", 5), field("b", Ok::<_, String>(2))).all(), Ok(("x".to_owned(), 2)));
    }

    #[test]
    fn blank_optional_text_is_none_and_long_is_refused() {
        assert_eq!(optional_text("  ", "a", 3), Ok(None));
        assert!(optional_text("abcd", "a", 3).is_err());
    }

    #[test]
    fn a_missing_version_names_the_field() {
        assert_eq!(version(3, "version"), Ok(3));
        let missing = version(0, "version").unwrap_err();
        assert_eq!(missing.to_string(), "version: is required: send the version you read");
    }

    #[test]
    fn a_path_joins_prefix_and_name_unless_at_the_top() {
        assert_eq!(path("school", "postcode"), "school.postcode");
        assert_eq!(path("", "urn"), "urn");
    }
}
