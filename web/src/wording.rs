//! How the council's pages say things: dates as people write them, the names
//! of referral statuses, kinds, phases and stages, and the status tags (each
//! with its meaning in words, never colour alone), so that the dashboard and
//! the lists behind it use the same words.

use maud::{Markup, html};
use sen_proto::v1 as pb;
use sen_vocabulary::{ReferralKind, ReferralStatus, Specialism};

use crate::layout::{Tone, tag};

/// A date for people, e.g. "24 November 2026" (`""` when unset or invalid).
pub fn long_date(date: Option<&pb::Date>) -> String {
    date.and_then(|d| sen_platform::dates::from_proto(d).ok())
        .map(|d| d.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

/// A date sortable as text, `YYYY-MM-DD` (`""` when unset), for sorting and CSV.
pub fn iso_date(date: Option<&pb::Date>) -> String {
    date.and_then(|d| sen_platform::dates::from_proto(d).ok()).map(|d| d.to_string()).unwrap_or_default()
}

/// The vocabulary's status of a wire value: referrals.proto numbers the statuses
/// in [`ReferralStatus::ALL`] order from 1, as the referrals service sends them.
fn referral_status(status: i32) -> Option<ReferralStatus> {
    usize::try_from(status).ok()?.checked_sub(1).and_then(|i| ReferralStatus::ALL.get(i).copied())
}

/// The wire value of one of the vocabulary's statuses.
fn wire_status(status: ReferralStatus) -> pb::ReferralStatus {
    let place = ReferralStatus::ALL.iter().position(|s| *s == status).map_or(0, |i| i + 1);
    i32::try_from(place).ok().and_then(|value| pb::ReferralStatus::try_from(value).ok()).unwrap_or_default()
}

/// The query code of a referral status (`""` for unknown).
pub fn status_code(status: i32) -> &'static str {
    referral_status(status).map_or("", ReferralStatus::code)
}

/// The status a query code names, if any.
pub fn status_from_code(code: &str) -> Option<pb::ReferralStatus> {
    ReferralStatus::ALL.into_iter().find(|s| s.code() == code).map(wire_status)
}

/// A referral status for people, e.g. "Returned for more information".
pub fn status_name(status: i32) -> String {
    referral_status(status).map_or_else(|| "Unknown".to_owned(), |s| capitalise(s.name()))
}

/// Every referral status people filter by: `(query code, name)`.
pub fn status_options() -> Vec<(String, String)> {
    ReferralStatus::ALL.into_iter().map(|s| (s.code().to_owned(), capitalise(s.name()))).collect()
}

/// Whether a referral in this status is still open (not declined, closed or withdrawn).
pub fn is_open(status: i32) -> bool {
    referral_status(status).is_none_or(ReferralStatus::is_open)
}

/// A referral's status as a tag.
pub fn status_tag(status: i32) -> Markup {
    let tone = match pb::ReferralStatus::try_from(status) {
        Ok(pb::ReferralStatus::Submitted) => Tone::Blue,
        Ok(pb::ReferralStatus::Returned) => Tone::Yellow,
        Ok(pb::ReferralStatus::Allocated | pb::ReferralStatus::InProgress | pb::ReferralStatus::Accepted) => {
            Tone::Green
        }
        _ => Tone::Grey,
    };
    tag(&status_name(status), tone)
}

/// A referral kind for people, e.g. "Advisory teacher (autism)".
pub fn kind_name(code: &str) -> String {
    match ReferralKind::parse(code) {
        Ok(kind) => capitalise(&kind.name()),
        Err(_) => code.to_owned(),
    }
}

/// The referral kinds people filter by: `(code, name)`.
pub fn kind_options() -> Vec<(String, String)> {
    let mut kinds = vec![ReferralKind::EducationalPsychology, ReferralKind::EhcNeedsAssessment];
    kinds.extend(Specialism::ALL.into_iter().map(ReferralKind::AdvisoryTeacher));
    kinds.into_iter().map(|k| (k.code(), capitalise(&k.name()))).collect()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A school phase for people.
pub fn phase_name(phase: i32) -> &'static str {
    match pb::Phase::try_from(phase) {
        Ok(pb::Phase::Nursery) => "Nursery",
        Ok(pb::Phase::Primary) => "Primary",
        Ok(pb::Phase::MiddleDeemedPrimary) => "Middle (primary)",
        Ok(pb::Phase::Secondary) => "Secondary",
        Ok(pb::Phase::MiddleDeemedSecondary) => "Middle (secondary)",
        Ok(pb::Phase::SixteenPlus) => "16 plus",
        Ok(pb::Phase::AllThrough) => "All-through",
        _ => "Not applicable",
    }
}

/// A statutory clock's health (`on_track`, `at_risk`, `breached`) as a tag.
pub fn health_tag(health: &str) -> Markup {
    match health {
        "breached" => tag("Breached", Tone::Red),
        "at_risk" => tag("At risk", Tone::Yellow),
        "on_track" => tag("On track", Tone::Green),
        _ => tag("Closed", Tone::Grey),
    }
}

/// A statutory clock's stage for people.
pub fn stage_name(stage: &str) -> String {
    match stage {
        "awaiting_assessment_decision" => "Awaiting the decision to assess".into(),
        "assessing" => "Assessing".into(),
        "awaiting_final_plan" => "Awaiting the final plan".into(),
        "not_assessing" => "Decided not to assess".into(),
        "not_issuing" => "Decided not to issue a plan".into(),
        "plan_issued" => "Plan issued".into(),
        other => capitalise(&other.replace('_', " ")),
    }
}

/// Advice asked for in an EHC needs assessment (reg. 6(1)) by its kind's code, e.g. "Social care advice".
pub fn advice_kind_name(code: &str) -> String {
    match code {
        "educational" => "Educational advice".into(),
        "health" => "Health advice".into(),
        "psychological" => "Psychological advice".into(),
        "social_care" => "Social care advice".into(),
        "other" => "Other advice".into(),
        other => capitalise(&other.replace('_', " ")),
    }
}

/// Where advice stands against its 6-week date (reg. 8(1)) as a tag; a
/// statutory case whose psychological advice is not asked for yet says so.
pub fn advice_state_tag(state: &str) -> Markup {
    match state {
        "overdue" => tag("Overdue", Tone::Red),
        "received_late" => tag("In late", Tone::Purple),
        "received_on_time" => tag("In on time", Tone::Green),
        "awaited" => tag("Awaited", Tone::Blue),
        "not_requested" => tag("Advice not yet requested", Tone::Grey),
        other => html! { (other.replace('_', " ")) },
    }
}

/// A red/amber/green rating in words, and as a tag.
pub fn rag_name(rag: i32) -> &'static str {
    match pb::Rag::try_from(rag) {
        Ok(pb::Rag::Red) => "Red",
        Ok(pb::Rag::Amber) => "Amber",
        Ok(pb::Rag::Green) => "Green",
        _ => "Not rated",
    }
}

/// A red/amber/green rating as a tag.
pub fn rag_tag(rag: i32) -> Markup {
    let tone = match pb::Rag::try_from(rag) {
        Ok(pb::Rag::Red) => Tone::Red,
        Ok(pb::Rag::Amber) => Tone::Yellow,
        Ok(pb::Rag::Green) => Tone::Green,
        _ => Tone::Grey,
    };
    tag(rag_name(rag), tone)
}

/// "N days left" / "N days overdue" / "Due today".
pub fn days_left(days: i32) -> String {
    match days {
        0 => "Due today".into(),
        1 => "1 day left".into(),
        -1 => "1 day overdue".into(),
        d if d > 0 => format!("{d} days left"),
        d => format!("{} days overdue", -d),
    }
}

/// A link to a pupil's page, by name (or `Pupil <id>` without one).
pub fn pupil_link(id: i64, name: &str) -> Markup {
    html! {
        a href={ "/pupils/" (id) } {
            @if name.is_empty() { "Pupil " (id) } @else { (name) }
        }
    }
}

/// A link to a school's page, by name (or URN without one).
pub fn school_link(urn: &str, name: &str) -> Markup {
    html! { a href={ "/schools/" (urn) } { @if name.is_empty() { "School " (urn) } @else { (name) } } }
}

/// A whole number with thousands separators, e.g. "12,400".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_numbers_and_deadlines_read_as_people_write_them() {
        let date = pb::Date { year: 2026, month: 11, day: 4 };
        assert_eq!(long_date(Some(&date)), "4 November 2026");
        assert_eq!(long_date(None), "");
        assert_eq!(iso_date(Some(&date)), "2026-11-04");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(days_left(-3), "3 days overdue");
        assert_eq!(kind_name("ehc_needs_assessment"), "EHC needs assessment request");
        assert_eq!(status_from_code("in_progress"), Some(pb::ReferralStatus::InProgress));
        assert!(!is_open(pb::ReferralStatus::Closed as i32) && is_open(pb::ReferralStatus::Returned as i32));
    }

    #[test]
    fn the_vocabulary_statuses_are_numbered_as_the_wire_numbers_them() {
        for status in ReferralStatus::ALL {
            let wire = wire_status(status);
            assert_eq!(wire.as_str_name(), format!("REFERRAL_STATUS_{}", status.code().to_uppercase()));
            assert_eq!(referral_status(wire as i32), Some(status));
        }
        assert_eq!(referral_status(0), None);
        assert_eq!(status_name(pb::ReferralStatus::Returned as i32), "Returned for more information");
        assert_eq!(status_name(99), "Unknown");
        assert_eq!(status_code(pb::ReferralStatus::InProgress as i32), "in_progress");
        assert!(is_open(0), "an unknown status is not closed");
    }
}
