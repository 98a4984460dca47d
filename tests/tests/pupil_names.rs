//! The names of the pupils a page shows, asked in one call: `ListPupils` by
//! `ids` answers the pupils the caller may see among those asked for, in the
//! caller's own scope, audits the read as a list, and names a bad `ids` field.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::platform::TestPlatform;
use tonic::Code;

fn by_ids(ids: &[i64]) -> pb::ListPupilsRequest {
    let page = pb::PageRequest { page_size: 500, page_token: String::new() };
    pb::ListPupilsRequest { ids: ids.to_vec(), page: Some(page), ..Default::default() }
}

fn names(pupils: &[pb::Pupil]) -> Vec<String> {
    let mut names: Vec<String> = pupils.iter().map(|p| p.legal_forename.clone()).collect();
    names.sort();
    names
}

async fn the_pupils_asked_for_come_back_within_the_callers_scope(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let ada = platform.pupil_on_support("886", 2, 100001, ("Ada", "Obi")).await;
    let zara = platform.pupil_on_support("886", 3, 100002, ("Zara", "Khan")).await;

    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let answer = officer.list_pupils(by_ids(&[musa, zara, 999_999])).await.expect("listed").into_inner();
    assert_eq!(names(&answer.pupils), ["Musa", "Zara"], "those asked for that exist, and no more");

    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let answer = senco.list_pupils(by_ids(&[musa, ada, zara])).await.expect("listed").into_inner();
    assert_eq!(names(&answer.pupils), ["Ada", "Musa"], "another school's pupil is left out");

    let ep = platform.token_for("ep-nobody", Role::EducationalPsychologist, "886");
    let answer = platform.pupils_as(&ep).await.list_pupils(by_ids(&[musa])).await.expect("listed").into_inner();
    assert!(answer.pupils.is_empty(), "a professional without the case sees nobody");
    let mut medway = platform.pupils(Role::CaseOfficer, Some("887"), None).await;
    let answer = medway.list_pupils(by_ids(&[musa, ada, zara])).await.expect("listed").into_inner();
    assert!(answer.pupils.is_empty(), "another authority sees nobody");

    // Each pupil shown is a read of their record, audited as a list.
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let trail = |pupil| pb::ListAuditEventsRequest { page: None, pupil_id: pupil };
    let zaras = manager.list_audit_events(trail(zara)).await.expect("audit").into_inner().events;
    let listed: Vec<&str> = zaras.iter().filter(|e| e.action == "pupil.list").map(|e| e.role.as_str()).collect();
    assert_eq!(listed, ["case_officer"], "the officer's list read Zara; the SENCO's did not");
}

async fn a_bad_list_of_ids_is_named_and_reads_nothing(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let too_many: Vec<i64> = (1..=501).collect();
    for ids in [too_many, vec![musa, 0], vec![-4], vec![i64::MAX]] {
        let refused = officer.list_pupils(by_ids(&ids)).await.expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(refused.message().contains("ids"), "{}", refused.message());
    }
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let trail = pb::ListAuditEventsRequest { page: None, pupil_id: musa };
    let events = manager.list_audit_events(trail).await.expect("audit").into_inner().events;
    assert!(!events.iter().any(|e| e.action == "pupil.list"), "nothing was read: {events:?}");
}

sen_platform::on_both_engines!(
    the_pupils_asked_for_come_back_within_the_callers_scope,
    a_bad_list_of_ids_is_named_and_reads_nothing,
);
