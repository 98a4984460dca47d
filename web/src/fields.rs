//! What the register, pupil and referral forms share: reading a posted form,
//! dates in and out of date inputs, the census codes' names, and turning a
//! service's field violations (`google.rpc.BadRequest`) into errors against the
//! form's own inputs, so every problem shows at once beside its field.

use maud::{Markup, html};
use ring::rand::SecureRandom;
use sen_proto::v1 as pb;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::layout::{FieldError, Tone, tag};

/// A posted form, every value as sent (repeated names kept, e.g. checkboxes).
#[derive(Clone, Debug, Default)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }

    /// The CSRF token sent.
    pub fn csrf(&self) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == crate::session::CSRF_FIELD).map(|(_, v)| v.as_str())
    }

    /// Whether a checkbox `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// Adds `message` against input `id` unless that input already has an error.
pub fn add_error(errors: &mut Vec<FieldError>, id: &str, message: impl Into<String>) {
    if !errors.iter().any(|e| e.id == id) {
        errors.push(FieldError { id: id.to_owned(), message: message.into() });
    }
}

/// A date input's value (`""` for none): `YYYY-MM-DD` as date inputs send it,
/// or the day, month and year as people type them where a browser has no date
/// input (`27/3/2026`, `27 3 2026`, `27-03-2026`, `27 March 2026`, `27 Mar 2026`),
/// as the hint shows ([`crate::layout::DATE_EXAMPLE`]). Anything else is an error
/// against `id`.
pub fn date_from(value: &str, id: &str, label: &str, errors: &mut Vec<FieldError>) -> Option<pb::Date> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match typed_date(value) {
        Some(date) => Some(sen_platform::dates::to_proto(date)),
        None => {
            let example = crate::layout::DATE_EXAMPLE.trim_start_matches("For example, ");
            add_error(errors, id, format!("{label} must be a real date, for example {example}"));
            None
        }
    }
}

/// A date as typed, in any of the forms [`date_from`] takes.
fn typed_date(value: &str) -> Option<chrono::NaiveDate> {
    let spaced = value.split_whitespace().collect::<Vec<_>>().join(" ");
    ["%Y-%m-%d", "%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y"]
        .iter()
        .find_map(|format| chrono::NaiveDate::parse_from_str(&spaced, format).ok())
        .filter(|date| chrono::Datelike::year(date) >= 1900)
}

/// An RFC 3339 time for people, e.g. "24 November 2026 at 14:05" (as given when unreadable).
pub fn long_time(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&chrono::Utc).format("%-d %B %Y at %H:%M").to_string())
        .unwrap_or_else(|_| at.to_owned())
}

/// A fresh idempotency key for one form as first shown: a retry or double submit
/// of that form sends the same key, so the service makes one record.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // Unreachable on supported systems; a time-based key still differs per form.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        return format!("web-{nanos:x}");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a service's field path goes on a form: `(path, input id, label)`. A
/// violation of `path` or of a field under it is shown against the input.
pub type FieldMap<'a> = &'a [(&'a str, &'a str, &'a str)];

/// The errors of a refused request against the form's inputs, or `None` when the
/// status is not bad input. Paths the map does not know go against `fallback`.
pub fn field_errors(status: &Status, map: FieldMap<'_>, fallback: &str) -> Option<Vec<FieldError>> {
    if status.code() != Code::InvalidArgument {
        return None;
    }
    let mut errors = Vec::new();
    let violations = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
    if violations.is_empty() {
        add_error(&mut errors, fallback, sentence(status.message()));
    }
    for violation in violations {
        let path = violation.field.as_str();
        let found = map
            .iter()
            .filter(|(p, _, _)| path == *p || path.starts_with(&format!("{p}.")))
            .max_by_key(|(p, _, _)| p.len());
        match found {
            Some((_, id, label)) => add_error(&mut errors, id, message(label, &violation.description)),
            None => add_error(&mut errors, fallback, format!("{path}: {}", violation.description)),
        }
    }
    Some(errors)
}

/// "Concern" + "is required" → "Concern is required"; a description that is a
/// sentence of its own keeps its words.
pub fn message(label: &str, description: &str) -> String {
    const CONTINUES: [&str; 7] = ["is ", "must ", "contains ", "cannot ", "has ", "are ", "needs "];
    if CONTINUES.iter().any(|start| description.starts_with(start)) {
        format!("{label} {description}")
    } else if description.starts_with(|c: char| c.is_ascii_lowercase()) {
        sentence(description)
    } else {
        format!("{label}: {description}")
    }
}

/// `text` with a capital first letter.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// SEN provision: `(proto value, census code, name)`.
pub const SEN_STATUSES: [(pb::SenProvision, &str, &str); 3] = [
    (pb::SenProvision::NoSen, "N", "No special educational need"),
    (pb::SenProvision::SenSupport, "K", "SEN support"),
    (pb::SenProvision::EhcPlan, "E", "Education, health and care plan"),
];

/// National curriculum year codes, in order.
pub const NC_YEARS: [&str; 18] =
    ["N1", "N2", "R", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "X"];

/// The census code of a status value (`""` when unset).
pub fn status_code(value: i32) -> &'static str {
    SEN_STATUSES.iter().find(|(s, _, _)| *s as i32 == value).map_or("", |(_, code, _)| code)
}

/// The status value of a census code (unspecified when unknown or empty).
pub fn status_value(code: &str) -> i32 {
    SEN_STATUSES.iter().find(|(_, c, _)| c.eq_ignore_ascii_case(code.trim())).map_or(0, |(s, _, _)| *s as i32)
}

/// The status of a value as a tag: "SEN support (K)".
pub fn status_tag(value: i32) -> Markup {
    match SEN_STATUSES.iter().find(|(s, _, _)| *s as i32 == value) {
        Some((pb::SenProvision::EhcPlan, code, name)) => tag(&format!("{name} ({code})"), Tone::Blue),
        Some((pb::SenProvision::SenSupport, code, name)) => tag(&format!("{name} ({code})"), Tone::Green),
        Some((_, code, name)) => tag(&format!("{name} ({code})"), Tone::Grey),
        None => html! { "Not recorded" },
    }
}

/// The type-of-need codes of the reader's authority, as the pupils service
/// lists them (`ListNeedTypes`): the national DfE codes and the council's own.
/// Needs travel as their census code (`"ASD"`); these give them their names.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Needs(pub Vec<pb::NeedType>);

impl Needs {
    /// "Autistic spectrum disorder (ASD)"; the code alone when the list lacks
    /// it; `""` when there is no need.
    pub fn name(&self, code: &str) -> String {
        let code = code.trim();
        if code.is_empty() {
            return String::new();
        }
        match self.0.iter().find(|n| n.code.eq_ignore_ascii_case(code)) {
            Some(need) => format!("{} ({})", sentence(&need.name), need.code),
            None => code.to_owned(),
        }
    }

    /// Select options of the needs, after a first option `none`.
    pub fn options(&self, none: &str) -> Vec<(String, String)> {
        let mut options = vec![(String::new(), none.to_owned())];
        options.extend(self.0.iter().map(|n| (n.code.clone(), format!("{} ({})", sentence(&n.name), n.code))));
        options
    }
}

/// A type-of-need code as typed or chosen: upper case, trimmed (`""` for none).
pub fn need_code(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

/// Select options of the statuses, after a first option `none`.
pub fn status_options(none: &str) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), none.to_owned())];
    options.extend(SEN_STATUSES.iter().map(|(_, code, name)| ((*code).to_owned(), format!("{name} ({code})"))));
    options
}

/// A pupil's name as they use it: preferred where given, else legal.
pub fn pupil_name(pupil: &pb::Pupil) -> String {
    let forename = if pupil.preferred_forename.is_empty() { &pupil.legal_forename } else { &pupil.preferred_forename };
    let surname = if pupil.preferred_surname.is_empty() { &pupil.legal_surname } else { &pupil.preferred_surname };
    format!("{forename} {surname}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_land_on_the_deepest_mapped_input() {
        let mut details = tonic_types::ErrorDetails::new();
        details.add_bad_request_violation("referral.consent.given_on", "is required");
        details.add_bad_request_violation("referral.consent", "parental consent is required");
        details.add_bad_request_violation("referral.graduated_approach.summary", "is required");
        details.add_bad_request_violation("idempotency_key", "is required");
        let status = Status::with_error_details(Code::InvalidArgument, "bad", details);
        let map: FieldMap<'_> = &[
            ("referral.consent", "consent_given_by", "Who gave consent"),
            ("referral.consent.given_on", "consent_given_on", "Date consent was given"),
            ("referral.graduated_approach", "graduated_approach", "What the school has tried"),
        ];
        let errors = field_errors(&status, map, "pupil_id").unwrap();
        let pairs: Vec<(&str, &str)> = errors.iter().map(|e| (e.id.as_str(), e.message.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("consent_given_on", "Date consent was given is required"),
                ("consent_given_by", "Parental consent is required"),
                ("graduated_approach", "What the school has tried is required"),
                ("pupil_id", "idempotency_key: is required"),
            ]
        );
        assert!(field_errors(&Status::not_found("x"), map, "x").is_none());
    }

    #[test]
    fn dates_read_and_show_as_people_write_them() {
        let mut errors = Vec::new();
        let date = date_from("2026-11-24", "d", "Date", &mut errors);
        assert_eq!(date, Some(pb::Date { year: 2026, month: 11, day: 24 }));
        assert_eq!(date_from("", "d", "Date", &mut errors), None);
        assert!(errors.is_empty());
        let typed = Some(pb::Date { year: 2026, month: 3, day: 27 });
        for written in
            ["27/3/2026", "27/03/2026", " 27 3 2026 ", "27-03-2026", "27.3.2026", "27 March 2026", "27 Mar 2026"]
        {
            assert_eq!(date_from(written, "d", "Date", &mut errors), typed, "{written}");
        }
        assert!(errors.is_empty());
        assert_eq!(date_from("3/27/2026", "d", "Date", &mut errors), None, "no 27th month");
        assert_eq!(date_from("31/2/2026", "d", "Date", &mut errors), None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "Date must be a real date, for example 27/3/2026");
        assert_eq!(long_time("2026-11-24T14:05:00Z"), "24 November 2026 at 14:05");
    }

    #[test]
    fn census_codes_round_trip() {
        let needs = Needs(vec![pb::NeedType {
            code: "ASD".into(),
            name: "autistic spectrum disorder".into(),
            ..Default::default()
        }]);
        assert_eq!(needs.name("asd"), "Autistic spectrum disorder (ASD)");
        assert_eq!(needs.name("FASD"), "FASD", "a code the list lacks shows as itself");
        assert_eq!(needs.name(""), "");
        assert_eq!(needs.options("None")[1], ("ASD".to_owned(), "Autistic spectrum disorder (ASD)".to_owned()));
        assert_eq!(need_code(" ds "), "DS");
        assert_eq!(status_value("k"), pb::SenProvision::SenSupport as i32);
        assert_eq!(status_code(pb::SenProvision::EhcPlan as i32), "E");
        assert_ne!(new_key(), new_key());
    }
}
