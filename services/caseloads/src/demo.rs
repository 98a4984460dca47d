//! The embedded mode's demo caseloads: an educational psychology team and
//! advisory teachers in each demo authority, with link schools, the cases behind
//! the demo referrals that were allocated (so some professionals are over
//! capacity and one is idle), recorded activity this term, the advice asked
//! for in the EHC needs assessments in each state (awaited, in on time, in
//! late, overdue, not yet asked for), and this term's time-allocation model.

use chrono::{Duration, NaiveDate};
use sen_platform::identity::TenantScope;
use sen_platform::ids::Urn;

use crate::completion::CLAIM_LEASE;
use crate::domain::{
    AcademicTerm, ActivityKind, AdviceKind, Capacity, EpGrade, ProfessionalRole, ReferralKind, Specialism,
};
use crate::entity::allocation_model;
use crate::store::{CaseDraft, Claim, NewActivity, NewAdviceRequest, NewProfessional, Store};

/// An allocated demo referral: (referral id, pupil id, school URN, kind code,
/// received on, professional's person id, still open).
pub type AllocatedReferral = (i64, i64, i32, String, NaiveDate, String, bool);

/// The team: (person, name, role, capacity in open cases). The first four are
/// the people the demo referrals are allocated to; two of them carry more cases
/// than their capacity, as real services often do.
fn team() -> Vec<(&'static str, &'static str, ProfessionalRole, u32)> {
    use EpGrade::*;
    use ProfessionalRole::*;
    vec![
        ("ep-jones", "Dr Megan Jones", EducationalPsychologist(Senior), 5),
        ("ep-smith", "Dr Adam Smith", EducationalPsychologist(MainGrade), 10),
        ("at-patel", "Ravi Patel", AdvisoryTeacher(Specialism::CommunicationAndInteraction), 4),
        ("at-okafor", "Ngozi Okafor", AdvisoryTeacher(Specialism::CognitionAndLearning), 16),
        ("ep-evans", "Dr Carys Evans", EducationalPsychologist(Principal), 8),
        ("ep-trainee", "Sam Reid", EducationalPsychologist(Trainee), 6),
        ("at-brown", "Helen Brown", AdvisoryTeacher(Specialism::SensoryHearing), 20),
    ]
}

/// The people of the team who carry demo cases: (person id, name), for the demo
/// sign-in page.
pub fn people() -> Vec<(&'static str, &'static str)> {
    team().into_iter().take(4).map(|(person, name, _, _)| (person, name)).collect()
}

/// Loads the team, links, cases, activity and this term's model for `tenant`.
/// Returns the access grants the cases need: (pupil id, person, case reference).
pub async fn seed(
    store: &Store,
    tenant: &TenantScope,
    schools: &[i32],
    allocated: &[AllocatedReferral],
    today: NaiveDate,
) -> anyhow::Result<Vec<(i64, String, String)>> {
    let mut ids = Vec::new();
    for (person, name, role, cases) in team() {
        let new = NewProfessional {
            person: person.into(),
            name: name.into(),
            role,
            fte: if matches!(role, ProfessionalRole::EducationalPsychologist(EpGrade::Trainee)) { 0.6 } else { 1.0 },
            capacity: Capacity::OpenCases(cases),
            active: true,
        };
        ids.push((person, store.create_professional(tenant, &new).await?.id));
    }
    // Each school has a link EP and a link advisory teacher, in turn.
    let eps = ["ep-jones", "ep-smith", "ep-evans"];
    let advisory = ["at-patel", "at-okafor"];
    for (n, urn) in schools.iter().enumerate() {
        let urn = Urn::from_stored(*urn).map_err(anyhow::Error::msg)?;
        for person in [eps[n % eps.len()], advisory[n % advisory.len()]] {
            if let Some((_, id)) = ids.iter().find(|(p, _)| *p == person) {
                store.link_school(tenant, i64::from(*id), urn).await?;
            }
        }
    }
    let term = AcademicTerm::containing(today);
    let book = Book::of(allocated, today);
    let mut grants = Vec::new();
    let mut statutory = 0;
    for (n, (referral, pupil, school, kind, received, person, open)) in allocated.iter().enumerate() {
        let Some((_, professional)) = ids.iter().find(|(p, _)| p == person) else { continue };
        let draft = CaseDraft {
            referral_id: *referral,
            pupil_id: *pupil,
            school_urn: *school,
            kind: kind.clone(),
            received_on: *received,
            idempotency_key: format!("demo-{referral}"),
        };
        let allocated_on = allocated_on(*received, today);
        // The other services learn of these cases from the demo book, so each is confirmed at once.
        let claim = Claim::new("demo", chrono::Utc::now(), CLAIM_LEASE);
        let row =
            store.begin_allocation(tenant, &draft, *professional, Some("demo caseload"), allocated_on, &claim).await?;
        let row = store.confirm_allocation(tenant, row.id, &claim, None).await?;
        let reference = format!("CASE-{}", row.id);
        let visits = [(ActivityKind::Consultation, 1), (ActivityKind::Observation, 1), (ActivityKind::Assessment, 2)];
        for (k, (activity, sessions)) in visits.iter().enumerate().take(1 + n % 3) {
            let on = (term.starts_on() + Duration::days(7 + 9 * k as i64 + (n % 20) as i64)).min(today);
            let note = NewActivity { on, kind: *activity, sessions: *sessions, note: String::new() };
            store.record_activity(tenant, &row, &note, person).await?;
        }
        // A closed case closes once its advice is in.
        let mut closed = closed_on(allocated_on, today);
        if ReferralKind::parse(kind) == Ok(ReferralKind::EhcNeedsAssessment) {
            let asked = DemoAdvice { referral: *referral, pupil: *pupil, school: *school, received: *received };
            let timing = asked.timing(statutory, *open, today, &|day| book.load(person, day));
            if let Some((_, Some(advice_in))) = timing {
                closed = closed.max((advice_in + Duration::days(7)).min(today));
            }
            asked.seed(store, tenant, (*professional, person), timing, today).await?;
            statutory += 1;
        }
        if *open {
            grants.push((*pupil, person.clone(), reference));
        } else {
            let closed = closed.and_hms_opt(16, 0, 0).unwrap_or_default().and_utc();
            let outcome = "Advice given; outcomes agreed with school and family";
            store.close_case_at(tenant, i64::from(row.id), outcome, closed.min(chrono::Utc::now())).await?;
        }
    }
    store
        .set_model(
            tenant,
            allocation_model::Model {
                id: 0,
                la_code: tenant.key(),
                term: term.code(),
                sessions_available: 300,
                base_per_school: 4,
                weight_roll: 20,
                weight_support: 40,
                weight_ehcp: 40,
                updated_at: chrono::Utc::now(),
            },
        )
        .await?;
    Ok(grants)
}

/// Who carried which demo case when: a case is open from the day it was
/// allocated (nine days after the referral came in) until about the day it
/// closed ([`closed_on`]; a statutory case whose advice came in late closed a
/// little later), or until today, as the breach forecast reads them back.
struct Book {
    spans: Vec<(String, NaiveDate, Option<NaiveDate>)>,
}

impl Book {
    fn of(allocated: &[AllocatedReferral], today: NaiveDate) -> Book {
        let spans = allocated
            .iter()
            .map(|(_, _, _, _, received, person, open)| {
                let on = allocated_on(*received, today);
                (person.clone(), on, (!open).then(|| closed_on(on, today)))
            })
            .collect();
        Book { spans }
    }

    /// `person`'s open cases on `day` over their capacity (1.0: full).
    fn load(&self, person: &str, day: NaiveDate) -> f64 {
        let Some((.., capacity)) = team().into_iter().find(|(p, ..)| *p == person) else { return 0.0 };
        let open = self
            .spans
            .iter()
            .filter(|(p, from, to)| p == person && *from <= day && to.is_none_or(|to| day < to))
            .count();
        open as f64 / f64::from(capacity.max(1))
    }
}

/// The day a demo referral received on `received` was allocated.
fn allocated_on(received: NaiveDate, today: NaiveDate) -> NaiveDate {
    (received + Duration::days(9)).min(today)
}

/// The day a closed demo case allocated on `allocated` was closed: six weeks
/// on (a statutory case once its advice was in, a week after), or today
/// for the most recent.
fn closed_on(allocated: NaiveDate, today: NaiveDate) -> NaiveDate {
    (allocated + Duration::days(45)).min(today)
}

/// The states demo advice is shown in: (days before today it was asked for,
/// days before today it came in), `None` for not yet asked for. Due 42 days
/// after asking (reg. 8(1)).
const ADVICE_STATES: [Option<(i64, Option<i64>)>; 5] = [
    // Overdue: due 8 days ago, not in.
    Some((50, None)),
    // In late: due 18 days ago, in 10 days ago.
    Some((60, Some(10))),
    // In on time: due in 12 days, in 5 days ago.
    Some((30, Some(5))),
    // Asked for and due in 32 days.
    Some((10, None)),
    // Not yet asked for.
    None,
];

/// One statutory demo case's EHC request, whose advice is seeded.
struct DemoAdvice {
    referral: i64,
    pupil: i64,
    school: i32,
    received: NaiveDate,
}

impl DemoAdvice {
    /// When the advice is asked for, and when the psychological advice comes
    /// in (`None`: not yet), or `None` when it is not yet asked for. A closed
    /// case's advice was asked for just after the decision to assess (six weeks
    /// from the request) and came in on time or, one case in three, late, and
    /// took longer in proportion where the EP was over capacity that day
    /// (`load_on`), as a history the breach forecast learns from should read
    /// (so the demo's what-if and suggested moves have something to show).
    /// An open case's is in the `n`th of [`ADVICE_STATES`] that fits the
    /// request's age, counted back from today so that the demo shows every
    /// state, except that an EP over capacity has not yet been asked for a
    /// request of the last eight weeks whose advice would otherwise be in.
    fn timing(
        &self,
        n: usize,
        open: bool,
        today: NaiveDate,
        load_on: &dyn Fn(NaiveDate) -> f64,
    ) -> Option<(NaiveDate, Option<NaiveDate>)> {
        let after_decision = self.received + Duration::days(43 + (n % 8) as i64);
        if !open && after_decision < today {
            let usual = if n % 3 == 2 { 58.0 } else { 36.0 };
            let took = (usual * load_on(after_decision).clamp(1.0, 2.5)).round() as i64;
            return Some((after_decision, Some((after_decision + Duration::days(took)).min(today))));
        }
        let age = (today - self.received).num_days();
        let fits = |state: &Option<(i64, Option<i64>)>| state.is_none_or(|(asked, _)| asked <= age);
        let states: Vec<_> = if open { ADVICE_STATES.to_vec() } else { vec![ADVICE_STATES[2], ADVICE_STATES[1]] };
        let (asked, received) = (0..states.len()).map(|k| states[(n + k) % states.len()]).find(fits)??;
        // An EP over capacity has not yet been asked for a request of the last
        // eight weeks that would otherwise be in already: unstarted work the
        // forecast may suggest moving.
        if open && age <= 56 && received.is_some() && load_on(today) > 1.0 {
            return None;
        }
        Some((today - Duration::days(asked), received.map(|days| today - Duration::days(days))))
    }

    /// Asks the case's EP for the psychological advice (and the school for the
    /// educational advice) as `timing` says (see [`DemoAdvice::timing`]).
    async fn seed(
        &self,
        store: &Store,
        tenant: &TenantScope,
        (professional, person): (i32, &str),
        timing: Option<(NaiveDate, Option<NaiveDate>)>,
        today: NaiveDate,
    ) -> anyhow::Result<()> {
        let Some((asked_on, psychological_in)) = timing else {
            return Ok(());
        };
        for (kind, from_whom, professional_id) in [
            (AdviceKind::Psychological, String::new(), Some(professional)),
            (AdviceKind::Educational, "Head teacher".to_owned(), None),
        ] {
            let from_whom = if from_whom.is_empty() {
                store.professional(tenant, i64::from(professional)).await?.name
            } else {
                from_whom
            };
            let new = NewAdviceRequest {
                referral_id: self.referral,
                pupil_id: self.pupil,
                school_urn: self.school,
                kind,
                from_whom,
                professional_id,
                asked_on,
            };
            let row = store.record_advice_request(tenant, &new, person).await?;
            // The school's advice comes in on time whatever the EP's does.
            let in_on = match kind {
                AdviceKind::Psychological => psychological_in,
                _ => Some((asked_on + Duration::days(20)).min(today)),
            };
            if let Some(on) = in_on {
                store.record_advice_received(tenant, i64::from(row.id), on).await?;
            }
        }
        Ok(())
    }
}
