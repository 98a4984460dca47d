//! What an annual review's decision leads to, in the pupils store on both
//! engines: an amended plan's proposal, issue and due date (the earlier of 8
//! weeks after the proposal and 12 weeks after the meeting; SEN and Disability
//! Regulations 2014, regs. 20(10) and 22(3)); the list of amended plans issued
//! late or overdue, scoped to the caller; and a plan ceasing with its SEN2
//! reason, which moves the pupil off E in the same step, once, however often
//! the call is retried.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{CeaseReason, NeedCode, PupilDetails, ReviewDecision, SenRecord, SenStatus, Upn};
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, AnnualReviewInput, Cessation, NewEhcp, Store};

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn urn(n: u32) -> Urn {
    Urn::parse(&n.to_string()).unwrap()
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let grant =
            Grant { person: "officer".into(), role, tenant: LaCode::parse(tenant).ok(), school: school.map(urn) };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    fn officer(&self) -> (Scope, Actor) {
        self.who(Role::CaseOfficer, "886", None)
    }

    /// A pupil with a plan issued on 10 January 2024 at `school`.
    async fn add(&self, serial: u32, school: u32) -> i64 {
        let (scope, actor) = self.officer();
        let details = PupilDetails {
            upn: Upn::from_body(&format!("886200125{serial:03}")).unwrap(),
            legal_forename: "Amara".into(),
            legal_surname: "Okafor".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: d(2014, 5, 1),
            school_urn: urn(school),
            nc_year_override: None,
            looked_after: false,
        };
        let sen =
            SenRecord { status: SenStatus::EhcPlan, primary: Some(NeedCode::parse("SLCN").unwrap()), secondary: None };
        let plan = NewEhcp { issued_on: d(2024, 1, 10), named_setting: "Northmoor Primary".into() };
        self.store.create_pupil(&scope, &actor, &details, &sen, Some(&plan), d(2024, 1, 10)).await.unwrap().id
    }

    async fn amend(&self, pupil: i64, meeting: NaiveDate, proposed: Option<NaiveDate>, issued: Option<NaiveDate>) {
        let (scope, actor) = self.officer();
        self.store.record_annual_review(&scope, &actor, pupil, &amending(meeting, proposed, issued)).await.unwrap();
    }

    /// The pupils listed as late on `today`, for `scope`.
    async fn late(&self, scope: &Scope, today: NaiveDate) -> Vec<i64> {
        let (_, actor) = self.officer();
        let page = Page::checked(None, "page").unwrap();
        let (rows, _) = self.store.late_amendments(scope, &actor, today, &page).await.unwrap();
        rows.into_iter().map(|(pupil, _)| i64::from(pupil.id)).collect()
    }
}

fn amending(meeting: NaiveDate, proposed: Option<NaiveDate>, issued: Option<NaiveDate>) -> AnnualReviewInput {
    AnnualReviewInput {
        meeting_on: meeting,
        report_sent_on: Some(meeting),
        decision: Some(ReviewDecision::Amend),
        decision_on: Some(meeting),
        amendments_proposed_on: proposed,
        amended_plan_issued_on: issued,
        cease_reason: None,
        cessation: None,
    }
}

fn ceasing(meeting: NaiveDate, reason: CeaseReason, cessation: Option<Cessation>) -> AnnualReviewInput {
    AnnualReviewInput {
        meeting_on: meeting,
        report_sent_on: None,
        decision: Some(ReviewDecision::Cease),
        decision_on: Some(meeting),
        amendments_proposed_on: None,
        amended_plan_issued_on: None,
        cease_reason: Some(reason),
        cessation,
    }
}

async fn an_amended_plan_is_due_by_the_earlier_of_its_two_rules(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let prompt = w.add(1, 100001).await;
    let slow = w.add(2, 100001).await;
    // Proposed a week after the meeting: due 8 weeks after the proposal (reg. 22(3)).
    let row = w
        .store
        .record_annual_review(&scope, &actor, prompt, &amending(d(2026, 1, 12), Some(d(2026, 1, 19)), None))
        .await
        .unwrap();
    assert_eq!((row.amendments_proposed_on, row.amended_plan_due), (Some(d(2026, 1, 19)), Some(d(2026, 3, 16))));
    // Proposed 5 weeks after: due 12 weeks after the meeting.
    let row = w
        .store
        .record_annual_review(&scope, &actor, slow, &amending(d(2026, 1, 12), Some(d(2026, 2, 16)), None))
        .await
        .unwrap();
    assert_eq!(row.amended_plan_due, Some(d(2026, 4, 6)));
    // Recording the issue later keeps the same review.
    let issued = w
        .store
        .record_annual_review(
            &scope,
            &actor,
            slow,
            &amending(d(2026, 1, 12), Some(d(2026, 2, 16)), Some(d(2026, 4, 1))),
        )
        .await
        .unwrap();
    assert_eq!((issued.id, issued.amended_plan_issued_on), (row.id, Some(d(2026, 4, 1))));
    assert_eq!(w.store.annual_reviews(&scope, &actor, slow).await.unwrap().len(), 1);
}

async fn amended_plans_are_late_from_the_day_after_their_due_date(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, _) = w.officer();
    let meeting = d(2026, 1, 12);
    let proposed = d(2026, 1, 19);
    let due = d(2026, 3, 16);
    let on_time = w.add(1, 100001).await;
    let on_the_day = w.add(2, 100001).await;
    let a_day_late = w.add(3, 100001).await;
    let not_issued = w.add(4, 100001).await;
    w.amend(on_time, meeting, Some(proposed), Some(d(2026, 3, 15))).await;
    w.amend(on_the_day, meeting, Some(proposed), Some(due)).await;
    w.amend(a_day_late, meeting, Some(proposed), Some(d(2026, 3, 17))).await;
    w.amend(not_issued, meeting, Some(proposed), None).await;
    assert_eq!(w.late(&scope, d(2026, 3, 15)).await, Vec::<i64>::new(), "the day before: nothing is late yet");
    assert_eq!(w.late(&scope, due).await, Vec::<i64>::new(), "the due day is still in time");
    let mut late = w.late(&scope, d(2026, 3, 17)).await;
    late.sort_unstable();
    assert_eq!(late, [a_day_late, not_issued], "the day after: the one issued late and the one not issued");
}

async fn leap_day_and_holiday_meetings_count_plain_calendar_weeks(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let leap = w.add(1, 100001).await;
    let summer = w.add(2, 100001).await;
    // A meeting on 29 February 2024, proposed 6 weeks later: due 12 weeks after the meeting.
    let row = w
        .store
        .record_annual_review(&scope, &actor, leap, &amending(d(2024, 2, 29), Some(d(2024, 4, 11)), None))
        .await
        .unwrap();
    assert_eq!(row.amended_plan_due, Some(d(2024, 5, 23)));
    // A meeting in the summer holidays: no date moves for the holidays.
    let row = w
        .store
        .record_annual_review(&scope, &actor, summer, &amending(d(2025, 8, 6), Some(d(2025, 8, 13)), None))
        .await
        .unwrap();
    assert_eq!(row.amended_plan_due, Some(d(2025, 10, 8)));
    assert_eq!(
        w.late(&scope, d(2025, 10, 8)).await,
        [leap],
        "the leap-day plan is overdue; the summer one is due today"
    );
    assert_eq!(w.late(&scope, d(2025, 10, 9)).await, [leap, summer]);
}

async fn late_amendments_are_listed_only_within_the_callers_reach(engine: Engine) {
    let w = World::new(engine).await;
    let ours = w.add(1, 100001).await;
    let theirs = w.add(2, 100002).await;
    w.amend(ours, d(2026, 1, 12), Some(d(2026, 1, 19)), None).await;
    w.amend(theirs, d(2026, 1, 12), Some(d(2026, 1, 19)), None).await;
    let today = d(2026, 6, 1);
    let (senco, _) = w.who(Role::Senco, "886", Some(100001));
    assert_eq!(w.late(&senco, today).await, [ours], "a SENCO sees their own school's pupils");
    let (other_school, _) = w.who(Role::Senco, "886", Some(100003));
    assert!(w.late(&other_school, today).await.is_empty(), "another school's SENCO sees none");
    let (other_la, _) = w.who(Role::CaseOfficer, "201", None);
    assert!(w.late(&other_la, today).await.is_empty(), "another authority sees none");
    let (ep, _) = w.who(Role::EducationalPsychologist, "886", None);
    assert!(w.late(&ep, today).await.is_empty(), "a psychologist with no case open sees none");
    let (team, _) = w.officer();
    assert_eq!(w.late(&team, today).await.len(), 2);
}

async fn ceasing_a_plan_moves_the_pupil_off_e_once_with_its_reason_and_history(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let pupil = w.add(1, 100001).await;
    let meeting = d(2026, 3, 2);
    let history_before = w.store.pupil_history(&scope, &actor, pupil).await.unwrap().len();
    // A decision to cease, not yet effective: the plan stays, the pupil stays on E.
    let decided = ceasing(meeting, CeaseReason::TransferredToAnotherLa, None);
    w.store.record_annual_review(&scope, &actor, pupil, &decided).await.unwrap();
    assert_eq!(w.store.get_pupil(&scope, &actor, pupil).await.unwrap().sen.status, SenStatus::EhcPlan);
    let ceased = ceasing(
        meeting,
        CeaseReason::TransferredToAnotherLa,
        Some(Cessation { ceased_on: d(2026, 4, 20), to: SenStatus::SenSupport }),
    );
    let row = w.store.record_annual_review(&scope, &actor, pupil, &ceased).await.unwrap();
    assert_eq!((row.cease_reason, row.ceased_on, row.ceased_to.as_deref()), (Some(5), Some(d(2026, 4, 20)), Some("K")));
    let after = w.store.get_pupil(&scope, &actor, pupil).await.unwrap();
    assert_eq!(after.sen.status, SenStatus::SenSupport);
    assert_eq!(after.sen.primary.map(|n| n.to_string()).as_deref(), Some("SLCN"), "K keeps the pupil's needs");
    let plan = w.store.ehcp(&scope, &actor, pupil).await.unwrap().ehcp;
    assert_eq!(
        (plan.status.as_str(), plan.ceased_on, plan.ceased_reason.as_deref()),
        ("ceased", Some(d(2026, 4, 20)), Some("SEN2 5: Transferred to another local authority"))
    );
    let history = w.store.pupil_history(&scope, &actor, pupil).await.unwrap();
    assert_eq!(history.len(), history_before + 1);
    assert_eq!((history[0].sen_status.as_str(), history[0].effective_on), ("K", d(2026, 4, 20)));
    assert!(history[0].reason.contains("SEN2 5"), "{}", history[0].reason);

    // A retry of the same call answers the same review and changes nothing.
    let again = w.store.record_annual_review(&scope, &actor, pupil, &ceased).await.unwrap();
    assert_eq!(again, row);
    assert_eq!(w.store.pupil_history(&scope, &actor, pupil).await.unwrap().len(), history_before + 1);
    assert_eq!(w.store.get_pupil(&scope, &actor, pupil).await.unwrap().version, after.version);
    // Anything else on a ceased plan is refused.
    let different =
        ceasing(meeting, CeaseReason::Other, Some(Cessation { ceased_on: d(2026, 4, 20), to: SenStatus::SenSupport }));
    let refused = w.store.record_annual_review(&scope, &actor, pupil, &different).await.unwrap_err();
    assert!(matches!(refused, Error::FailedPrecondition(_)), "{refused:?}");
}

async fn ceasing_to_no_sen_clears_the_needs(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let pupil = w.add(1, 100001).await;
    let ceased = ceasing(
        d(2026, 3, 2),
        CeaseReason::NeedsMetWithoutPlan,
        Some(Cessation { ceased_on: d(2026, 3, 30), to: SenStatus::NoSen }),
    );
    w.store.record_annual_review(&scope, &actor, pupil, &ceased).await.unwrap();
    let after = w.store.get_pupil(&scope, &actor, pupil).await.unwrap();
    assert_eq!((after.sen.status, after.sen.primary), (SenStatus::NoSen, None));
}

async fn a_review_of_a_pupil_out_of_reach_is_not_found_and_writes_nothing(engine: Engine) {
    let w = World::new(engine).await;
    let pupil = w.add(1, 100001).await;
    let ceased = ceasing(
        d(2026, 3, 2),
        CeaseReason::Deceased,
        Some(Cessation { ceased_on: d(2026, 3, 30), to: SenStatus::NoSen }),
    );
    for (role, tenant, school) in
        [(Role::CaseOfficer, "201", None), (Role::Senco, "886", Some(100002)), (Role::AdvisoryTeacher, "886", None)]
    {
        let (scope, actor) = w.who(role, tenant, school);
        let refused = w.store.record_annual_review(&scope, &actor, pupil, &ceased).await.unwrap_err();
        assert!(matches!(refused, Error::NotFound(_)), "{role:?} {tenant}: {refused:?}");
    }
    let (scope, actor) = w.officer();
    assert!(w.store.annual_reviews(&scope, &actor, pupil).await.unwrap().is_empty());
    assert_eq!(w.store.get_pupil(&scope, &actor, pupil).await.unwrap().sen.status, SenStatus::EhcPlan);
}

sen_platform::on_both_engines!(
    an_amended_plan_is_due_by_the_earlier_of_its_two_rules,
    amended_plans_are_late_from_the_day_after_their_due_date,
    leap_day_and_holiday_meetings_count_plain_calendar_weeks,
    late_amendments_are_listed_only_within_the_callers_reach,
    ceasing_a_plan_moves_the_pupil_off_e_once_with_its_reason_and_history,
    ceasing_to_no_sen_clears_the_needs,
    a_review_of_a_pupil_out_of_reach_is_not_found_and_writes_nothing,
);
