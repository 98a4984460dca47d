//! The checks run on the return before it is offered: the 2024 schema's types
//! and cardinalities (a file that breaks them is refused by the collection
//! outright) and the DfE's validation rules as far as they could be read (see
//! docs/EXCHANGE.md for which, and which could not). Each failure names the
//! record, the SEN2 item, the rule and what the officer should fix; the file is
//! still produced, so the officer sees the whole list at once.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sen_proto::v1 as pb;

use super::model::{ActivePlan, Assessment, NamedPlan, Person, Request, Sen2};

/// The SEN2 2024 schema's type-of-need codes (`sentype`).
pub const SEN_TYPES: &[&str] = &["SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH"];

/// The oldest a person in the return may be on the census day (plans end at 25).
const OLDEST: i32 = 25;

struct Failures {
    list: Vec<pb::Sen2Failure>,
}

impl Failures {
    fn add(&mut self, person: &Person, request: Option<&Request>, field: &str, rule: &str, message: String) {
        let referral_id = request.and_then(|r| r.referral_id).unwrap_or(0);
        let record = if referral_id != 0 {
            format!("request {referral_id} (pupil {})", person.pupil_id)
        } else {
            format!("person {}", person.pupil_id)
        };
        self.list.push(pb::Sen2Failure {
            record,
            field: field.into(),
            rule: rule.into(),
            message,
            pupil_id: person.pupil_id,
            referral_id,
        });
    }

    fn whole(&mut self, field: &str, rule: &str, message: &str) {
        self.list.push(pb::Sen2Failure {
            record: "return".into(),
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
            ..Default::default()
        });
    }
}

/// A UPN as the schema allows it: a letter, 11 digits, and a digit or a letter
/// (a temporary UPN).
pub fn upn_shaped(upn: &str) -> bool {
    let bytes = upn.as_bytes();
    bytes.len() == 13
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..12].iter().all(u8::is_ascii_digit)
        && bytes[12].is_ascii_alphanumeric()
}

fn digits(value: &str, n: usize) -> bool {
    value.len() == n && value.bytes().all(|b| b.is_ascii_digit())
}

/// Age in whole years on `day`.
fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Every failure of `sen2`, in the order of the file.
pub fn check(sen2: &Sen2) -> Vec<pb::Sen2Failure> {
    let mut f = Failures { list: Vec::new() };
    if !digits(&sen2.la, 3) {
        f.whole("LEA", "LEA format", "the authority's code is not three digits");
    }
    for (item, value, name) in
        [("DMO", &sen2.dmo, "Designated Medical Officer"), ("DCO", &sen2.dco, "Designated Clinical Officer")]
    {
        if !matches!(value.as_str(), "Y" | "N" | "R") {
            f.whole(
                item,
                "required header item",
                &format!("say whether the council has a {name} (Y, N or R): the platform does not hold it"),
            );
        }
    }
    f.whole(
        "PostCode",
        "not held",
        "the platform holds no home postcodes: every person's PostCode is left empty for the council to complete",
    );
    let mut upns: BTreeMap<&str, i64> = BTreeMap::new();
    for person in &sen2.persons {
        check_person(&mut f, person, sen2.reference_date);
        if !person.upn.is_empty()
            && let Some(first) = upns.insert(person.upn.as_str(), person.pupil_id)
        {
            f.add(person, None, "UPN", "UPN unique", format!("the same UPN as pupil {first}: one person, one record"));
        }
    }
    f.list
}

fn check_person(f: &mut Failures, person: &Person, day: NaiveDate) {
    if person.surname.is_empty() && person.forename.is_empty() && person.birth_date.is_none() {
        f.add(
            person,
            None,
            "Person",
            "person known",
            "the pupil's record could not be read (erased, or outside your authority): remove the request or restore the record".into(),
        );
    } else {
        if person.surname.trim().is_empty() {
            f.add(person, None, "Surname", "required", "the surname is missing".into());
        }
        if person.forename.trim().is_empty() {
            f.add(person, None, "Forename", "required", "the forename is missing".into());
        }
        match person.birth_date {
            None => f.add(person, None, "PersonBirthDate", "required", "the date of birth is missing".into()),
            Some(birth) if birth > day => f.add(
                person,
                None,
                "PersonBirthDate",
                "not after the census day",
                format!("born {birth}, after the census day {day}"),
            ),
            Some(birth) if age_on(birth, day) > OLDEST => f.add(
                person,
                None,
                "PersonBirthDate",
                "aged 0 to 25",
                format!(
                    "aged {} on the census day: plans end at 25; check the date of birth or cease the plan",
                    age_on(birth, day)
                ),
            ),
            Some(_) => {}
        }
        if person.upn.is_empty() {
            f.add(
                person,
                None,
                "UPN",
                "UPN or UPNunknown",
                "no UPN: give the pupil's UPN (the platform holds no UPNunknown reason)".into(),
            );
        } else if !upn_shaped(&person.upn) {
            f.add(
                person,
                None,
                "UPN",
                "UPN format",
                format!("'{}' is not a UPN (a letter, 11 digits, a digit or letter)", person.upn),
            );
        }
    }
    for request in &person.requests {
        check_request(f, person, request, day);
    }
}

fn check_request(f: &mut Failures, person: &Person, request: &Request, day: NaiveDate) {
    let r = Some(request);
    if request.outcome != "H" {
        match request.received {
            None => f.add(person, r, "ReceivedDate", "required", "the day the request was received is missing".into()),
            Some(received) if received > day => {
                f.add(person, r, "ReceivedDate", "not after the census day", format!("{received} is after {day}"))
            }
            Some(_) => {}
        }
    }
    let year_start = NaiveDate::from_ymd_opt(day.year() - 1, 1, 1);
    let historical_start = request.assessment.as_ref().and_then(|a| a.plan.as_ref()).map(|p| p.start);
    if request.outcome == "H"
        && let Some(start) = historical_start.filter(|start| year_start.is_some_and(|first| *start >= first))
    {
        f.add(
            person,
            r,
            "RequestOutcome",
            "historical only before the year",
            format!("the plan issued on {start} has no EHC needs assessment request on the platform: record the request so the return can describe it"),
        );
    }
    if matches!(request.outcome, "Y" | "N") && request.outcome_date.is_none() {
        f.add(
            person,
            r,
            "RequestOutcomeDate",
            "required with outcome Y or N",
            "the day of the decision whether to assess is missing".into(),
        );
    }
    if let (Some(received), Some(decided)) = (request.received, request.outcome_date)
        && decided < received
    {
        f.add(
            person,
            r,
            "RequestOutcomeDate",
            "not before ReceivedDate",
            format!("decided {decided}, before the request was received on {received}"),
        );
    }
    if let Some(assessment) = &request.assessment {
        check_assessment(f, person, request, assessment);
    }
    if let Some(active) = &request.active {
        check_active(f, person, request, active);
    }
}

fn check_assessment(f: &mut Failures, person: &Person, request: &Request, assessment: &Assessment) {
    let r = Some(request);
    if matches!(assessment.outcome, "Y" | "N") && assessment.outcome_date.is_none() {
        f.add(
            person,
            r,
            "AssessmentOutcomeDate",
            "required with outcome Y or N",
            "the day of the decision whether to issue a plan is missing".into(),
        );
    }
    if let (Some(assessed), Some(decided)) = (request.outcome_date, assessment.outcome_date)
        && decided < assessed
    {
        f.add(
            person,
            r,
            "AssessmentOutcomeDate",
            "not before RequestOutcomeDate",
            format!("decided {decided}, before the decision to assess on {assessed}"),
        );
    }
    if let Some(plan) = &assessment.plan {
        if request.outcome != "H" && assessment.week20.is_none() {
            f.add(
                person,
                r,
                "Week20",
                "required with a plan issued",
                "whether the plan was issued within 20 weeks is unknown".into(),
            );
        }
        check_plan(f, person, request, plan);
    }
}

fn check_plan(f: &mut Failures, person: &Person, request: &Request, plan: &NamedPlan) {
    let r = Some(request);
    if let Some(received) = request.received.filter(|received| plan.start < *received) {
        f.add(
            person,
            r,
            "StartDate",
            "not before ReceivedDate",
            format!("issued {}, before the request was received on {received}", plan.start),
        );
    }
    if !digits(&plan.urn, 6) {
        f.add(
            person,
            r,
            "PlanDetail/URN",
            "URN format",
            format!("the school named '{}' is not a six-digit URN", plan.urn),
        );
    }
    if let Some(ceased) = plan.cease_date {
        if ceased < plan.start {
            f.add(
                person,
                r,
                "CeaseDate",
                "not before StartDate",
                format!("ceased {ceased}, before it was issued on {}", plan.start),
            );
        }
        if plan.cease_reason.is_none_or(|reason| !(1..=9).contains(&reason)) {
            f.add(
                person,
                r,
                "CeaseReason",
                "required with CeaseDate",
                "the plan ceased without a reason (1 to 9): record it with the review that ceased it".into(),
            );
        }
    }
}

fn check_active(f: &mut Failures, person: &Person, request: &Request, active: &ActivePlan) {
    let r = Some(request);
    if !digits(&active.urn, 6) {
        f.add(
            person,
            r,
            "PlacementDetail/URN",
            "URN format",
            format!("the placement '{}' is not a six-digit URN", active.urn),
        );
    }
    if active.entry_date.is_none() {
        f.add(
            person,
            r,
            "EntryDate",
            "required",
            "the day the pupil started at the placement is not in the register's history".into(),
        );
    }
    if active.needs.is_empty() {
        f.add(person, r, "SENneed", "at least one", "no type of need is recorded for a pupil with a plan".into());
    }
    for code in &active.needs {
        if !SEN_TYPES.contains(&code.as_str()) {
            f.add(
                person,
                r,
                "SENtype",
                "SEN2 type of need",
                format!("'{code}' is not a type of need the SEN2 2024 schema lists"),
            );
        }
    }
}
