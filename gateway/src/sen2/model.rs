//! The SEN2 return as data: who is in it and what each of their requests,
//! assessments and plans says, composed from the referrals service's EHC needs
//! assessment requests and the pupils service's persons (plans, reviews,
//! appeals). Pure: no I/O, judged on the census day.
//!
//! What is in scope (the DfE's technical specification, "Summary of cases to be
//! included"): plans in force on the census day, plans ceased in the calendar
//! year, requests whose work ended in the year (not assessed, not issued,
//! issued, withdrawn), and work still under way on the census day. A fact
//! dated after the census day has not happened yet, as far as the return is
//! concerned.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Weekday};
use sen_platform::dates::from_proto_opt;
use sen_proto::v1 as pb;

/// The kind of referral that is an EHC needs assessment request.
pub const EHC_KIND: &str = "ehc_needs_assessment";

/// The census day of the January after `year`: the third Thursday of January
/// (the school census day; 21 January 2027 for the 2026 return).
pub fn reference_date(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year.checked_add(1)?, 1, Weekday::Thu, 3)
}

/// The year's first and last days.
pub fn calendar_year(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((NaiveDate::from_ymd_opt(year, 1, 1)?, NaiveDate::from_ymd_opt(year, 12, 31)?))
}

/// A yes/no item.
pub type Flag = Option<bool>;

/// The return.
#[derive(Clone, Debug, PartialEq)]
pub struct Sen2 {
    pub year: i32,
    pub reference_date: NaiveDate,
    /// The authority's three-digit code.
    pub la: String,
    /// Designated Medical / Clinical Officer codes, as the officer gave them.
    pub dmo: String,
    pub dco: String,
    pub persons: Vec<Person>,
}

/// Module 1: a child or young person.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub pupil_id: i64,
    pub surname: String,
    pub forename: String,
    pub birth_date: Option<NaiveDate>,
    pub upn: String,
    pub requests: Vec<Request>,
}

/// Module 2: a request for an EHC needs assessment (or, with outcome `H`, the
/// historical request behind a plan made before the platform's records).
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The platform's referral, when there is one.
    pub referral_id: Option<i64>,
    pub received: Option<NaiveDate>,
    /// Made by the young person themselves.
    pub rya: Flag,
    pub outcome_date: Option<NaiveDate>,
    /// Y, N, A, W or H.
    pub outcome: &'static str,
    pub mediation: Flag,
    pub tribunal: Flag,
    pub assessment: Option<Assessment>,
    pub active: Option<ActivePlan>,
}

/// Module 3: the EHC needs assessment.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Y, N, A, W or H.
    pub outcome: &'static str,
    pub outcome_date: Option<NaiveDate>,
    pub mediation: Flag,
    pub tribunal: Flag,
    pub other_mediation: Flag,
    pub other_tribunal: Flag,
    /// The final plan was issued within 20 weeks of the request.
    pub week20: Flag,
    pub plan: Option<NamedPlan>,
    /// An exception to the 20-week limit applied (reg. 13(3)): not an item of
    /// the file, counted in the figures.
    pub exception: bool,
}

/// The plan the assessment led to.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedPlan {
    pub start: NaiveDate,
    /// The school named (the school the pupil is on roll at).
    pub urn: String,
    pub cease_date: Option<NaiveDate>,
    /// 1 to 9; `None` when ceased without a recorded reason.
    pub cease_reason: Option<u32>,
}

/// Module 4: a plan in force on the census day.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivePlan {
    pub urn: String,
    pub entry_date: Option<NaiveDate>,
    /// Type-of-need codes, primary first (at most two).
    pub needs: Vec<String>,
    pub review_meeting: Option<NaiveDate>,
    /// A, C or M.
    pub review_outcome: Option<&'static str>,
}

/// A date from the wire, if set, valid, and no later than `by`.
fn by(date: Option<&pb::Date>, by: NaiveDate) -> Option<NaiveDate> {
    from_proto_opt(date).ok().flatten().filter(|d| *d <= by)
}

fn flag(value: bool) -> Flag {
    Some(value)
}

/// Whether a referral status ends a request that has no statutory outcome.
fn ended_without_outcome(status: i32) -> bool {
    matches!(
        pb::ReferralStatus::try_from(status),
        Ok(pb::ReferralStatus::Declined | pb::ReferralStatus::Withdrawn | pb::ReferralStatus::Closed)
    )
}

/// A pupil's appeals on one ground family, from `since` to the census day:
/// (mediation asked for, registered with the Tribunal).
fn disputes(
    person: Option<&pb::Sen2Person>,
    grounds: &[&str],
    since: Option<NaiveDate>,
    ref_day: NaiveDate,
) -> (bool, bool) {
    let mut found = (false, false);
    for appeal in person.map(|p| p.appeals.as_slice()).unwrap_or_default() {
        let decided = by(appeal.decision_on.as_ref(), ref_day);
        if !grounds.contains(&appeal.ground.as_str()) || decided.is_none() || since.is_some_and(|s| decided < Some(s)) {
            continue;
        }
        found.0 |= appeal.mediation && by(appeal.mediation_requested_on.as_ref(), ref_day).is_some();
        found.1 |= appeal.tribunal && by(appeal.registered_on.as_ref(), ref_day).is_some();
    }
    found
}

/// The last day of the request's work known by the census day.
fn last_event(clock: &pb::StatutoryClock, ref_day: NaiveDate) -> Option<NaiveDate> {
    [&clock.received_on, &clock.assessment_decision_on, &clock.plan_decision_on, &clock.final_plan_issued_on]
        .into_iter()
        .filter_map(|d| by(d.as_ref(), ref_day))
        .max()
}

/// The request a referral makes in the return, or `None` when it is out of
/// scope (received after the census day, or all its work done before the year).
fn request(
    referral: &pb::Referral,
    person: Option<&pb::Sen2Person>,
    start: NaiveDate,
    ref_day: NaiveDate,
) -> Option<Request> {
    let clock = referral.clock.as_ref()?;
    let received = by(clock.received_on.as_ref(), ref_day)?;
    let assessed_on = by(clock.assessment_decision_on.as_ref(), ref_day);
    let planned_on = by(clock.plan_decision_on.as_ref(), ref_day);
    let issued_on = by(clock.final_plan_issued_on.as_ref(), ref_day);
    let ended = ended_without_outcome(referral.status);
    let request_outcome = match (assessed_on.map(|_| clock.assessment_decision.as_str()), ended) {
        (Some("assess"), _) => "Y",
        (Some(_), _) => "N",
        (None, true) => "W",
        (None, false) => "A",
    };
    let open = match request_outcome {
        "A" => true,
        "Y" => issued_on.is_none() && !(planned_on.is_some() && clock.plan_decision != "issue") && !ended,
        _ => false,
    };
    let plan_ceased_in_year = person
        .and_then(|p| p.plan.as_ref())
        .and_then(|plan| by(plan.ceased_on.as_ref(), ref_day))
        .is_some_and(|d| d >= start);
    let worked_in_year = last_event(clock, ref_day).is_some_and(|d| d >= start);
    if !(open || worked_in_year || (issued_on.is_some() && plan_ceased_in_year)) {
        return None;
    }
    let (mediation, tribunal) = disputes(person, &["refusal_to_assess"], Some(received), ref_day);
    let assessment = (request_outcome == "Y").then(|| {
        let outcome = match (planned_on.map(|_| clock.plan_decision.as_str()), ended) {
            (Some("issue"), _) => "Y",
            (Some(_), _) => "N",
            (None, true) => "W",
            (None, false) => "A",
        };
        let (mediation, tribunal) = disputes(person, &["refusal_to_issue"], Some(received), ref_day);
        let (other_mediation, other_tribunal) =
            disputes(person, &["final_plan", "amended_plan", "cessation"], Some(received), ref_day);
        let due = from_proto_opt(clock.final_plan_due.as_ref()).ok().flatten();
        let plan = issued_on.map(|start| named_plan(start, person, ref_day));
        Assessment {
            outcome,
            outcome_date: planned_on,
            mediation: flag(mediation),
            tribunal: flag(tribunal),
            other_mediation: flag(other_mediation),
            other_tribunal: flag(other_tribunal),
            week20: issued_on.and_then(|on| due.map(|due| on <= due)),
            plan,
            exception: !clock.exception.is_empty(),
        }
    });
    Some(Request {
        referral_id: Some(referral.id),
        received: Some(received),
        rya: flag(clock.requester == "young_person"),
        outcome_date: assessed_on,
        outcome: request_outcome,
        mediation: flag(mediation),
        tribunal: flag(tribunal),
        assessment,
        active: None,
    })
}

/// Whether a request is in the return whatever its pupil's plan says.
pub fn in_scope(referral: &pb::Referral, start: NaiveDate, ref_day: NaiveDate) -> bool {
    referral.body.as_ref().is_some_and(|b| b.kind == EHC_KIND) && request(referral, None, start, ref_day).is_some()
}

/// The plan issued on `start`: named for the pupil's school, ceased as the
/// pupils service says when that plan is the one it holds.
fn named_plan(start: NaiveDate, person: Option<&pb::Sen2Person>, ref_day: NaiveDate) -> NamedPlan {
    let held = person.and_then(|p| p.plan.as_ref());
    let same = held.filter(|plan| from_proto_opt(plan.issued_on.as_ref()).ok().flatten() == Some(start));
    let cease_date = same.and_then(|plan| by(plan.ceased_on.as_ref(), ref_day));
    NamedPlan {
        start,
        urn: person.map(|p| p.school_urn.clone()).unwrap_or_default(),
        cease_date,
        cease_reason: cease_date.and(same.map(|plan| plan.cease_reason).filter(|r| *r != 0)),
    }
}

/// The pupil's plan in force on the census day, as module 4 has it.
fn active_plan(person: &pb::Sen2Person, ref_day: NaiveDate) -> Option<ActivePlan> {
    let plan = person.plan.as_ref()?;
    by(plan.issued_on.as_ref(), ref_day)?;
    if by(plan.ceased_on.as_ref(), ref_day).is_some() {
        return None;
    }
    let needs =
        [&person.primary_need, &person.secondary_need].into_iter().filter(|code| !code.is_empty()).cloned().collect();
    let review_meeting = by(plan.last_review_on.as_ref(), ref_day);
    let review_outcome = match plan.last_review_outcome.as_str() {
        "A" => Some("A"),
        "C" => Some("C"),
        "M" => Some("M"),
        _ => None,
    };
    Some(ActivePlan {
        urn: person.school_urn.clone(),
        entry_date: by(person.school_entry_on.as_ref(), ref_day),
        needs,
        review_meeting,
        review_outcome: review_meeting.and(review_outcome),
    })
}

/// The return for `year` from every EHC needs assessment request of the
/// authority and the persons the pupils service gave.
pub fn compose(
    year: i32,
    la: &str,
    (dmo, dco): (&str, &str),
    referrals: &[pb::Referral],
    persons: &[pb::Sen2Person],
) -> Option<Sen2> {
    let (start, _) = calendar_year(year)?;
    let ref_day = reference_date(year)?;
    let by_pupil: BTreeMap<i64, &pb::Sen2Person> = persons.iter().map(|p| (p.pupil_id, p)).collect();
    let mut requests: BTreeMap<i64, Vec<Request>> = BTreeMap::new();
    let mut ordered: Vec<&pb::Referral> =
        referrals.iter().filter(|r| r.body.as_ref().is_some_and(|b| b.kind == EHC_KIND) && r.clock.is_some()).collect();
    ordered.sort_by_key(|r| (r.clock.as_ref().and_then(|c| by(c.received_on.as_ref(), NaiveDate::MAX)), r.id));
    for referral in ordered {
        let pupil = referral.body.as_ref().map_or(0, |b| b.pupil_id);
        if let Some(request) = request(referral, by_pupil.get(&pupil).copied(), start, ref_day) {
            requests.entry(pupil).or_default().push(request);
        }
    }
    let mut out = Vec::new();
    for person in persons {
        let mut own = requests.remove(&person.pupil_id).unwrap_or_default();
        let plan_start = person.plan.as_ref().and_then(|p| by(p.issued_on.as_ref(), ref_day));
        let ceased_in_year =
            person.plan.as_ref().and_then(|p| by(p.ceased_on.as_ref(), ref_day)).is_some_and(|d| d >= start);
        let active = active_plan(person, ref_day);
        if let Some(plan_start) = plan_start.filter(|_| active.is_some() || ceased_in_year) {
            // The request whose final plan is the plan held carries it; a plan
            // made before the platform's records has a historical request.
            let carrier = own.iter().position(|r| {
                r.assessment.as_ref().and_then(|a| a.plan.as_ref()).is_some_and(|p| p.start == plan_start)
            });
            let index = match carrier {
                Some(index) => index,
                None => {
                    own.push(historical(plan_start, person, ref_day));
                    own.len() - 1
                }
            };
            if let Some(request) = own.get_mut(index) {
                request.active = active;
            }
        }
        if own.is_empty() {
            continue;
        }
        out.push(Person {
            pupil_id: person.pupil_id,
            surname: person.legal_surname.clone(),
            forename: person.legal_forename.clone(),
            birth_date: from_proto_opt(person.date_of_birth.as_ref()).ok().flatten(),
            upn: person.upn.clone(),
            requests: own,
        });
    }
    // Requests of pupils the pupils service did not give (erased, or outside
    // the caller's reach) cannot name their person: listed as such by the rules.
    for (pupil_id, own) in requests {
        out.push(Person {
            pupil_id,
            surname: String::new(),
            forename: String::new(),
            birth_date: None,
            upn: String::new(),
            requests: own,
        });
    }
    out.sort_by_key(|p| p.pupil_id);
    Some(Sen2 {
        year,
        reference_date: ref_day,
        la: la.to_owned(),
        dmo: dmo.to_owned(),
        dco: dco.to_owned(),
        persons: out,
    })
}

/// The historical request (outcome H) behind a plan made before the platform's records.
fn historical(start: NaiveDate, person: &pb::Sen2Person, ref_day: NaiveDate) -> Request {
    let plan = named_plan(start, Some(person), ref_day);
    let (other_mediation, other_tribunal) =
        disputes(Some(person), &["final_plan", "amended_plan", "cessation"], Some(start), ref_day);
    Request {
        referral_id: None,
        received: None,
        rya: None,
        outcome_date: None,
        outcome: "H",
        mediation: None,
        tribunal: None,
        assessment: Some(Assessment {
            outcome: "H",
            outcome_date: None,
            mediation: None,
            tribunal: None,
            other_mediation: flag(other_mediation),
            other_tribunal: flag(other_tribunal),
            week20: None,
            plan: Some(plan),
            exception: false,
        }),
        active: None,
    }
}

/// The headline figures.
pub fn figures(sen2: &Sen2) -> pb::Sen2Figures {
    let Some((start, end)) = calendar_year(sen2.year) else { return pb::Sen2Figures::default() };
    let in_year = |d: Option<NaiveDate>| d.is_some_and(|d| (start..=end).contains(&d));
    let mut f =
        pb::Sen2Figures { persons: u32::try_from(sen2.persons.len()).unwrap_or(u32::MAX), ..Default::default() };
    for request in sen2.persons.iter().flat_map(|p| &p.requests) {
        if request.referral_id.is_some() && in_year(request.received) {
            f.requests_received += 1;
        }
        if request.active.is_some() {
            f.active_plans += 1;
        }
        let Some(assessment) = &request.assessment else { continue };
        let Some(plan) = &assessment.plan else { continue };
        if in_year(plan.cease_date) {
            f.plans_ceased += 1;
        }
        if request.referral_id.is_none() || !in_year(Some(plan.start)) {
            continue;
        }
        let within = assessment.week20 == Some(true);
        f.plans_issued_including_exceptions += 1;
        f.issued_within_20_weeks_including_exceptions += u32::from(within);
        if !assessment.exception {
            f.plans_issued += 1;
            f.issued_within_20_weeks += u32::from(within);
        }
    }
    f.percent_within_20_weeks = percent(f.issued_within_20_weeks, f.plans_issued);
    f.percent_within_20_weeks_including_exceptions =
        percent(f.issued_within_20_weeks_including_exceptions, f.plans_issued_including_exceptions);
    f
}

/// `part` of `whole` as a percentage to one decimal place, as the statutory
/// clock report gives it; `None` of nothing.
fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0)
}
