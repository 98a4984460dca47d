//! Each authority's referrals over the last two years, planned along the paths
//! the referrals service allows (every status change through the domain's
//! `next_status`, every clock step after the one before, checked with
//! `check_dates`):
//!
//! - EHC needs assessment requests at every stage of the statutory clock: the
//!   request behind each plan issued in the window (just under half within 20
//!   weeks, as nationally), and for pupils on SEN support requests awaiting the
//!   decision to assess (some past 6 weeks), assessing, awaiting the final plan
//!   (some past 20 weeks), refused, not issued and withdrawn; never two open
//!   for one pupil. A decision to assess asks an EP for advice: a case.
//! - Educational psychology and advisory teacher referrals in every status,
//!   allocated to the least loaded professional who may take them (one time in
//!   five to whoever the manager picked, over capacity with a reason).

use chrono::{Duration, NaiveDate};
use sen_pupils::domain::{NeedCode, SenStatus};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, ClockDates, ClockException, ConsentMethod, Event, PlanDecision, Priority,
    ReferralKind, Specialism, Status, check_dates, next_status,
};

use super::dice::Dice;
use super::plan::{Authority, Case, Entry, Ids, Referral, Run, Who};

/// Days of referrals generated before the dataset's day.
const WINDOW_DAYS: i64 = 730;

const CONCERNS: &[(BroadArea, &str)] = &[
    (BroadArea::CognitionAndLearning, "Reading and spelling well below peers despite two cycles of targeted support"),
    (BroadArea::CognitionAndLearning, "Slow progress in number; struggles to retain new learning"),
    (
        BroadArea::SocialEmotionalMentalHealth,
        "Increasing anxiety and refusal to attend; struggles with unstructured times",
    ),
    (BroadArea::SocialEmotionalMentalHealth, "Frequent dysregulation in class; two fixed-term suspensions this year"),
    (
        BroadArea::CommunicationAndInteraction,
        "Very limited expressive language; frustration leads to incidents in class",
    ),
    (
        BroadArea::CommunicationAndInteraction,
        "Difficulties with social communication and sensory overload at lunchtime",
    ),
    (BroadArea::SensoryPhysical, "Suspected hearing loss; not following instructions in group work"),
    (BroadArea::SensoryPhysical, "Fine motor difficulties affect recording; fatigue after physical activity"),
];
const GIVEN_BY: &[&str] = &["Mother", "Father", "Parent", "Carer", "Grandmother (special guardian)"];

/// How far an EHC needs assessment request has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ehc {
    /// No decision whether to assess yet.
    AwaitingDecision,
    /// Decided not to assess (declined).
    NotAssessed,
    /// Withdrawn by the school before a decision.
    Withdrawn,
    /// Assessing: an EP is writing advice.
    Assessing,
    /// A plan will be issued; the final plan is not.
    AwaitingPlan,
    /// Decided, after assessing, not to issue a plan.
    NotIssued,
    /// The final plan was issued on this day.
    Issued(NaiveDate),
}

/// Plans the authority's referrals, allocating cases to its professionals.
pub fn plan(run: &Run, authority: &mut Authority, dice: &Dice, ids: &mut Ids) -> anyhow::Result<Vec<Referral>> {
    let today = run.today;
    let window = today - Duration::days(WINDOW_DAYS);
    let mut referrals = Vec::new();
    for index in 0..authority.pupils.len() {
        let pupil = &authority.pupils[index];
        if pupil.status == SenStatus::NoSen {
            continue;
        }
        let mut dice = dice.split(pupil.id.unsigned_abs().into());
        let joined = pupil.added.0;
        let mut wanted: Vec<(ReferralKind, NaiveDate, Option<Ehc>)> = Vec::new();
        match (&pupil.plan, pupil.status) {
            (Some(plan), SenStatus::EhcPlan) => {
                // The request behind the plan: 46 % of plans nationally are issued within 20 weeks.
                // (A request from before the pupil joined this school was the parents'.)
                let days = if dice.chance(0.46) { dice.between(98, 140) } else { dice.between(141, 300) };
                let received = plan.issued_on - Duration::days(days);
                if received >= window && plan.ceased_on.is_none() {
                    wanted.push((ReferralKind::EhcNeedsAssessment, received, Some(Ehc::Issued(plan.issued_on))));
                }
            }
            _ if dice.chance(0.14) => {
                let received = (today - Duration::days(dice.between(0, WINDOW_DAYS - 1))).max(joined);
                wanted.push((
                    ReferralKind::EhcNeedsAssessment,
                    received,
                    Some(ehc_outcome(&mut dice, (today - received).num_days())),
                ));
            }
            _ => {}
        }
        if dice.chance(0.07) {
            wanted.push((ReferralKind::EducationalPsychology, dice.day_between(window.max(joined), today), None));
        }
        if dice.chance(0.10) {
            let kind =
                ReferralKind::AdvisoryTeacher(specialism(pupil.primary.as_ref().map(NeedCode::as_str), &mut dice));
            wanted.push((kind, dice.day_between(window.max(joined), today), None));
        }
        for (kind, received, outcome) in wanted {
            if received > today {
                continue;
            }
            let referral = build(run, authority, index as u32, kind, received, outcome, &mut dice, ids)?;
            referrals.push(referral);
        }
    }
    Ok(referrals)
}

/// The advisory teaching team a pupil's primary need calls for.
/// The broad area of a national type of need the generator draws (none for
/// OTH, NSA and DS, as the register's codes have it).
fn area_of(need: &str) -> Option<BroadArea> {
    match need {
        "ASD" | "SLCN" => Some(BroadArea::CommunicationAndInteraction),
        "SPLD" | "MLD" | "SLD" | "PMLD" => Some(BroadArea::CognitionAndLearning),
        "SEMH" => Some(BroadArea::SocialEmotionalMentalHealth),
        "HI" | "VI" | "MSI" | "PD" => Some(BroadArea::SensoryPhysical),
        _ => None,
    }
}

fn specialism(need: Option<&str>, dice: &mut Dice) -> Specialism {
    match need {
        Some("ASD" | "SLCN") => Specialism::CommunicationAndInteraction,
        Some("HI") => Specialism::SensoryHearing,
        Some("VI" | "MSI") => Specialism::SensoryVision,
        Some("PD") => Specialism::PhysicalAndMedical,
        Some("SPLD" | "MLD" | "SLD" | "PMLD") => Specialism::CognitionAndLearning,
        _ => Specialism::ALL[dice.below(Specialism::ALL.len() as u64) as usize],
    }
}

/// Where a request received `age` days ago from a pupil still on SEN support stands.
fn ehc_outcome(dice: &mut Dice, age: i64) -> Ehc {
    use Ehc::*;
    let (outcomes, weights): (&[Ehc], &[u32]) = match age {
        ..42 => (&[AwaitingDecision], &[1]),
        42..112 => (&[AwaitingDecision, NotAssessed, Assessing], &[15, 25, 60]),
        112..140 => (&[AwaitingDecision, NotAssessed, NotIssued, Assessing, AwaitingPlan], &[8, 25, 5, 12, 50]),
        140..300 => (&[NotAssessed, NotIssued, Withdrawn, AwaitingPlan], &[35, 10, 5, 50]),
        _ => (&[NotAssessed, NotIssued, Withdrawn], &[55, 20, 25]),
    };
    outcomes[dice.weighted(weights.iter().copied())]
}

/// A referral's timeline as it is built, each step checked against the lifecycle.
struct Timeline {
    entries: Vec<Entry>,
    today: NaiveDate,
}

impl Timeline {
    fn new(received: NaiveDate, today: NaiveDate) -> Self {
        let entry = Entry { on: received, from: None, to: Status::Submitted, by: Who::Senco, note: "submitted".into() };
        Self { entries: vec![entry], today }
    }

    fn status(&self) -> Status {
        self.entries.last().map_or(Status::Submitted, |e| e.to)
    }

    fn last_day(&self) -> NaiveDate {
        self.entries.last().map_or(self.today, |e| e.on)
    }

    /// The step `event` on `on` (never before the last step); false if that day has not come.
    fn step(&mut self, event: Event, on: NaiveDate, by: Who, note: &str) -> anyhow::Result<bool> {
        let on = on.max(self.last_day());
        if on > self.today {
            return Ok(false);
        }
        let from = self.status();
        let to = next_status(from, event)?;
        let note = if note.is_empty() { event.name().to_owned() } else { note.to_owned() };
        self.entries.push(Entry { on, from: Some(from), to, by, note });
        Ok(true)
    }

    /// A clock step on `on` (never before the last step, never after today),
    /// noted as `note` says for the day it lands on; the status stays as it is.
    fn clock(&mut self, on: NaiveDate, note: impl FnOnce(NaiveDate) -> String) -> NaiveDate {
        let on = on.max(self.last_day()).min(self.today);
        let status = self.status();
        self.entries.push(Entry { on, from: Some(status), to: status, by: Who::Officer(1), note: note(on) });
        on
    }
}

/// Allocates the referral on `on` to a professional who may take it, as the
/// caseloads service does: the case, and the referral marked allocated.
#[allow(clippy::too_many_arguments)]
fn allocate(
    timeline: &mut Timeline,
    authority: &mut Authority,
    kind: ReferralKind,
    school: u32,
    on: NaiveDate,
    dice: &mut Dice,
    ids: &mut Ids,
) -> anyhow::Result<Option<Case>> {
    let Some((professional, full)) = super::caseloads::allocate(authority, kind, school, dice) else { return Ok(None) };
    let id = ids.case + 1;
    let note = format!("allocated to {} (case CASE-{id})", authority.staff[professional].person);
    if !timeline.step(Event::Allocate, on, Who::Service, &note)? {
        return Ok(None);
    }
    ids.case = id;
    authority.staff[professional].open_cases += 1;
    let override_reason = full.then_some("Urgent; the professionals with room could not take it");
    Ok(Some(Case { id, professional, allocated_on: timeline.last_day(), closed: None, override_reason }))
}

/// The professional closes the case (and so the referral) on `on` with `outcome`, if that day has come.
fn close(
    timeline: &mut Timeline,
    authority: &mut Authority,
    case: &mut Case,
    on: NaiveDate,
    outcome: &str,
) -> anyhow::Result<()> {
    if timeline.step(Event::Close, on, Who::Professional(case.professional), outcome)? {
        case.closed = Some((timeline.last_day(), outcome.to_owned()));
        let open = &mut authority.staff[case.professional].open_cases;
        *open = open.saturating_sub(1);
    }
    Ok(())
}

/// The path of an educational psychology or advisory teacher referral received `age` days ago.
fn ordinary_path(
    timeline: &mut Timeline,
    authority: &mut Authority,
    (kind, school, received, officer): (ReferralKind, u32, NaiveDate, Who),
    dice: &mut Dice,
    ids: &mut Ids,
) -> anyhow::Result<Option<Case>> {
    let age = (timeline.today - received).num_days();
    let day = |dice: &mut Dice, from: i64, to: i64| received + Duration::days(dice.between(from, to));
    let fate = dice.below(100);
    let more = "Please attach the latest support plan and its review";
    if age < 7 {
        return Ok(None);
    }
    if age <= 20 && fate < 20 {
        timeline.step(Event::Return, day(dice, 3, 6), officer, more)?;
        return Ok(None);
    }
    if age > 20 && fate < 8 {
        let reason = "Needs can be met within the school's own provision; advice given by phone";
        timeline.step(Event::Decline, day(dice, 3, 8), officer, reason)?;
        return Ok(None);
    }
    if age > 20 && fate < 15 {
        timeline.step(Event::Withdraw, day(dice, 1, 5), Who::Senco, "")?;
        return Ok(None);
    }
    if age > 20 && fate < 20 {
        timeline.step(Event::Return, day(dice, 3, 6), officer, more)?;
        timeline.step(Event::Resubmit, day(dice, 8, 12), Who::Senco, "")?;
    }
    timeline.step(Event::Accept, day(dice, 1, 5), officer, "")?;
    if age <= 20 {
        return Ok(None);
    }
    let Some(mut case) = allocate(timeline, authority, kind, school, day(dice, 6, 12), dice, ids)? else {
        return Ok(None);
    };
    timeline.step(Event::Start, day(dice, 13, 20), Who::Professional(case.professional), "")?;
    // Most cases close in two to four months; the rest drag on, but none past
    // eight months (a case open for years would leave every EP far over capacity).
    let outcome = "Advice given; outcomes agreed with school and family";
    if age > 90 && dice.chance(0.85) {
        close(timeline, authority, &mut case, day(dice, 60, 120), outcome)?;
    } else if age > 240 {
        close(timeline, authority, &mut case, day(dice, 150, 240), outcome)?;
    }
    Ok(Some(case))
}

/// The path and clock of an EHC needs assessment request with `outcome`.
fn request_path(
    timeline: &mut Timeline,
    authority: &mut Authority,
    (school, received, officer, outcome): (u32, NaiveDate, Who, Ehc),
    dice: &mut Dice,
    ids: &mut Ids,
) -> anyhow::Result<(ClockDates, Option<Case>)> {
    let today = timeline.today;
    let day = |dice: &mut Dice, from: i64, to: i64| received + Duration::days(dice.between(from, to));
    let mut dates = ClockDates {
        received_on: received,
        assessment_decision: None,
        plan_decision: None,
        final_plan_issued_on: None,
        exception: None,
    };
    let mut case = None;
    // One decision in five is made after the 6 weeks (reg. 5(1)).
    let decided = if dice.chance(0.2) { day(dice, 43, 70) } else { day(dice, 28, 42) };
    match outcome {
        Ehc::AwaitingDecision => {
            if dice.chance(0.7) {
                timeline.step(Event::Accept, day(dice, 1, 5), officer, "")?;
            }
        }
        Ehc::Withdrawn => {
            timeline.step(Event::Accept, day(dice, 1, 5), officer, "")?;
            timeline.step(Event::Withdraw, day(dice, 10, 40), Who::Senco, "")?;
        }
        Ehc::NotAssessed => {
            let on = timeline.clock(decided, |on| format!("decision on assessment: not_assess on {on}"));
            dates.assessment_decision = Some((AssessmentDecision::NotAssess, on));
            let reason =
                "The council decided not to carry out an EHC needs assessment; the family has been told how to appeal";
            timeline.step(Event::Decline, on, officer, reason)?;
        }
        Ehc::Assessing | Ehc::AwaitingPlan | Ehc::NotIssued | Ehc::Issued(_) => {
            let cap = if let Ehc::Issued(issued) = outcome { issued } else { today };
            timeline.step(Event::Accept, day(dice, 1, 5), officer, "")?;
            let on = timeline.clock(decided.min(cap), |on| format!("decision on assessment: assess on {on}"));
            dates.assessment_decision = Some((AssessmentDecision::Assess, on));
            case = allocate(timeline, authority, ReferralKind::EhcNeedsAssessment, school, on, dice, ids)?;
            if let Some(case) = case.as_mut() {
                let started = (on + Duration::days(dice.between(1, 7))).min(cap);
                timeline.step(Event::Start, started, Who::Professional(case.professional), "")?;
                if outcome != Ehc::Assessing {
                    let advised = (on + Duration::days(dice.between(14, 35))).min(cap);
                    close(
                        timeline,
                        authority,
                        case,
                        advised,
                        "Psychological advice given for the EHC needs assessment",
                    )?;
                }
            }
            if outcome != Ehc::Assessing {
                let planned = if dice.chance(0.85) { day(dice, 84, 112) } else { day(dice, 113, 140) };
                let decision = if outcome == Ehc::NotIssued { PlanDecision::NotIssue } else { PlanDecision::Issue };
                let on =
                    timeline.clock(planned.min(cap), |on| format!("decision on a plan: {} on {on}", decision.code()));
                dates.plan_decision = Some((decision, on));
                if let Ehc::Issued(issued) = outcome {
                    let on = timeline.clock(issued, |on| format!("final plan issued on {on}"));
                    dates.final_plan_issued_on = Some(on);
                }
            }
        }
    }
    if dice.chance(0.05) {
        let exception = ClockException::ALL[dice.below(3) as usize];
        timeline.clock(timeline.last_day(), |_| format!("exception recorded: {}", exception.name()));
        dates.exception = Some(exception);
    }
    check_dates(&dates, today).map_err(|(field, e)| anyhow::anyhow!("a generated request's {field}: {e}"))?;
    Ok((dates, case))
}

#[allow(clippy::too_many_arguments)]
fn build(
    run: &Run,
    authority: &mut Authority,
    pupil: u32,
    kind: ReferralKind,
    received: NaiveDate,
    outcome: Option<Ehc>,
    dice: &mut Dice,
    ids: &mut Ids,
) -> anyhow::Result<Referral> {
    let officer = Who::Officer(1 + dice.below(u64::from(authority.officers)) as u32);
    let (school, status, need) = {
        let p = &authority.pupils[pupil as usize];
        (p.school, p.status, p.primary)
    };
    let area = need.and_then(|n| area_of(n.as_str())).unwrap_or(BroadArea::ALL[dice.below(4) as usize]);
    let concerns: Vec<&'static str> = CONCERNS.iter().filter(|c| c.0 == area).map(|c| c.1).collect();
    let mut timeline = Timeline::new(received, run.today);
    let (clock, case) = match outcome {
        None => (None, ordinary_path(&mut timeline, authority, (kind, school, received, officer), dice, ids)?),
        Some(outcome) => {
            let (dates, case) =
                request_path(&mut timeline, authority, (school, received, officer, outcome), dice, ids)?;
            (Some(dates), case)
        }
    };
    Ok(Referral {
        id: Ids::take(&mut ids.referral),
        pupil,
        kind,
        areas: vec![area],
        concern: concerns.get(dice.below(concerns.len() as u64) as usize).copied().unwrap_or(CONCERNS[0].1),
        tried: "Two assess-plan-do-review cycles with targeted provision",
        cites_support: status == SenStatus::SenSupport,
        consent: (
            *dice.pick(GIVEN_BY),
            received - Duration::days(dice.between(1, 45)),
            *dice.pick(&ConsentMethod::ALL),
        ),
        priority: if dice.below(6) == 0 { Priority::Urgent } else { Priority::Routine },
        submitted_on: received,
        entries: timeline.entries,
        clock,
        case,
    })
}
