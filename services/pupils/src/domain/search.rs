//! A search for a pupil as a person types it into a "find the pupil" box: a
//! name (any part of it, the words in any order, case ignored) or a UPN. The
//! words are kept lower-cased and as typed otherwise; the store matches each
//! against the legal and preferred names, and a UPN against the UPN exactly.
//!
//! ```
//! use sen_pupils::domain::PupilSearch;
//! let search = PupilSearch::parse("  Khan  amir ").unwrap().unwrap();
//! assert_eq!(search.words(), ["khan", "amir"]);
//! assert!(search.upn().is_none());
//! let by_upn = PupilSearch::parse("b801200005001").unwrap().unwrap();
//! assert_eq!(by_upn.upn().map(|u| u.as_str()), Some("B801200005001"));
//! assert!(PupilSearch::parse("").unwrap().is_none());
//! ```

use super::Upn;

/// The longest search taken, in characters.
pub const SEARCH_MAX_CHARS: usize = 100;
/// The most words matched (more say nothing a person means).
const MAX_WORDS: usize = 6;

/// A checked search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PupilSearch {
    words: Vec<String>,
    upn: Option<Upn>,
}

impl PupilSearch {
    /// The search `text` means, `None` when blank.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let count = text.chars().count();
        if count > SEARCH_MAX_CHARS {
            return Err(format!("is {count} characters; at most {SEARCH_MAX_CHARS}"));
        }
        sen_platform::fields::visible(text)?;
        let words: Vec<String> = text.split_whitespace().take(MAX_WORDS).map(str::to_lowercase).collect();
        let upn = match words.as_slice() {
            [one] => Upn::parse(&one.to_uppercase()).ok(),
            _ => None,
        };
        Ok(Some(Self { words, upn }))
    }

    /// The words each name must contain, lower-cased.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The UPN, when the search is one.
    pub fn upn(&self) -> Option<&Upn> {
        self.upn.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_its_words_or_a_upn() {
        let s = PupilSearch::parse("O'Brien   Ellie-May").unwrap().unwrap();
        assert_eq!(s.words(), ["o'brien", "ellie-may"]);
        assert!(PupilSearch::parse("A801200005001").unwrap().unwrap().upn().is_none(), "a bad check letter is a name");
        assert!(PupilSearch::parse(&"x".repeat(101)).is_err());
        assert!(PupilSearch::parse("Ann\u{202E}").is_err(), "no direction-changing characters");
        assert_eq!(PupilSearch::parse("a b c d e f g h").unwrap().unwrap().words().len(), 6);
    }
}
