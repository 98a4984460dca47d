//! The council overview's referral figures read from the tallies that triggers
//! keep (migration `m20270214_000011_referral_tallies`) are the figures judged
//! request by request, as the statutory clock report and the referral
//! statistics worked them out before: on every day around every deadline, for
//! every referral status at every stage of the clock, with late outcomes and
//! exceptions, and still after clock steps and status changes through the store,
//! statements changing many rows at once, a pupil's erasure, bulk inserts and
//! (PostgreSQL) `COPY`, as `sen generate` loads. Each authority sees its own.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, TimeDelta};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Iterable, TransactionTrait};
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, CalendarMonth, ClockDates, ClockException, ClockHealth, Consent, ConsentMethod,
    NewReferral, PlanDecision, Priority, ReferralKind, Specialism, Stage, Status, Timeliness, Tried, allowed_events,
    health, months_ending, stage, timeliness, timeliness_in,
};
use sen_referrals::entity::referral;
use sen_referrals::store::{OpenClockFigures, ReferralFilter, SeedReferral, Store, clock_dates};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn plus(day: NaiveDate, days: i64) -> NaiveDate {
    day + TimeDelta::days(days)
}

/// The days requests are received on: 9 days apart, so their deadlines fall on
/// different weekdays.
fn received_days() -> Vec<NaiveDate> {
    (0..4).map(|i| plus(d(2026, 3, 2), 9 * i)).collect()
}

/// Every day from before the first request to well past the last one's 20
/// weeks: each deadline's day before, day and day after among them.
fn judged_days() -> Vec<NaiveDate> {
    let first = plus(d(2026, 3, 2), -1);
    (0..200).map(|n| plus(first, n)).collect()
}

fn who(issuer: &DevIssuer, tenant: &str) -> (Scope, Actor) {
    let grant =
        Grant { person: "officer".into(), role: Role::CaseOfficer, tenant: LaCode::parse(tenant).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(600)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    (identity.scope().unwrap(), identity.actor())
}

fn new_referral(pupil: i64, kind: ReferralKind) -> NewReferral {
    NewReferral {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        kind,
        broad_areas: vec![BroadArea::CommunicationAndInteraction],
        concern: "Very limited expressive language".into(),
        tried: Tried { summary: "Two cycles of language work".into(), cycles: vec![], provisions: vec![] },
        consent: Consent::new("Mother", d(2026, 1, 2), ConsentMethod::SignedForm, d(2026, 1, 6)).unwrap(),
        priority: Priority::Routine,
    }
}

/// The shapes of a request's dates received on `r`: every stage, outcomes on
/// their last day and the day after, plans issued on, before and after the
/// 20-week day, with and without an exception.
fn shapes(r: NaiveDate) -> Vec<ClockDates> {
    let received = ClockDates {
        received_on: r,
        assessment_decision: None,
        plan_decision: None,
        final_plan_issued_on: None,
        exception: None,
    };
    let assess = ClockDates { assessment_decision: Some((AssessmentDecision::Assess, plus(r, 30))), ..received };
    let issue = ClockDates { plan_decision: Some((PlanDecision::Issue, plus(r, 100))), ..assess };
    let issued = |day: i64, exception| ClockDates { final_plan_issued_on: Some(plus(r, day)), exception, ..issue };
    vec![
        received,
        ClockDates { assessment_decision: Some((AssessmentDecision::NotAssess, plus(r, 42))), ..received },
        ClockDates { assessment_decision: Some((AssessmentDecision::NotAssess, plus(r, 43))), ..received },
        assess,
        ClockDates { plan_decision: Some((PlanDecision::NotIssue, plus(r, 112))), ..assess },
        ClockDates { plan_decision: Some((PlanDecision::NotIssue, plus(r, 113))), ..assess },
        issue,
        ClockDates { exception: Some(ClockException::PersonalCircumstances), ..issue },
        issued(139, None),
        issued(140, None),
        issued(141, None),
        issued(120, Some(ClockException::SchoolHoliday)),
        issued(160, Some(ClockException::AbsentFromArea)),
    ]
}

/// Every status at every shape for each day received, each request for its own
/// pupil, and referrals of the other kinds in every status over four months.
fn every_case() -> Vec<SeedReferral> {
    let mut seeds = Vec::new();
    let mut pupil = 0;
    let mut next = || {
        pupil += 1;
        pupil
    };
    for r in received_days() {
        for dates in shapes(r) {
            for status in Status::ALL {
                let path =
                    if status == Status::Submitted { vec![] } else { vec![(status, plus(r, 5), "case_officer")] };
                seeds.push(SeedReferral {
                    new: new_referral(next(), ReferralKind::EhcNeedsAssessment),
                    submitted_on: r,
                    path,
                    allocated_to: None,
                    outcome: (!status.is_open()).then(|| format!("{} for the test", status.name())),
                    clock: Some(dates),
                });
            }
        }
    }
    let kinds = [ReferralKind::EducationalPsychology, ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing)];
    for (n, status) in Status::ALL.into_iter().enumerate() {
        for kind in kinds {
            for month in 1..=4 {
                let submitted_on = d(2026, month, 1 + u32::try_from(n * 3).unwrap());
                seeds.push(SeedReferral {
                    new: new_referral(next(), kind),
                    submitted_on,
                    path: if status == Status::Submitted {
                        vec![]
                    } else {
                        vec![(status, submitted_on, "case_officer")]
                    },
                    allocated_to: None,
                    outcome: (!status.is_open()).then(|| "done".into()),
                    clock: None,
                });
            }
        }
    }
    seeds
}

/// The figures of one authority that do not depend on the day judged.
#[derive(Debug, PartialEq)]
struct Figures {
    by_status: BTreeMap<&'static str, u32>,
    submitted: Vec<(NaiveDate, String, u32)>,
    plans_by_month: Vec<(CalendarMonth, Timeliness)>,
    plans_by_year: Vec<(i32, Timeliness)>,
}

/// The months the figures cover: every month any test data falls in.
fn months() -> Vec<CalendarMonth> {
    months_ending(d(2027, 3, 31), 18)
}

fn years() -> [i32; 2] {
    [2026, 2027]
}

fn window() -> std::ops::RangeInclusive<NaiveDate> {
    let months = months();
    months[0].first_day()..=months[months.len() - 1].last_day()
}

/// The figures worked out from every referral and request of the authority,
/// as the service did before the tallies.
async fn judged(store: &Store, scope: &Scope) -> (Figures, Vec<(Status, ClockDates)>) {
    let rows = store.list_every(scope, &ReferralFilter::default()).await.unwrap();
    let mut by_status = BTreeMap::new();
    let mut submitted: BTreeMap<(NaiveDate, String), u32> = BTreeMap::new();
    for row in &rows {
        *by_status.entry(Status::parse(&row.status).unwrap().code()).or_default() += 1;
        if window().contains(&row.submitted_on) {
            *submitted
                .entry((CalendarMonth::containing(row.submitted_on).first_day(), row.kind.clone()))
                .or_default() += 1;
        }
    }
    let requests = store.statutory_requests(scope.tenant()).await.unwrap();
    let cases: Vec<(Status, ClockDates)> = requests
        .iter()
        .filter_map(|row| clock_dates(row).unwrap().map(|dates| (Status::parse(&row.status).unwrap(), dates)))
        .collect();
    let plans: Vec<ClockDates> = cases.iter().map(|(_, dates)| *dates).collect();
    let figures = Figures {
        by_status,
        submitted: submitted.into_iter().map(|((on, kind), n)| (on, kind, n)).collect(),
        plans_by_month: months().into_iter().map(|m| (m, timeliness_in(&plans, m.days()))).collect(),
        plans_by_year: years().into_iter().map(|y| (y, timeliness(&plans, y))).collect(),
    };
    (figures, cases)
}

/// The same figures read from the tallies.
async fn tallied(store: &Store, scope: &Scope) -> Figures {
    let tenant = scope.tenant();
    let by_month = store.plan_timeliness_by_month(tenant, window()).await.unwrap();
    let mut plans_by_year = Vec::new();
    for year in years() {
        plans_by_year.push((year, store.plan_timeliness(tenant, d(year, 1, 1)..=d(year, 12, 31)).await.unwrap()));
    }
    Figures {
        by_status: store.status_counts(tenant).await.unwrap().into_iter().map(|(s, n)| (s.code(), n)).collect(),
        submitted: store
            .submissions_per_month(tenant, window())
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.on, s.kind.code(), s.count))
            .collect(),
        plans_by_month: months()
            .into_iter()
            .map(|m| (m, by_month.get(&m).copied().unwrap_or(Timeliness::NONE)))
            .collect(),
        plans_by_year,
    }
}

/// How the requests stand on `today`, judged one by one.
fn judged_open(cases: &[(Status, ClockDates)], today: NaiveDate) -> OpenClockFigures {
    let mut figures = OpenClockFigures::default();
    for (status, dates) in cases {
        match health(*status, dates, today) {
            None => {}
            Some(state) => {
                figures.open += 1;
                match state {
                    ClockHealth::AtRisk => figures.at_risk += 1,
                    ClockHealth::Breached => figures.breached += 1,
                    ClockHealth::OnTrack => {}
                }
            }
        }
    }
    figures
}

/// Fails unless the tallied figures of `tenant` equal the judged ones, on every
/// day of [`judged_days`]; answers the judged figures.
async fn agree(store: &Store, issuer: &DevIssuer, tenant: &str, when: &str) -> Figures {
    let (scope, _) = who(issuer, tenant);
    let (figures, cases) = judged(store, &scope).await;
    assert_eq!(tallied(store, &scope).await, figures, "{tenant} {when}: the tallies and the judged figures");
    for today in judged_days() {
        let from_tallies = store.open_clock_figures(scope.tenant(), today).await.unwrap();
        assert_eq!(from_tallies, judged_open(&cases, today), "{tenant} {when}, as of {today}");
    }
    figures
}

async fn load(store: &Store, issuer: &DevIssuer, tenant: &str, seeds: &[SeedReferral]) {
    let (scope, _) = who(issuer, tenant);
    let loading = store.load_referrals(scope.tenant(), "tester", seeds);
    sen_platform::walls::within_tenant(tenant, loading).await.unwrap();
}

/// Runs `sql` in one transaction open to every tenant, as a bulk job would.
async fn statement(db: &DatabaseConnection, sql: &str) -> u64 {
    let txn = db.begin().await.unwrap();
    sen_platform::walls::open_transaction_to_every_tenant(&txn).await.unwrap();
    let changed = txn.execute_unprepared(sql).await.unwrap().rows_affected();
    txn.commit().await.unwrap();
    changed
}

/// The referrals table's columns but the id, with `la_code` and the
/// idempotency key given by the caller's expressions, for a copy into another authority.
fn copied_columns(la_code: &str, key_prefix: &str) -> (String, String) {
    let names: Vec<String> = referral::Column::iter()
        .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
        .filter(|name| name != "id")
        .collect();
    let values = names
        .iter()
        .map(|name| match name.as_str() {
            "la_code" => format!("'{la_code}'"),
            "idempotency_key" => format!("'{key_prefix}' || idempotency_key"),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    (names.join(", "), values)
}

async fn the_tallied_figures_are_the_judged_figures_through_every_change(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let raw = Database::connect(&db.url).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let seeds = every_case();
    load(&store, &issuer, "886", &seeds).await;
    // Another authority with half as much: each sees its own.
    load(&store, &issuer, "887", &seeds[..seeds.len() / 2]).await;
    let ours = agree(&store, &issuer, "886", "loaded").await;
    let theirs = agree(&store, &issuer, "887", "loaded").await;
    assert_ne!(ours, theirs, "the two authorities' figures differ");
    assert!(ours.plans_by_year[0].1.excluded_exceptions > 0 && ours.plans_by_year[0].1.issued > 0);
    assert!(ours.plans_by_year[0].1.within_20_weeks < ours.plans_by_year[0].1.issued, "some plans are late");
    let (scope, actor) = who(&issuer, "886");
    let some_day = store.open_clock_figures(scope.tenant(), plus(d(2026, 3, 2), 50)).await.unwrap();
    assert!(some_day.open > 0 && some_day.at_risk > 0 && some_day.breached > 0, "{some_day:?}");

    // Clock steps and status changes through the store, one referral at a time.
    let requests = store.statutory_requests(scope.tenant()).await.unwrap();
    let (mut steps, mut moves) = (0, 0);
    for row in requests.iter().step_by(3) {
        let (status, dates) = (Status::parse(&row.status).unwrap(), clock_dates(row).unwrap().unwrap());
        let id = i64::from(row.id);
        let r = dates.received_on;
        let done = match stage(status, &dates) {
            Stage::AwaitingAssessmentDecision => {
                store
                    .record_assessment_decision(&scope, &actor, id, None, AssessmentDecision::Assess, plus(r, 41))
                    .await
            }
            Stage::Assessing => {
                store.record_plan_decision(&scope, &actor, id, None, PlanDecision::Issue, plus(r, 110)).await
            }
            Stage::AwaitingFinalPlan => store.record_final_plan_issued(&scope, &actor, id, None, plus(r, 141)).await,
            Stage::PlanIssued if dates.exception.is_some() => {
                store.record_clock_exception(&scope, &actor, id, None, None).await
            }
            _ => {
                let exception = sen_referrals::store::ExceptionRecord {
                    exception: ClockException::MissedAppointment,
                    on: plus(r, 20),
                    note: "did not attend".into(),
                };
                store.record_clock_exception(&scope, &actor, id, None, Some(exception)).await
            }
        };
        done.unwrap();
        steps += 1;
    }
    for row in requests.iter().skip(1).step_by(4) {
        let fresh = store.get(&scope, i64::from(row.id)).await.unwrap();
        if let Some(event) = allowed_events(Status::parse(&fresh.status).unwrap()).first() {
            store
                .change_status(&scope, &actor, i64::from(fresh.id), fresh.version, *event, "for the test")
                .await
                .unwrap();
            moves += 1;
        }
    }
    assert!(steps > 50 && moves > 20, "{steps} steps, {moves} moves");
    agree(&store, &issuer, "886", "after clock steps and status changes").await;

    // Statements changing many referrals at once.
    let withdrawn = statement(
        &raw,
        "UPDATE referrals SET status = 'withdrawn' \
         WHERE la_code = '886' AND status IN ('submitted', 'accepted', 'allocated', 'in_progress') AND id % 2 = 0",
    )
    .await;
    let cleared =
        statement(&raw, "UPDATE referrals SET clock_exception = NULL WHERE la_code = '886' AND clock_exception IS NOT NULL AND id % 3 = 0").await;
    assert!(withdrawn > 10 && cleared > 5, "{withdrawn} withdrawn, {cleared} cleared");
    agree(&store, &issuer, "886", "after updates of many rows").await;
    agree(&store, &issuer, "887", "after another authority's updates").await;

    // Erasure: a pupil's referrals go.
    for pupil in (1..120).step_by(7) {
        store.forget_pupil(scope.tenant(), pupil).await.unwrap();
    }
    agree(&store, &issuer, "886", "after erasures").await;
    // A statement deleting many.
    statement(
        &raw,
        "DELETE FROM referral_events WHERE la_code = '887' AND referral_id IN \
         (SELECT id FROM referrals WHERE la_code = '887' AND id % 5 = 0 AND final_plan_issued_on IS NULL)",
    )
    .await;
    let deleted =
        statement(&raw, "DELETE FROM referrals WHERE la_code = '887' AND id % 5 = 0 AND final_plan_issued_on IS NULL")
            .await;
    assert!(deleted > 10);
    agree(&store, &issuer, "887", "after a delete of many").await;

    // A bulk insert: one statement adding every referral of 887 to 888.
    let (columns, values) = copied_columns("888", "bulk-");
    let added = statement(
        &raw,
        &format!("INSERT INTO referrals ({columns}) SELECT {values} FROM referrals WHERE la_code = '887'"),
    )
    .await;
    let theirs = agree(&store, &issuer, "887", "after the bulk insert").await;
    let copied = agree(&store, &issuer, "888", "bulk inserted").await;
    assert!(added > 100);
    assert_eq!((copied.by_status, copied.plans_by_year), (theirs.by_status, theirs.plans_by_year));

    if engine == Engine::Postgres {
        copy_in(&db.url, &columns).await;
        let copied = agree(&store, &issuer, "889", "loaded by COPY").await;
        assert_eq!(copied.submitted, theirs.submitted);
    }
    agree(&store, &issuer, "886", "at the end").await;
}

/// Copies 887's referrals into 889 with PostgreSQL's `COPY … FROM STDIN`, as
/// `sen generate` loads.
async fn copy_in(url: &str, columns: &str) {
    use sea_orm::sqlx::Connection;
    use sea_orm::sqlx::postgres::PgConnection;
    let mut conn = PgConnection::connect(url).await.unwrap();
    sea_orm::sqlx::query("SELECT set_config('sen.tenant', '*', false)").execute(&mut conn).await.unwrap();
    let (_, values) = copied_columns("889", "copy-");
    let mut out = conn
        .copy_out_raw(&format!("COPY (SELECT {values} FROM referrals WHERE la_code = '887') TO STDOUT"))
        .await
        .unwrap();
    let mut text = Vec::new();
    while let Some(chunk) = tokio_stream::StreamExt::next(&mut out).await {
        text.extend_from_slice(&chunk.unwrap());
    }
    drop(out);
    let mut copy = conn.copy_in_raw(&format!("COPY referrals ({columns}) FROM STDIN")).await.unwrap();
    copy.send(text).await.unwrap();
    let rows = copy.finish().await.unwrap();
    assert!(rows > 100, "{rows} rows copied");
}

/// The referrals stored before the upgrade are counted by it.
async fn the_upgrade_counts_the_referrals_already_stored(engine: Engine) {
    use sea_orm_migration::MigratorTrait;
    use sen_referrals::migration::Migrator;
    let db = TestDatabase::create(engine).await.unwrap();
    let conn = Database::connect(&db.url).await.unwrap();
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20270214_000011_referral_tallies")
        .expect("the tallies' migration");
    Migrator::up(&conn, Some(u32::try_from(before).unwrap())).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let seeds = every_case();
    let old = Store::from_connection(conn.clone());
    load(&old, &issuer, "886", &seeds).await;
    load(&old, &issuer, "887", &seeds[..seeds.len() / 3]).await;
    Migrator::up(&conn, None).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let ours = agree(&store, &issuer, "886", "counted by the upgrade").await;
    let theirs = agree(&store, &issuer, "887", "counted by the upgrade").await;
    assert_ne!(ours, theirs);
}

sen_platform::on_both_engines!(
    the_tallied_figures_are_the_judged_figures_through_every_change,
    the_upgrade_counts_the_referrals_already_stored,
);

#[test]
fn the_test_days_cover_each_deadline_of_each_request() {
    let days = judged_days();
    for r in received_days() {
        for offset in [28, 43, 98, 112, 126, 140, 141] {
            for day in [plus(r, offset - 1), plus(r, offset), plus(r, offset + 1)] {
                assert!(days.contains(&day), "{day} ({r} + {offset})");
            }
        }
    }
    assert!(received_days().iter().all(|r| r.year() == 2026));
}
