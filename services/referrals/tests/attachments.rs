//! The documents of a referral in the referrals store, on SQLite and PostgreSQL:
//! attached once under a key (a retry answers the first, another file under the
//! key is refused), listed without their content, read with it, only within the
//! reader's scope (another school, another authority, a professional without
//! the case find nothing), at most ten to an open referral, none to one that
//! has ended, each attachment audited in its transaction, and gone with the
//! pupil when they are forgotten; and the warning before a second open
//! referral of one kind for one pupil.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    BroadArea, Consent, ConsentMethod, Event, NewAttachment, NewReferral, Priority, ReferralKind, Tried,
};
use sen_referrals::error::Error;
use sen_referrals::store::Store;

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn referral(pupil: i64, kind: &str) -> NewReferral {
    NewReferral {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        kind: ReferralKind::parse(kind).unwrap(),
        broad_areas: vec![BroadArea::CognitionAndLearning],
        concern: "Reading well below peers despite support".into(),
        tried: Tried { summary: "Phonics catch-up".into(), cycles: vec![], provisions: vec![] },
        consent: Consent::new("Father, Tomasz Nowak", d(2026, 11, 1), ConsentMethod::Email, d(2026, 11, 24)).unwrap(),
        priority: Priority::Routine,
    }
}

fn pdf(text: &str) -> NewAttachment {
    NewAttachment::check("EP report.pdf", format!("%PDF-1.7\n{text}").into_bytes(), "file_name", "chunk").unwrap()
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, person: &str, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let grant = Grant {
            person: person.into(),
            role,
            tenant: LaCode::parse(tenant).ok(),
            school: school.map(|u| Urn::parse(&u.to_string()).unwrap()),
        };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    /// An educational psychology referral of school 100001 of 886 for pupil 7; its id.
    async fn referral(&self, key: &str) -> i64 {
        let (senco, actor) = self.who("senco-1", Role::Senco, "886", Some(100001));
        let (row, _) = self
            .store
            .submit(&senco, &actor, &referral(7, "educational_psychology"), key, d(2026, 11, 24))
            .await
            .unwrap();
        i64::from(row.id)
    }
}

async fn a_document_is_attached_once_and_read_only_within_reach(engine: Engine) {
    let w = World::new(engine).await;
    let id = w.referral("r1").await;
    let (senco, actor) = w.who("senco-1", Role::Senco, "886", Some(100001));
    let first = w.store.attach(&senco, &actor, id, &pdf("page one"), "doc-1").await.unwrap();
    assert_eq!(
        (first.kind.as_str(), first.file_name.as_str(), first.uploaded_by_role.as_str()),
        ("pdf", "EP report.pdf", "senco")
    );
    let again = w.store.attach(&senco, &actor, id, &pdf("page one"), "doc-1").await.unwrap();
    assert_eq!(again.id, first.id, "a retry answers the first upload");
    let other = w.store.attach(&senco, &actor, id, &pdf("another file"), "doc-1").await.unwrap_err();
    assert!(matches!(other, Error::AlreadyExists(_)), "{other:?}");
    let listed = w.store.attachments(&senco, id).await.unwrap();
    assert_eq!(listed.len(), 1, "one copy of a retried upload");
    let read = w.store.attachment(&senco, id, i64::from(first.id)).await.unwrap();
    assert_eq!(read.content, b"%PDF-1.7\npage one");

    let (officer, _) = w.who("officer", Role::CaseOfficer, "886", None);
    assert_eq!(w.store.attachments(&officer, id).await.unwrap().len(), 1, "the council reads the school's documents");
    for (outsider, why) in [
        (w.who("senco-2", Role::Senco, "886", Some(100002)).0, "another school"),
        (w.who("medway", Role::CaseOfficer, "887", None).0, "another authority"),
        (w.who("ep-1", Role::EducationalPsychologist, "886", None).0, "a professional without the case"),
    ] {
        assert!(matches!(w.store.attachments(&outsider, id).await, Err(Error::NotFound(_))), "{why}: list");
        let read = w.store.attachment(&outsider, id, i64::from(first.id)).await;
        assert!(matches!(read, Err(Error::NotFound(_))), "{why}: read");
        let (_, actor) = w.who("x", Role::CaseOfficer, "887", None);
        let attach = w.store.attach(&outsider, &actor, id, &pdf("theirs"), &format!("doc-{why}")).await;
        assert!(matches!(attach, Err(Error::NotFound(_))), "{why}: attach");
    }
    let wrong_referral = w.referral("r2").await;
    assert!(
        matches!(w.store.attachment(&senco, wrong_referral, i64::from(first.id)).await, Err(Error::NotFound(_))),
        "a document is read through its own referral only"
    );
    let trail = w.store.audit_events(officer.tenant()).await.unwrap();
    let added: Vec<_> = trail.iter().filter(|e| e.action == "referral.attachment_added").collect();
    assert_eq!(added.len(), 1, "one audit entry for one attachment");
    assert_eq!((added[0].person.as_str(), added[0].referral_id), ("senco-1", Some(id as i32)));
}

async fn a_referral_carries_ten_documents_while_it_is_open(engine: Engine) {
    let w = World::new(engine).await;
    let id = w.referral("r1").await;
    let (senco, actor) = w.who("senco-1", Role::Senco, "886", Some(100001));
    for n in 0..10 {
        w.store.attach(&senco, &actor, id, &pdf(&format!("page {n}")), &format!("doc-{n}")).await.unwrap();
    }
    let eleventh = w.store.attach(&senco, &actor, id, &pdf("one more"), "doc-10").await.unwrap_err();
    assert!(matches!(&eleventh, Error::FailedPrecondition(m) if m.contains("10 documents")), "{eleventh:?}");
    assert_eq!(w.store.attachments(&senco, id).await.unwrap().len(), 10);

    let ended = w.referral("r2").await;
    let row = w.store.get(&senco, ended).await.unwrap();
    w.store.change_status(&senco, &actor, ended, row.version, Event::Withdraw, "no longer needed").await.unwrap();
    let (officer, officer_actor) = w.who("officer", Role::CaseOfficer, "886", None);
    let refused = w.store.attach(&officer, &officer_actor, ended, &pdf("late"), "late").await.unwrap_err();
    assert!(matches!(&refused, Error::FailedPrecondition(m) if m.contains("withdrawn")), "{refused:?}");
    assert!(w.store.attachments(&officer, ended).await.unwrap().is_empty(), "nothing stored");
}

async fn forgetting_a_pupil_deletes_their_documents(engine: Engine) {
    let w = World::new(engine).await;
    let id = w.referral("r1").await;
    let (senco, actor) = w.who("senco-1", Role::Senco, "886", Some(100001));
    w.store.attach(&senco, &actor, id, &pdf("a"), "a").await.unwrap();
    w.store.attach(&senco, &actor, id, &pdf("b"), "b").await.unwrap();
    let (officer, _) = w.who("officer", Role::CaseOfficer, "886", None);
    let forgotten = w.store.forget_pupil(officer.tenant(), 7).await.unwrap();
    assert_eq!((forgotten.referrals, forgotten.attachments), (1, 2));
    let again = w.store.forget_pupil(officer.tenant(), 7).await.unwrap();
    assert_eq!((again.referrals, again.attachments), (0, 0));
}

async fn a_second_open_referral_of_a_kind_is_found_but_not_a_retry_nor_an_ended_one(engine: Engine) {
    let w = World::new(engine).await;
    let (senco, actor) = w.who("senco-1", Role::Senco, "886", Some(100001));
    let ep = referral(7, "educational_psychology");
    assert!(w.store.open_referral_like(&senco, &ep, "first").await.unwrap().is_none());
    let (first, _) = w.store.submit(&senco, &actor, &ep, "first", d(2026, 11, 24)).await.unwrap();
    assert!(w.store.open_referral_like(&senco, &ep, "first").await.unwrap().is_none(), "a retry is not a second");
    let open = w.store.open_referral_like(&senco, &ep, "second").await.unwrap().expect("the open one");
    assert_eq!(open.id, first.id);
    let other_kind = referral(7, "advisory_teacher:sensory_hearing");
    assert!(w.store.open_referral_like(&senco, &other_kind, "second").await.unwrap().is_none(), "another kind");
    let (other_school, _) = w.who("senco-2", Role::Senco, "886", Some(100002));
    assert!(
        w.store.open_referral_like(&other_school, &ep, "second").await.unwrap().is_none(),
        "another school is not told of it"
    );
    w.store.change_status(&senco, &actor, i64::from(first.id), first.version, Event::Withdraw, "").await.unwrap();
    assert!(w.store.open_referral_like(&senco, &ep, "second").await.unwrap().is_none(), "an ended one is not open");
}

sen_platform::on_both_engines!(
    a_document_is_attached_once_and_read_only_within_reach,
    a_referral_carries_ten_documents_while_it_is_open,
    forgetting_a_pupil_deletes_their_documents,
    a_second_open_referral_of_a_kind_is_found_but_not_a_retry_nor_an_ended_one,
);
