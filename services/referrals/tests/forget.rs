//! Forgetting a pupil erased at the end of their retention period, in the
//! referrals store, on both engines: every referral of the pupil goes with its
//! whole timeline, another pupil's and another authority's are untouched, and
//! forgetting again finds nothing.

use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{BroadArea, Consent, ConsentMethod, Event, NewReferral, Priority, ReferralKind, Tried};
use sen_referrals::entity::{referral, referral_event};
use sen_referrals::error::Error;
use sen_referrals::store::{Forgotten, Store};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn who(issuer: &DevIssuer, person: &str, role: Role, tenant: &str) -> (Scope, Actor) {
    let grant = Grant { person: person.into(), role, tenant: LaCode::parse(tenant).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    (identity.scope().unwrap(), identity.actor())
}

fn referral_of(pupil: i64, kind: &str) -> NewReferral {
    NewReferral {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        kind: ReferralKind::parse(kind).unwrap(),
        broad_areas: vec![BroadArea::CognitionAndLearning],
        concern: "Reading well below peers despite support".into(),
        tried: Tried { summary: "Phonics catch-up".into(), cycles: vec![], provisions: vec![] },
        consent: Consent::new("Mother, Ada Byron", d(2026, 11, 1), ConsentMethod::Email, d(2026, 11, 24)).unwrap(),
        priority: Priority::Routine,
    }
}

async fn forgetting_a_pupil_removes_their_referrals_and_timelines_and_nothing_else(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let rows = Database::connect(&db.url).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let (kent, officer) = who(&issuer, "o", Role::CaseOfficer, "886");
    let (medway, medway_officer) = who(&issuer, "m", Role::CaseOfficer, "887");
    let today = d(2026, 11, 24);

    let (first, _) =
        store.submit(&kent, &officer, &referral_of(70, "educational_psychology"), "k1", today).await.unwrap();
    store.change_status(&kent, &officer, i64::from(first.id), 1, Event::Accept, "Agreed").await.unwrap();
    let (second, _) =
        store.submit(&kent, &officer, &referral_of(70, "ehc_needs_assessment"), "k2", today).await.unwrap();
    let (other_pupil, _) =
        store.submit(&kent, &officer, &referral_of(80, "educational_psychology"), "k3", today).await.unwrap();
    let (other_authority, _) =
        store.submit(&medway, &medway_officer, &referral_of(70, "educational_psychology"), "k1", today).await.unwrap();
    let entries =
        |id: i32| referral_event::Entity::find().filter(referral_event::Column::ReferralId.eq(id)).count(&rows);
    let timelines = entries(first.id).await.unwrap() + entries(second.id).await.unwrap();
    assert!(timelines >= 3, "the referrals have timelines to forget: {timelines}");

    let (service, _) = who(&issuer, "caseloads", Role::Service, "886");
    let forgotten = store.forget_pupil(service.tenant(), 70).await.unwrap();
    assert_eq!(forgotten, Forgotten { referrals: 2, timeline_entries: timelines, attachments: 0 });
    for gone in [&first, &second] {
        assert!(matches!(store.get(&kent, i64::from(gone.id)).await, Err(Error::NotFound(_))), "referral {}", gone.id);
        assert_eq!(entries(gone.id).await.unwrap(), 0, "timeline of referral {}", gone.id);
    }
    assert_eq!(store.timeline(&kent, i64::from(other_pupil.id)).await.unwrap().len(), 1, "another pupil's is kept");
    assert_eq!(store.get(&medway, i64::from(other_authority.id)).await.unwrap().pupil_id, 70, "887's pupil 70 is kept");
    let left = referral::Entity::find().filter(referral::Column::PupilId.eq(70)).count(&rows).await.unwrap();
    assert_eq!(left, 1, "only the other authority's pupil 70 keeps a referral");

    let again = store.forget_pupil(service.tenant(), 70).await.unwrap();
    assert_eq!(again, Forgotten::default(), "forgetting again finds nothing");
}

sen_platform::on_both_engines!(forgetting_a_pupil_removes_their_referrals_and_timelines_and_nothing_else);
