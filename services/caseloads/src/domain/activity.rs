//! What a professional records against a case: the kind of activity, the
//! sessions (half-days) it took, and a short note. The sessions feed two
//! figures: the professional's load, when their limit is sessions a term, and
//! the school's use of its time allocation, except for statutory advice, which
//! the council funds separately (see [`counts_against_school_allocation`]).

pub use sen_vocabulary::ActivityKind;

/// Whether the kind's sessions come out of the school's time allocation.
/// Statutory advice for an EHC needs assessment does not: the council funds it,
/// so a school's core allocation is not spent on the council's legal duty.
pub fn counts_against_school_allocation(kind: ActivityKind) -> bool {
    kind != ActivityKind::StatutoryAdvice
}

/// Most sessions one activity may record: two working weeks of half-days.
pub const MAX_SESSIONS_PER_ACTIVITY: u32 = 20;

/// Sessions (half-days) for one activity, 1 to 20, or what is wrong with them.
pub fn check_sessions(sessions: u32) -> Result<u32, String> {
    if !(1..=MAX_SESSIONS_PER_ACTIVITY).contains(&sessions) {
        return Err(format!(
            "{sessions} sessions: give between 1 and {MAX_SESSIONS_PER_ACTIVITY} (a session is a half-day)"
        ));
    }
    Ok(sessions)
}

/// Longest note accepted, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// The note trimmed (it may be empty), or what is wrong with it: longer than 500
/// characters, or a character that would not show as itself (control characters
/// other than line breaks and tabs, direction overrides, zero-width characters).
pub fn check_note(note: &str) -> Result<String, String> {
    let note = note.trim();
    let chars = note.chars().count();
    if chars > NOTE_MAX_CHARS {
        return Err(format!("is {chars} characters; at most {NOTE_MAX_CHARS}"));
    }
    sen_platform::fields::visible(note)?;
    Ok(note.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.code()), Ok(kind));
        }
        assert_eq!(ActivityKind::StatutoryAdvice.code(), "statutory_advice");
        assert_eq!(ActivityKind::StatutoryAdvice.name(), "statutory advice");
        assert_eq!(ActivityKind::parse(" report "), Ok(ActivityKind::Report));
        assert!(ActivityKind::parse("supervision").unwrap_err().contains("not a kind of activity"));
        assert!(ActivityKind::parse("statutory advice").is_err());
    }

    #[test]
    fn only_statutory_advice_is_funded_outside_the_schools_allocation() {
        for kind in ActivityKind::ALL {
            assert_eq!(counts_against_school_allocation(kind), kind != ActivityKind::StatutoryAdvice, "{kind:?}");
        }
    }

    #[test]
    fn sessions_are_one_to_twenty_half_days() {
        assert_eq!(check_sessions(1), Ok(1));
        assert_eq!(check_sessions(20), Ok(20));
        assert_eq!(check_sessions(0).unwrap_err(), "0 sessions: give between 1 and 20 (a session is a half-day)");
        assert!(check_sessions(21).is_err());
    }

    #[test]
    fn notes_are_trimmed_and_may_be_empty() {
        assert_eq!(check_note("  Met the SENCO; plan agreed.  "), Ok("Met the SENCO; plan agreed.".into()));
        assert_eq!(check_note("   "), Ok(String::new()));
        assert_eq!(check_note("Seen in class.\nFollow up in May."), Ok("Seen in class.\nFollow up in May.".into()));
    }

    #[test]
    fn notes_over_500_characters_are_refused() {
        let longest = "é".repeat(500);
        assert_eq!(check_note(&format!(" {longest} ")), Ok(longest.clone()), "counted in characters, not bytes");
        assert_eq!(check_note(&format!("{longest}x")).unwrap_err(), "is 501 characters; at most 500");
    }

    #[test]
    fn notes_with_characters_that_would_not_show_are_refused() {
        assert!(check_note("bell\u{7}").unwrap_err().contains("(U+0007) at character 5"));
        assert!(check_note("a\u{0}b").is_err());
        assert!(check_note("seen by \u{202E}spE").unwrap_err().contains("U+202E"));
        assert_eq!(check_note("line one\nline two"), Ok("line one\nline two".to_owned()));
    }
}
