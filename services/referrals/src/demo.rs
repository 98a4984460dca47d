//! The embedded mode's demo referrals: about one pupil in four on the register is
//! referred over the last 18 months, across every kind and every state, with EHC
//! needs assessment requests at every stage of the clock: plans mostly issued in
//! time, some late, some requests at risk and some breached; never two open
//! requests for one pupil, which the database refuses. Besides, one request in
//! each state the clock tells apart: a parent's request received by letter and
//! keyed in days later, a case still assessing past its 16-week date (at risk), a
//! draft plan out for consultation, and a plan issued late in an exception case.
//! Generated from a fixed seed; no real child is in it.

use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDate};
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use crate::domain::{
    AssessmentDecision, BroadArea, ClockDates, ClockException, Consent, ConsentMethod, NewReferral, PlanDecision,
    Priority, ReceivedVia, ReferralKind, Requester, Specialism, Status, Tried, consultation_default_end,
};
use crate::store::{SeedClockExtras, SeedReferral, Store};

const CONCERNS: &[&str] = &[
    "Reading and spelling well below peers despite two cycles of targeted support",
    "Increasing anxiety and refusal to attend; struggles with unstructured times",
    "Very limited expressive language; frustration leads to incidents in class",
    "Suspected hearing loss; not following instructions in group work",
    "Difficulties with social communication and sensory overload at lunchtime",
    "Fine motor difficulties affect recording; fatigue after physical activity",
];
/// Who takes the demo referrals: the EPs the educational psychology referrals
/// and the EHC needs assessments (whose psychological advice only an EP can
/// give), the advisory teachers the rest.
const PSYCHOLOGISTS: &[&str] = &["ep-jones", "ep-smith"];
const ADVISORY_TEACHERS: &[&str] = &["at-patel", "at-okafor"];

/// splitmix64: the same demo on every fresh start.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Loads demo referrals for `tenant`'s pupils, given as (pupil id, school URN,
/// SEN status code). The caller loads them once, into an empty store.
pub async fn seed(
    store: &Store,
    issuer: &DevIssuer,
    tenant: &str,
    pupils: &[(i64, i32, String)],
    today: NaiveDate,
) -> anyhow::Result<bool> {
    let la = LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
    let grant = Grant { person: "demo-loader".into(), role: Role::Service, tenant: Some(la), school: None };
    let token = issuer.signer.mint(&grant, StdDuration::from_secs(60)).map_err(anyhow::Error::msg)?;
    let scope = issuer.verifier.verify(&token)?.tenant_scope()?;
    store.load_referrals_with(&scope, "demo-loader", &referrals(la, pupils, today)).await?;
    Ok(true)
}

/// The demo referrals of authority `la`'s pupils, the same on every start.
fn referrals(la: LaCode, pupils: &[(i64, i32, String)], today: NaiveDate) -> Vec<(SeedReferral, SeedClockExtras)> {
    let mut dice = Dice(u64::from(la.get()) * 7919);
    let mut seeds = Vec::new();
    for (pupil, urn, status) in pupils {
        if status == "N" || dice.below(4) != 0 {
            continue;
        }
        let Ok(school) = Urn::from_stored(*urn) else { continue };
        if let Some(seed) = referral(&mut dice, *pupil, school, today) {
            seeds.push(seed);
        }
    }
    // However the dice fall, the clock report shows a request at risk and one
    // breached, each for a pupil with no open request yet: a pupil has at most one.
    let has_open_request = |pupil: i64| {
        seeds
            .iter()
            .any(|s| s.new.pupil_id == pupil && s.new.kind == ReferralKind::EhcNeedsAssessment && s.status().is_open())
    };
    // Then one request in each state of the clock the council must see told apart.
    let on_register: Vec<_> = pupils.iter().filter(|p| p.2 != "N" && !has_open_request(p.0)).take(6).collect();
    let mut extras = vec![SeedClockExtras::default(); seeds.len()];
    for ((pupil, urn, _), state) in on_register.into_iter().zip(DemoState::ALL) {
        let Ok(school) = Urn::from_stored(*urn) else { continue };
        if let Some(mut seed) = referral(&mut dice, *pupil, school, today) {
            seed.new.kind = ReferralKind::EhcNeedsAssessment;
            seed.submitted_on = today - Duration::days(state.days_ago());
            seed.path = vec![(Status::Accepted, seed.submitted_on + Duration::days(3), "case_officer")];
            seed.allocated_to = None;
            seed.outcome = None;
            let (clock, extra) = state.clock(seed.submitted_on, today);
            seed.clock = Some(clock);
            seeds.push(seed);
            extras.push(extra);
        }
    }
    seeds.into_iter().zip(extras).collect()
}

/// The states of the clock the demo always shows, each on a pupil of its own.
#[derive(Clone, Copy, Debug)]
enum DemoState {
    /// Awaiting the decision to assess, 33 days in: at risk of the 6 weeks.
    AtRiskOfSixWeeks,
    /// Awaiting the decision to assess, 50 days in: past the 6 weeks.
    PastSixWeeks,
    /// A parent's letter, received 9 days ago and keyed in 4 days later.
    ParentsLetter,
    /// Assessing, 115 days in: past the 16-week date, at risk of the 20 weeks.
    AssessingPastSixteenWeeks,
    /// The draft plan sent 6 days ago, its 15 days for comments still running.
    DraftInConsultation,
    /// A plan issued after 20 weeks in a case with an exception (reg. 10(4)(c)).
    ExceptionCase,
}

impl DemoState {
    const ALL: [DemoState; 6] = [
        Self::AtRiskOfSixWeeks,
        Self::PastSixWeeks,
        Self::ParentsLetter,
        Self::AssessingPastSixteenWeeks,
        Self::DraftInConsultation,
        Self::ExceptionCase,
    ];

    fn days_ago(self) -> i64 {
        match self {
            Self::AtRiskOfSixWeeks => 33,
            Self::PastSixWeeks => 50,
            Self::ParentsLetter => 9,
            Self::AssessingPastSixteenWeeks => 115,
            Self::DraftInConsultation => 124,
            Self::ExceptionCase => 200,
        }
    }

    fn clock(self, received: NaiveDate, today: NaiveDate) -> (ClockDates, SeedClockExtras) {
        let on = |days: i64| (received + Duration::days(days)).min(today);
        let mut dates = ClockDates {
            received_on: received,
            assessment_decision: None,
            plan_decision: None,
            final_plan_issued_on: None,
            exception: None,
        };
        let mut extras = SeedClockExtras::default();
        match self {
            Self::AtRiskOfSixWeeks | Self::PastSixWeeks => {}
            Self::ParentsLetter => {
                extras.requested = Some((Requester::Parent, ReceivedVia::Letter, "Mother, Amira Hassan".into(), on(4)));
            }
            Self::AssessingPastSixteenWeeks => {
                dates.assessment_decision = Some((AssessmentDecision::Assess, on(38)));
            }
            Self::DraftInConsultation => {
                dates.assessment_decision = Some((AssessmentDecision::Assess, on(36)));
                dates.plan_decision = Some((PlanDecision::Issue, on(112)));
                let sent = on(118);
                extras.draft_plan = Some((sent, consultation_default_end(sent)));
                extras.requested =
                    Some((Requester::YoungPerson, ReceivedVia::Email, "Jordan Reid (aged 17)".into(), on(1)));
            }
            Self::ExceptionCase => {
                dates.assessment_decision = Some((AssessmentDecision::Assess, on(40)));
                dates.plan_decision = Some((PlanDecision::Issue, on(120)));
                extras.draft_plan = Some((on(124), consultation_default_end(on(124))));
                dates.final_plan_issued_on = Some(on(152));
                dates.exception = Some(ClockException::AbsentFromArea);
                extras.exception = Some((
                    on(60),
                    "The family was abroad from week 9 for five weeks; the EP visit was rebooked".into(),
                ));
                extras.requested =
                    Some((Requester::Health, ReceivedVia::Email, "Dr Okafor, community paediatrics".into(), on(2)));
            }
        }
        (dates, extras)
    }
}

fn kind(dice: &mut Dice) -> ReferralKind {
    match dice.below(20) {
        0..=7 => ReferralKind::EducationalPsychology,
        8..=14 => ReferralKind::AdvisoryTeacher(Specialism::ALL[dice.below(Specialism::ALL.len() as u64) as usize]),
        _ => ReferralKind::EhcNeedsAssessment,
    }
}

fn referral(dice: &mut Dice, pupil_id: i64, school: Urn, today: NaiveDate) -> Option<SeedReferral> {
    let kind = kind(dice);
    let age = dice.below(540) as i64;
    let submitted_on = today - Duration::days(age);
    let consent =
        Consent::new("Parent", submitted_on - Duration::days(7), ConsentMethod::SignedForm, submitted_on).ok()?;
    let new = NewReferral {
        pupil_id,
        school,
        kind,
        broad_areas: vec![BroadArea::ALL[dice.below(4) as usize]],
        concern: CONCERNS[dice.below(CONCERNS.len() as u64) as usize].into(),
        tried: Tried {
            summary: "Two assess-plan-do-review cycles with targeted provision".into(),
            ..Default::default()
        },
        consent,
        priority: if dice.below(6) == 0 { Priority::Urgent } else { Priority::Routine },
    };
    let day = |offset: i64| (submitted_on + Duration::days(offset)).min(today);
    let team = if matches!(new.kind, ReferralKind::AdvisoryTeacher(_)) { ADVISORY_TEACHERS } else { PSYCHOLOGISTS };
    let professional = team[dice.below(team.len() as u64) as usize].to_owned();
    // How far along a referral of this age has come.
    let path: Vec<(Status, NaiveDate, &'static str)> = match (age, dice.below(10)) {
        (0..=6, _) => vec![],
        (7..=20, 0..=1) => vec![(Status::Returned, day(5), "case_officer")],
        (7..=20, _) => vec![(Status::Accepted, day(4), "case_officer")],
        (_, 0) => vec![(Status::Declined, day(6), "case_officer")],
        (_, 1) => vec![(Status::Withdrawn, day(3), "senco")],
        (21..=90, _) => vec![
            (Status::Accepted, day(4), "case_officer"),
            (Status::Allocated, day(9), "service"),
            (Status::InProgress, day(15), "educational_psychologist"),
        ],
        _ => vec![
            (Status::Accepted, day(4), "case_officer"),
            (Status::Allocated, day(9), "service"),
            (Status::InProgress, day(15), "educational_psychologist"),
            (Status::Closed, day(80), "educational_psychologist"),
        ],
    };
    let status = path.last().map_or(Status::Submitted, |s| s.0);
    let allocated = matches!(status, Status::Allocated | Status::InProgress | Status::Closed);
    let clock = kind.is_statutory().then(|| clock(dice, submitted_on, today, status));
    Some(SeedReferral {
        new,
        submitted_on,
        path,
        allocated_to: allocated.then_some(professional),
        outcome: (status == Status::Closed).then(|| "Advice given; outcomes agreed with school and family".to_owned()),
        clock,
    })
}

/// The clock of a request received `received`: most plans issued within 20 weeks,
/// some late, some not assessed; recent ones at risk or breached.
fn clock(dice: &mut Dice, received: NaiveDate, today: NaiveDate, status: Status) -> ClockDates {
    let weeks = (today - received).num_weeks();
    let on = |days: i64| (received + Duration::days(days)).min(today);
    let mut dates = ClockDates {
        received_on: received,
        assessment_decision: None,
        plan_decision: None,
        final_plan_issued_on: None,
        exception: (dice.below(20) == 0).then_some(ClockException::PersonalCircumstances),
    };
    if matches!(status, Status::Declined | Status::Withdrawn | Status::Returned) {
        return dates;
    }
    // Recent requests: some decided in time, some not (at risk, or breached past 6 weeks).
    let decision_day = 30 + dice.below(20) as i64;
    if weeks < 7 && dice.below(3) == 0 {
        return dates;
    }
    if dice.below(8) == 0 {
        dates.assessment_decision = Some((AssessmentDecision::NotAssess, on(decision_day.min(41))));
        return dates;
    }
    dates.assessment_decision = Some((AssessmentDecision::Assess, on(decision_day.min(41))));
    if weeks < 14 {
        return dates;
    }
    let plan_day = 90 + dice.below(20) as i64;
    if dice.below(10) == 0 {
        dates.plan_decision = Some((PlanDecision::NotIssue, on(plan_day)));
        return dates;
    }
    dates.plan_decision = Some((PlanDecision::Issue, on(plan_day)));
    // Nationally under half of plans are issued within 20 weeks (46.4 % in 2024:
    // DfE, "Education, health and care plans").
    let issue_day = if dice.below(100) < 50 { 120 + dice.below(19) as i64 } else { 141 + dice.below(80) as i64 };
    if received + Duration::days(issue_day) <= today {
        dates.final_plan_issued_on = Some(on(issue_day));
    }
    dates
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_demo_never_makes_two_open_ehc_requests_for_one_pupil() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let pupils: Vec<(i64, i32, String)> =
            (1..=60).map(|n| (n, 100_001 + (n % 3) as i32, if n % 5 == 0 { "N" } else { "K" }.to_owned())).collect();
        for code in 201..=999 {
            let la = LaCode::parse(&code.to_string()).unwrap();
            let mut open = HashSet::new();
            for (seed, _) in referrals(la, &pupils, today) {
                if seed.new.kind == ReferralKind::EhcNeedsAssessment && seed.status().is_open() {
                    assert!(open.insert(seed.new.pupil_id), "authority {la}: pupil {}", seed.new.pupil_id);
                }
            }
        }
    }
}
