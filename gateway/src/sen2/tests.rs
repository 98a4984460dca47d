//! The return's composition, rules and file, without services: the XML's
//! elements come in the 2024 schema's order and number (checked against the
//! schema's sequences, written out below from SEN2_schema_2024.xsd), and the
//! figures count as the statutory clock report does.

use chrono::{NaiveDate, TimeZone, Utc};
use sen_platform::dates::to_proto;
use sen_proto::v1 as pb;

use super::model::{self, EHC_KIND};
use super::{rules, xml};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn p(date: NaiveDate) -> Option<pb::Date> {
    Some(to_proto(date))
}

/// An EHC needs assessment request for `pupil`, received on `received`.
fn referral(id: i64, pupil: i64, received: NaiveDate) -> pb::Referral {
    pb::Referral {
        id,
        body: Some(pb::ReferralBody { pupil_id: pupil, kind: EHC_KIND.into(), ..Default::default() }),
        status: pb::ReferralStatus::InProgress as i32,
        clock: Some(pb::StatutoryClock {
            received_on: p(received),
            final_plan_due: p(received + chrono::Duration::weeks(20)),
            requester: "parent".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Assessed 5 weeks in, decided to issue at 14 weeks, issued after `weeks`.
fn issued(mut r: pb::Referral, weeks: i64) -> pb::Referral {
    let clock = r.clock.as_mut().unwrap();
    let received = sen_platform::dates::from_proto(clock.received_on.as_ref().unwrap()).unwrap();
    clock.assessment_decision = "assess".into();
    clock.assessment_decision_on = p(received + chrono::Duration::weeks(5));
    clock.plan_decision = "issue".into();
    clock.plan_decision_on = p(received + chrono::Duration::weeks(14));
    clock.final_plan_issued_on = p(received + chrono::Duration::weeks(weeks));
    r
}

fn person(id: i64, upn: &str) -> pb::Sen2Person {
    pb::Sen2Person {
        pupil_id: id,
        upn: upn.into(),
        legal_forename: "Ola".into(),
        legal_surname: "Reed".into(),
        date_of_birth: p(d(2015, 3, 4)),
        school_urn: "100001".into(),
        school_entry_on: p(d(2022, 9, 1)),
        primary_need: "ASD".into(),
        secondary_need: "SLCN".into(),
        ..Default::default()
    }
}

fn plan(issued: NaiveDate) -> pb::Sen2Plan {
    pb::Sen2Plan {
        issued_on: p(issued),
        last_review_on: p(d(2026, 10, 2)),
        last_review_outcome: "M".into(),
        ..Default::default()
    }
}

const UPN: &str = "A886200112001";

// ---- A small reader of the file, enough for the schema check. ----

#[derive(Debug)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

fn parse(xml: &str) -> Element {
    let body = xml.trim_start().strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").expect("declaration");
    let mut rest = body.trim_start();
    let (root, after) = element(&mut rest);
    assert!(after.trim().is_empty(), "one root element");
    root
}

fn element<'a>(input: &mut &'a str) -> (Element, &'a str) {
    let s = input.trim_start();
    let s = s.strip_prefix('<').expect("an element");
    let end = s.find('>').expect("tag ends");
    let name = s[..end].to_owned();
    assert!(!name.contains(' ') && !name.starts_with('/'), "no attributes: {name}");
    let mut rest = &s[end + 1..];
    let mut children = Vec::new();
    let mut text = String::new();
    loop {
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix(&format!("</{name}>")) {
            return (Element { name, text, children }, after);
        }
        if trimmed.starts_with('<') {
            let mut cursor = trimmed;
            let (child, after) = element(&mut cursor);
            children.push(child);
            rest = after;
        } else {
            let stop = rest.find('<').expect("text ends");
            text.push_str(&rest[..stop]);
            rest = &rest[stop..];
        }
    }
}

/// The schema's sequence for an element: (child, minOccurs, maxOccurs).
fn sequence(name: &str) -> Option<Vec<(&'static str, usize, usize)>> {
    const MANY: usize = usize::MAX;
    Some(match name {
        "Message" => vec![("Header", 1, 1), ("Persons", 1, 1)],
        "Header" => vec![("CollectionDetails", 1, 1), ("Source", 1, 1)],
        "CollectionDetails" => vec![("Collection", 0, 1), ("Year", 0, 1), ("ReferenceDate", 0, 1)],
        "Source" => vec![
            ("SourceLevel", 0, 1),
            ("LEA", 1, 1),
            ("SoftwareCode", 0, 1),
            ("Release", 0, 1),
            ("SerialNo", 0, 1),
            ("DateTime", 0, 1),
            ("DMO", 1, 1),
            ("DCO", 1, 1),
        ],
        "Persons" => vec![("Person", 1, MANY)],
        "Person" => vec![
            ("Surname", 1, 1),
            ("Forename", 1, 1),
            ("PersonBirthDate", 1, 1),
            ("Sex", 1, 1),
            ("Ethnicity", 1, 1),
            ("PostCode", 1, 1),
            ("UPN", 0, 1),
            ("UniqueLearnerNumber", 0, 1),
            ("UPNunknown", 0, 1),
            ("Requests", 1, MANY),
        ],
        "Requests" => vec![
            ("ReceivedDate", 0, 1),
            ("RYA", 0, 1),
            ("RequestOutcomeDate", 0, 1),
            ("RequestOutcome", 1, 1),
            ("RequestMediation", 0, 1),
            ("RequestTribunal", 0, 1),
            ("Exported", 0, 1),
            ("Assessment", 0, 1),
            ("ActivePlans", 0, 1),
        ],
        "Assessment" => vec![
            ("AssessmentOutcome", 1, 1),
            ("AssessmentOutcomeDate", 0, 1),
            ("AssessmentMediation", 0, 1),
            ("AssessmentTribunal", 0, 1),
            ("OtherMediation", 0, 1),
            ("OtherTribunal", 0, 1),
            ("Week20", 0, 1),
            ("NamedPlan", 0, 1),
        ],
        "NamedPlan" => vec![
            ("StartDate", 1, 1),
            ("PlanDetail", 1, 2),
            ("PlanRes", 0, 1),
            ("PlanWBP", 0, 1),
            ("PB", 0, 1),
            ("OA", 0, 1),
            ("DP", 0, 1),
            ("CeaseDate", 0, 1),
            ("CeaseReason", 0, 1),
        ],
        // SENSetting is minOccurs 1 in the schema copy, but the specification
        // gives it only for a placement without a URN or UKPRN: see docs/EXCHANGE.md.
        "PlanDetail" => vec![
            ("URN", 0, 1),
            ("UKPRN", 0, 1),
            ("SENSetting", 0, 1),
            ("SENSettingOther", 0, 1),
            ("PlacementRank", 1, 1),
            ("SENunitIndicator", 1, 1),
            ("ResourcedProvisionIndicator", 1, 1),
        ],
        "ActivePlans" => vec![
            ("TransferLA", 0, 1),
            ("PlacementDetail", 1, 2),
            ("SENneed", 1, 2),
            ("ReviewMeeting", 0, 1),
            ("ReviewOutcome", 0, 1),
            ("LastReview", 0, 1),
        ],
        "PlacementDetail" => vec![
            ("URN", 0, 1),
            ("UKPRN", 0, 1),
            ("SENSetting", 0, 1),
            ("SENSettingOther", 0, 1),
            ("PlacementRank", 1, 1),
            ("EntryDate", 1, 1),
            ("LeavingDate", 0, 1),
            ("SENunitIndicator", 1, 1),
            ("ResourcedProvisionIndicator", 1, 1),
            ("Res", 0, 1),
            ("WBP", 0, 1),
        ],
        "SENneed" => vec![("SENtype", 1, 1), ("SENtypeRank", 1, 1)],
        _ => return None,
    })
}

/// Every element's children follow its schema sequence; leaves have none.
fn conforms(element: &Element, problems: &mut Vec<String>) {
    let Some(seq) = sequence(&element.name) else {
        if !element.children.is_empty() {
            problems.push(format!("{} is a leaf but has children", element.name));
        }
        return;
    };
    let mut children = element.children.iter().peekable();
    for (name, min, max) in seq {
        let mut count = 0;
        while children.peek().is_some_and(|c| c.name == name) {
            let child = children.next().unwrap();
            conforms(child, problems);
            count += 1;
        }
        if count < min || count > max {
            problems.push(format!("{} has {count} {name} (allowed {min} to {max})", element.name));
        }
    }
    for extra in children {
        problems.push(format!("{} has {} out of the schema's order", element.name, extra.name));
    }
}

fn find<'a>(element: &'a Element, path: &[&str]) -> Vec<&'a Element> {
    match path.split_first() {
        None => vec![element],
        Some((first, rest)) => {
            element.children.iter().filter(|c| c.name == *first).flat_map(|c| find(c, rest)).collect()
        }
    }
}

/// A year with every shape: issued in time, late, with an exception, not
/// assessed, withdrawn, open at the census, a plan from before the platform
/// and a plan ceased in the year.
fn a_year() -> (Vec<pb::Referral>, Vec<pb::Sen2Person>) {
    let mut late_with_exception = issued(referral(3, 3, d(2026, 1, 12)), 24);
    late_with_exception.clock.as_mut().unwrap().exception = "family_unavailable".into();
    let mut not_assessed = referral(4, 4, d(2026, 3, 2));
    let clock = not_assessed.clock.as_mut().unwrap();
    clock.assessment_decision = "not_assess".into();
    clock.assessment_decision_on = p(d(2026, 4, 10));
    let mut withdrawn = referral(5, 5, d(2026, 5, 4));
    withdrawn.status = pb::ReferralStatus::Withdrawn as i32;
    let referrals = vec![
        issued(referral(1, 1, d(2026, 2, 2)), 19),
        issued(referral(2, 2, d(2026, 3, 9)), 23),
        late_with_exception,
        not_assessed,
        withdrawn,
        referral(6, 6, d(2026, 12, 7)),
        // All its work done in 2024: out of the 2026 return.
        issued(referral(7, 7, d(2024, 1, 8)), 18),
        // Received after the census day: not yet.
        referral(8, 8, d(2027, 1, 25)),
    ];
    let mut persons: Vec<pb::Sen2Person> = (1..=8).map(|id| person(id, &format!("A8862001120{id:02}"))).collect();
    persons[0].plan = Some(plan(d(2026, 2, 2) + chrono::Duration::weeks(19)));
    persons[1].plan = Some(plan(d(2026, 3, 9) + chrono::Duration::weeks(23)));
    let mut historical = person(9, "A886200112009");
    historical.plan = Some(plan(d(2019, 5, 1)));
    let mut ceased = person(10, "A886200112010");
    ceased.plan = Some(pb::Sen2Plan { ceased_on: p(d(2026, 7, 20)), cease_reason: 5, ..plan(d(2018, 6, 1)) });
    persons.push(historical);
    persons.push(ceased);
    (referrals, persons)
}

#[test]
fn the_census_day_is_the_third_thursday_of_the_january_after_the_year() {
    assert_eq!(model::reference_date(2026), Some(d(2027, 1, 21)));
    assert_eq!(model::reference_date(2025), Some(d(2026, 1, 15)));
}

#[test]
fn the_file_follows_the_2024_schema_element_by_element() {
    let (referrals, persons) = a_year();
    let sen2 = model::compose(2026, "886", ("Y", "N"), &referrals, &persons).expect("a year");
    let file = xml::render(&sen2, Utc.with_ymd_and_hms(2027, 1, 22, 9, 30, 0).unwrap());
    let root = parse(&file);
    assert_eq!(root.name, "Message");
    let mut problems = Vec::new();
    conforms(&root, &mut problems);
    assert!(problems.is_empty(), "{problems:#?}\n{file}");
    assert_eq!(find(&root, &["Header", "CollectionDetails", "ReferenceDate"])[0].text, "2027-01-21");
    assert_eq!(find(&root, &["Header", "Source", "LEA"])[0].text, "886");
    // Persons 7 and 8 are out; 9 (historical plan) and 10 (ceased in the year) are in.
    let upns: Vec<&str> = find(&root, &["Persons", "Person", "UPN"]).iter().map(|e| e.text.as_str()).collect();
    assert_eq!(upns.len(), 8, "{upns:?}");
    assert!(!upns.contains(&"A886200112007") && !upns.contains(&"A886200112008"), "{upns:?}");
    let outcomes: Vec<&str> =
        find(&root, &["Persons", "Person", "Requests", "RequestOutcome"]).iter().map(|e| e.text.as_str()).collect();
    assert_eq!(outcomes, ["Y", "Y", "Y", "N", "W", "A", "H", "H"]);
    let week20: Vec<&str> = find(&root, &["Persons", "Person", "Requests", "Assessment", "Week20"])
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(week20, ["true", "false", "false"]);
    let ceased = find(&root, &["Persons", "Person", "Requests", "Assessment", "NamedPlan", "CeaseReason"]);
    assert_eq!(ceased.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(), ["5"]);
    // Active on the census day: the two issued in 2026 and the historical one.
    assert_eq!(find(&root, &["Persons", "Person", "Requests", "ActivePlans"]).len(), 3);
    let needs = find(&root, &["Persons", "Person", "Requests", "ActivePlans", "SENneed", "SENtype"]);
    assert_eq!(needs.iter().map(|e| e.text.as_str()).collect::<Vec<_>>()[..2], ["ASD", "SLCN"]);
}

#[test]
fn the_figures_count_plans_and_timeliness_as_the_clock_report_does() {
    let (referrals, persons) = a_year();
    let sen2 = model::compose(2026, "886", ("Y", "N"), &referrals, &persons).expect("a year");
    let f = model::figures(&sen2);
    assert_eq!(f.requests_received, 6, "received in 2026: 1 to 6");
    assert_eq!(f.plans_issued_including_exceptions, 3);
    assert_eq!(f.plans_issued, 2, "the exception case left out");
    assert_eq!(f.issued_within_20_weeks, 1);
    assert_eq!(f.percent_within_20_weeks, Some(50.0));
    assert_eq!(f.percent_within_20_weeks_including_exceptions, Some(33.3));
    assert_eq!(f.active_plans, 3);
    assert_eq!(f.plans_ceased, 1);
    assert_eq!(f.persons, 8);
}

#[test]
fn facts_dated_after_the_census_day_have_not_happened_yet() {
    // Assessed on 1 February 2027: on the census day the decision is still to come.
    let mut r = referral(1, 1, d(2026, 12, 1));
    let clock = r.clock.as_mut().unwrap();
    clock.assessment_decision = "assess".into();
    clock.assessment_decision_on = p(d(2027, 2, 1));
    let sen2 = model::compose(2026, "886", ("Y", "N"), &[r], &[person(1, UPN)]).unwrap();
    let request = &sen2.persons[0].requests[0];
    assert_eq!((request.outcome, request.outcome_date, request.assessment.is_some()), ("A", None, false));
}

#[test]
fn each_failing_record_is_listed_with_its_item_and_rule() {
    let mut bad = person(1, "not-a-upn");
    bad.primary_need = "NSA".into();
    bad.secondary_need = String::new();
    bad.school_entry_on = None;
    bad.plan = Some(plan(d(2020, 1, 6)));
    let mut ceased = person(2, UPN);
    ceased.plan = Some(pb::Sen2Plan { ceased_on: p(d(2026, 7, 20)), ..plan(d(2018, 6, 1)) });
    let mut twin = person(3, UPN);
    twin.plan = Some(plan(d(2021, 1, 6)));
    // A plan issued in the year with no request on the platform.
    let mut unrecorded = person(4, "A886200112004");
    unrecorded.plan = Some(plan(d(2026, 5, 11)));
    // A request whose pupil the pupils service did not give.
    let orphan = referral(40, 44, d(2026, 6, 1));
    let sen2 = model::compose(2026, "886", ("", "N"), &[orphan], &[bad, ceased, twin, unrecorded]).unwrap();
    let failures = rules::check(&sen2);
    let has = |record: &str, field: &str| failures.iter().any(|f| f.record == record && f.field == field);
    assert!(has("return", "DMO") && !has("return", "DCO"), "{failures:#?}");
    assert!(has("person 1", "UPN"), "{failures:#?}");
    assert!(has("person 1", "SENtype"), "NSA is not an SEN2 type of need: {failures:#?}");
    assert!(has("person 1", "EntryDate"), "{failures:#?}");
    assert!(has("person 2", "CeaseReason"), "{failures:#?}");
    assert!(has("person 3", "UPN"), "a UPN twice: {failures:#?}");
    assert!(has("person 4", "RequestOutcome"), "a historical request in the year: {failures:#?}");
    assert!(has("person 44", "Person"), "a request whose pupil could not be read: {failures:#?}");
    assert!(failures.iter().all(|f| !f.rule.is_empty() && !f.message.is_empty()));
    // A clean person fails nothing.
    let mut good = person(5, "A886200112005");
    good.plan = Some(plan(d(2021, 1, 6)));
    let clean = model::compose(2026, "886", ("Y", "N"), &[], &[good]).unwrap();
    let left: Vec<_> = rules::check(&clean).into_iter().filter(|f| f.record != "return").collect();
    assert!(left.is_empty(), "{left:#?}");
}

#[test]
fn names_are_escaped_and_control_characters_left_out() {
    let mut odd = person(1, UPN);
    odd.legal_surname = "O'Brien & <Sons>".into();
    odd.legal_forename = "Zo\u{1}ë".into();
    odd.plan = Some(plan(d(2021, 1, 6)));
    let sen2 = model::compose(2026, "886", ("Y", "N"), &[], &[odd]).unwrap();
    let file = xml::render(&sen2, Utc.with_ymd_and_hms(2027, 1, 22, 9, 30, 0).unwrap());
    assert!(file.contains("<Surname>O&apos;Brien &amp; &lt;Sons&gt;</Surname>"), "{file}");
    assert!(file.contains("<Forename>Zoë</Forename>"), "{file}");
    let mut problems = Vec::new();
    conforms(&parse(&file), &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}
