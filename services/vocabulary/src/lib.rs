//! The shared words of the SEN domain, spoken by several services, the gateway's
//! pages and the `sen` client: the four broad areas of need (SEND Code of Practice
//! 6.28), the kinds of referral a school makes to the council and the specialisms
//! of advisory teaching teams, a referral's status, priority and consent method,
//! the kinds of casework activity and caseload limit, and the documents a
//! referral may carry. Plain data with codes,
//! names and parsing, one definition each; no rules of any one service, and no I/O.

mod casework;
mod documents;
mod kinds;
mod needs;
mod referral;

pub use casework::{ActivityKind, CapacityKind};
pub use documents::{
    DocumentKind, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_NAME_CHARS, MAX_DOCUMENTS_PER_REFERRAL, check_document,
    document_kinds_in_words, document_name, size_in_words,
};
pub use kinds::{ReferralKind, Specialism};
pub use needs::BroadArea;
pub use referral::{ConsentMethod, Priority, ReferralStatus, allocation_note, allocation_of_note};

/// Codes listed for people: "a", "a or b", "a, b or c".
pub fn either_of<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    let codes: Vec<&str> = codes.into_iter().collect();
    match codes.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_with_or_before_the_last() {
        assert_eq!(either_of([]), "");
        assert_eq!(either_of(["routine"]), "routine");
        assert_eq!(either_of(["routine", "urgent"]), "routine or urgent");
        assert_eq!(
            either_of(BroadArea::ALL.map(BroadArea::code)),
            "communication_and_interaction, cognition_and_learning, social_emotional_mental_health or sensory_physical"
        );
    }
}
