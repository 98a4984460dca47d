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

/// Trimmed, non-blank text of at most `max` characters ([`clean_text`]).
pub fn text(value: &str, name: &str, max: usize) -> Checked<String> {
    field(name, clean_text(value, max))
}

/// Text as people type it: trimmed, not blank, at most `max` characters, with
/// no character that hides or reorders what a reader sees ([`hidden_character`]).
/// Line breaks and tabs are kept (notes, concerns).
pub fn clean_text(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    match value.chars().count() {
        0 => Err("is required".to_owned()),
        n if n > max => Err(format!("is {n} characters; at most {max}")),
        _ => visible(value).map(|()| value.to_owned()),
    }
}

/// [`clean_text`] that may be blank (`None`).
pub fn clean_optional_text(value: &str, max: usize) -> Result<Option<String>, String> {
    if value.trim().is_empty() { Ok(None) } else { clean_text(value, max).map(Some) }
}

/// [`clean_text`] on one line: names of people, schools and authorities.
pub fn clean_line(value: &str, max: usize) -> Result<String, String> {
    let value = clean_text(value, max)?;
    if value.contains(['\n', '\r', '\t']) {
        return Err("must be on one line, without tabs".to_owned());
    }
    Ok(value)
}

/// [`clean_line`] that may be blank (`None`).
pub fn clean_optional_line(value: &str, max: usize) -> Result<Option<String>, String> {
    if value.trim().is_empty() { Ok(None) } else { clean_line(value, max).map(Some) }
}

/// `Ok` when every character of `value` shows as itself; otherwise which
/// character does not, and where.
pub fn visible(value: &str) -> Result<(), String> {
    match value.chars().enumerate().find(|(_, c)| hidden_character(*c)) {
        Some((at, c)) => Err(format!(
            "has an invisible or direction-changing character (U+{:04X}) at character {}: retype it without",
            u32::from(c),
            at + 1
        )),
        None => Ok(()),
    }
}

/// A character a person reading a record would not see, or that would show
/// the text around it in another order than it is stored: control characters
/// other than tab and line breaks, the bidirectional embeddings, overrides,
/// isolates and marks (a name written to display as another), and the
/// zero-width characters (two names that look the same but differ).
pub fn hidden_character(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r')
        && (c.is_control()
            || matches!(
                c,
                '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
            ))
}

/// Trimmed text of at most `max` characters that may be blank (`None`).
pub fn optional_text(value: &str, name: &str, max: usize) -> Checked<Option<String>> {
    field(name, clean_optional_text(value, max))
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

/// The longest span of days a filter may ask about: a century, longer than any
/// record the platform keeps, so every date worked out from a count of days
/// stays a real date.
pub const MOST_DAYS: u32 = 36_600;

/// A count of days (a filter's "older than" or "due within"), at most `most`;
/// 0 when the caller left it unset.
pub fn days(value: u32, name: &str, most: u32) -> Checked<u32> {
    field(name, if value > most { Err(format!("is {value} days; at most {most}")) } else { Ok(value) })
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
    fn text_that_would_show_as_other_text_is_refused_with_the_character_named() {
        for (written, character) in [
            ("Ada\u{202E}ecalevol", "U+202E"),
            ("Ad\u{200B}a", "U+200B"),
            ("\u{2067}Ada\u{2069}", "U+2067"),
            ("Ada\u{0007}", "U+0007"),
            ("A\u{FEFF}da", "U+FEFF"),
        ] {
            let refused = text(written, "legal_first_name", 50).unwrap_err().to_string();
            assert!(refused.starts_with("legal_first_name: has an invisible"), "{written:?}: {refused}");
            assert!(refused.contains(character), "{written:?}: {refused}");
        }
    }

    #[test]
    fn text_in_any_script_with_line_breaks_is_kept() {
        for written in ["Zoë O'Brien-Łukasz", "محمد", "李小龍", "First line.\nSecond line.\r\n\tIndented."] {
            assert_eq!(text(written, "concern", 500), Ok(written.to_owned()));
        }
    }

    #[test]
    fn a_name_on_two_lines_is_refused() {
        assert_eq!(clean_line(" Oak Tree Primary ", 120), Ok("Oak Tree Primary".to_owned()));
        assert_eq!(clean_line("Oak\nTree", 120), Err("must be on one line, without tabs".to_owned()));
    }

    #[test]
    fn a_count_of_days_past_its_bound_names_the_field() {
        assert_eq!(days(30, "older_than_days", MOST_DAYS), Ok(30));
        let refused = days(3_000_000_000, "older_than_days", MOST_DAYS).unwrap_err().to_string();
        assert_eq!(refused, "older_than_days: is 3000000000 days; at most 36600");
    }

    #[test]
    fn a_path_joins_prefix_and_name_unless_at_the_top() {
        assert_eq!(path("school", "postcode"), "school.postcode");
        assert_eq!(path("", "urn"), "urn");
    }
}
