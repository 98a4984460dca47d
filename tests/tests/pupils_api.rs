//! The pupils service over real gRPC, with the schools service beside it: who
//! sees which child, what bad input gets back, concurrent editors, the status
//! history, annual reviews, phase transfers, statistics and the audit log.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// A UPN with a correct check letter for establishment 2001 and `serial`.
fn upn(serial: u32) -> String {
    sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("valid body").as_str().to_owned()
}

fn fields(serial: u32, urn: u32, born: (i32, i32, i32)) -> pb::PupilFields {
    pb::PupilFields {
        upn: upn(serial),
        legal_forename: "Amara".into(),
        legal_surname: format!("Okafor{serial}"),
        preferred_forename: String::new(),
        preferred_surname: String::new(),
        date_of_birth: date(born.0, born.1, born.2),
        school_urn: urn.to_string(),
        nc_year_override: String::new(),
        looked_after: false,
    }
}

async fn add(client: &mut PupilsClient, fields: pb::PupilFields, status: pb::SenProvision, need: &str) -> pb::Pupil {
    let ehcp = (status == pb::SenProvision::EhcPlan)
        .then(|| pb::EhcpFields { issued_on: date(2025, 1, 10), named_setting: "Oakfield Primary".into() });
    let request = pb::CreatePupilRequest {
        pupil: Some(fields),
        sen_status: status as i32,
        primary_need_code: need.into(),
        secondary_need_code: String::new(),
        ehcp,
    };
    client.create_pupil(request).await.expect("pupil created").into_inner()
}

async fn visible(client: &mut PupilsClient) -> Vec<i64> {
    let response = client.list_pupils(pb::ListPupilsRequest::default()).await.expect("listed").into_inner();
    response.pupils.into_iter().map(|p| p.id).collect()
}

async fn get(client: &mut PupilsClient, id: i64) -> Result<pb::Pupil, Code> {
    client.get_pupil(pb::GetPupilRequest { id }).await.map(|r| r.into_inner()).map_err(|s| s.code())
}

async fn each_role_sees_only_the_pupils_it_may(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 300).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let a = add(&mut officer, fields(1, 100001, (2017, 3, 4)), pb::SenProvision::SenSupport, "SLCN").await;
    let b = add(&mut officer, fields(2, 100002, (2016, 5, 6)), pb::SenProvision::EhcPlan, "ASD").await;
    assert_eq!(visible(&mut officer).await, [a.id, b.id]);

    let mut medway = platform.pupils(Role::LaManager, Some("887"), None).await;
    assert_eq!(get(&mut medway, a.id).await, Err(Code::NotFound));
    assert!(visible(&mut medway).await.is_empty());

    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(visible(&mut senco).await, [a.id]);
    assert_eq!(get(&mut senco, b.id).await, Err(Code::NotFound));
    let history = senco.list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: b.id }).await.unwrap_err();
    assert_eq!(history.code(), Code::NotFound);
    let ehcp = senco.get_ehcp(pb::GetEhcpRequest { pupil_id: b.id, as_of: None }).await.unwrap_err();
    assert_eq!(ehcp.code(), Code::NotFound);

    let ep = platform.token_for("ep-jones", Role::EducationalPsychologist, "886");
    let mut psychologist = platform.pupils_as(&ep).await;
    assert!(visible(&mut psychologist).await.is_empty());
    assert_eq!(get(&mut psychologist, b.id).await, Err(Code::NotFound));
    let mut caseloads = platform.pupils(Role::Service, Some("886"), None).await;
    let grant = pb::GrantCaseAccessRequest { pupil_id: b.id, person: "ep-jones".into(), case_ref: "C-1".into() };
    caseloads.grant_case_access(grant.clone()).await.unwrap();
    caseloads.grant_case_access(grant).await.expect("granting again is harmless");
    assert_eq!(visible(&mut psychologist).await, [b.id]);
    assert_eq!(get(&mut psychologist, b.id).await.map(|p| p.id), Ok(b.id));
    let other_ep = platform.token_for("ep-smith", Role::EducationalPsychologist, "886");
    assert!(visible(&mut platform.pupils_as(&other_ep).await).await.is_empty(), "grants are per person");
    let revoke = pb::RevokeCaseAccessRequest { pupil_id: b.id, person: "ep-jones".into(), case_ref: "C-1".into() };
    caseloads.revoke_case_access(revoke).await.unwrap();
    assert_eq!(get(&mut psychologist, b.id).await, Err(Code::NotFound));

    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let grant = pb::GrantCaseAccessRequest { pupil_id: a.id, person: "ep-jones".into(), case_ref: "C-2".into() };
    assert_eq!(manager.grant_case_access(grant).await.unwrap_err().code(), Code::PermissionDenied);
    let review = pb::RecordAnnualReviewRequest { pupil_id: b.id, meeting_on: date(2026, 10, 1), ..Default::default() };
    assert_eq!(senco.record_annual_review(review).await.unwrap_err().code(), Code::PermissionDenied);
    let create = pb::CreatePupilRequest { pupil: Some(fields(3, 100001, (2017, 1, 1))), ..Default::default() };
    assert_eq!(psychologist.create_pupil(create).await.unwrap_err().code(), Code::PermissionDenied);
    let mut operator = platform.pupils(Role::PlatformOperator, None, None).await;
    assert_eq!(get(&mut operator, a.id).await, Err(Code::PermissionDenied));
    let audit = officer.list_audit_events(pb::ListAuditEventsRequest::default()).await.unwrap_err();
    assert_eq!(audit.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn each_role_sees_only_the_pupils_it_may_on_sqlite() {
    each_role_sees_only_the_pupils_it_may(Engine::Sqlite).await;
}

#[tokio::test]
async fn each_role_sees_only_the_pupils_it_may_on_postgres() {
    each_role_sees_only_the_pupils_it_may(Engine::Postgres).await;
}

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut bad = fields(1, 100001, (2027, 1, 1));
    bad.upn = "A801200005001".into();
    bad.legal_forename = " ".into();
    bad.school_urn = "12".into();
    bad.nc_year_override = "Year 15".into();
    let request = pb::CreatePupilRequest {
        pupil: Some(bad),
        sen_status: pb::SenProvision::SenSupport as i32,
        primary_need_code: String::new(),
        secondary_need_code: String::new(),
        ehcp: None,
    };
    let err = officer.create_pupil(request).await.unwrap_err();
    assert_eq!(
        bad_fields(&err),
        [
            "pupil.upn",
            "pupil.legal_forename",
            "pupil.date_of_birth",
            "pupil.school_urn",
            "pupil.nc_year_override",
            "primary_need_code"
        ]
    );
    assert!(err.message().contains("check letter"), "{}", err.message());

    let no_plan = pb::CreatePupilRequest {
        pupil: Some(fields(2, 100001, (2017, 1, 1))),
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        ..Default::default()
    };
    assert_eq!(bad_fields(&officer.create_pupil(no_plan).await.unwrap_err()), ["ehcp"]);

    let elsewhere =
        pb::CreatePupilRequest { pupil: Some(fields(3, 999999, (2017, 1, 1))), sen_status: 1, ..Default::default() };
    assert_eq!(bad_fields(&officer.create_pupil(elsewhere).await.unwrap_err()), ["pupil.school_urn"]);
    // A name that would display as another (a right-to-left override, a
    // zero-width space) is refused, naming the field and the character.
    let mut disguised = fields(5, 100001, (2017, 1, 1));
    disguised.legal_forename = "Ada\u{202E}ecalevoL".into();
    disguised.preferred_surname = "Love\u{200B}lace".into();
    let disguised = pb::CreatePupilRequest { pupil: Some(disguised), sen_status: 1, ..Default::default() };
    let refused = officer.create_pupil(disguised).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["pupil.legal_forename", "pupil.preferred_surname"]);
    assert!(refused.message().contains("U+202E") && refused.message().contains("U+200B"), "{}", refused.message());
    assert!(visible(&mut officer).await.is_empty(), "nothing was written");

    let pupil = add(&mut officer, fields(4, 100001, (2017, 1, 1)), pb::SenProvision::NoSen, "").await;
    let again =
        pb::CreatePupilRequest { pupil: Some(fields(4, 100001, (2017, 1, 1))), sen_status: 1, ..Default::default() };
    assert_eq!(
        officer.create_pupil(again).await.unwrap_err().code(),
        Code::AlreadyExists,
        "UPNs are unique in the authority"
    );
    // A SENCO of another school adding the same pupil learns only that they cannot.
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 200).await;
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100002)).await;
    let elsewhere =
        pb::CreatePupilRequest { pupil: Some(fields(4, 100002, (2017, 1, 1))), sen_status: 1, ..Default::default() };
    let refused = senco.create_pupil(elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    let upn = fields(4, 100001, (2017, 1, 1)).upn;
    assert!(
        !refused.message().contains(&upn) && !refused.message().contains("authority's register"),
        "the school is not told the pupil is known elsewhere: {}",
        refused.message()
    );
    assert!(refused.message().contains("ask the council"), "{}", refused.message());
    let nsa_with_plan = pb::ChangeSenStatusRequest {
        pupil_id: pupil.id,
        version: pupil.version,
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "NSA".into(),
        secondary_need_code: "NSA".into(),
        effective_on: date(2026, 11, 1),
        reason: String::new(),
        ehcp: None,
    };
    assert_eq!(
        bad_fields(&officer.change_sen_status(nsa_with_plan).await.unwrap_err()),
        ["primary_need_code", "reason"]
    );
    let history = officer.list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: pupil.id }).await.unwrap();
    assert_eq!(history.into_inner().entries.len(), 1, "only the addition is recorded");
}

#[tokio::test]
async fn saving_over_someone_elses_change_is_aborted() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut alice = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut bob = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let read = add(&mut alice, fields(1, 100001, (2017, 1, 1)), pb::SenProvision::NoSen, "").await;
    let mut renamed = fields(1, 100001, (2017, 1, 1));
    renamed.preferred_forename = "Mara".into();
    let update = |f: pb::PupilFields| pb::UpdatePupilRequest { id: read.id, version: read.version, pupil: Some(f) };
    let saved = alice.update_pupil(update(renamed.clone())).await.unwrap().into_inner();
    assert_eq!(saved.version, read.version + 1);
    let mut other = renamed.clone();
    other.looked_after = true;
    assert_eq!(bob.update_pupil(update(other)).await.unwrap_err().code(), Code::Aborted);
    let stale_status = pb::ChangeSenStatusRequest {
        pupil_id: read.id,
        version: read.version,
        sen_status: pb::SenProvision::SenSupport as i32,
        primary_need_code: "SEMH".into(),
        effective_on: date(2026, 11, 2),
        reason: "Teacher assessment".into(),
        ..Default::default()
    };
    assert_eq!(bob.change_sen_status(stale_status).await.unwrap_err().code(), Code::Aborted);
    let now = get(&mut bob, read.id).await.unwrap();
    assert_eq!(
        (now.preferred_forename.as_str(), now.looked_after, now.sen_status),
        ("Mara", false, pb::SenProvision::NoSen as i32)
    );
}

#[tokio::test]
async fn status_changes_keep_their_history_and_a_plan_opens_and_ceases_with_e() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 300).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let pupil = add(&mut officer, fields(1, 100001, (2017, 1, 1)), pb::SenProvision::SenSupport, "SLCN").await;
    let to_e = pb::ChangeSenStatusRequest {
        pupil_id: pupil.id,
        version: pupil.version,
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        secondary_need_code: "SLCN".into(),
        effective_on: date(2026, 9, 15),
        reason: "Plan issued after assessment".into(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2026, 9, 15), named_setting: "School 2001".into() }),
    };
    let pupil = officer.change_sen_status(to_e).await.unwrap().into_inner();
    let plan = officer.get_ehcp(pb::GetEhcpRequest { pupil_id: pupil.id, as_of: None }).await.unwrap().into_inner();
    assert_eq!((plan.status, plan.next_review_due), (pb::EhcpStatus::Active as i32, date(2027, 9, 15)));

    let mut moved = fields(1, 100002, (2017, 1, 1));
    moved.looked_after = false;
    let pupil = officer
        .update_pupil(pb::UpdatePupilRequest { id: pupil.id, version: pupil.version, pupil: Some(moved) })
        .await
        .unwrap()
        .into_inner();
    let mut old_senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(get(&mut old_senco, pupil.id).await, Err(Code::NotFound), "the old school no longer sees them");
    let mut new_senco = platform.pupils(Role::Senco, Some("886"), Some(100002)).await;
    let back_to_k = pb::ChangeSenStatusRequest {
        pupil_id: pupil.id,
        version: pupil.version,
        sen_status: pb::SenProvision::SenSupport as i32,
        primary_need_code: "ASD".into(),
        effective_on: date(2026, 11, 20),
        reason: "Plan ceased: needs met through SEN support".into(),
        ..Default::default()
    };
    new_senco.change_sen_status(back_to_k).await.unwrap();
    let plan = new_senco.get_ehcp(pb::GetEhcpRequest { pupil_id: pupil.id, as_of: None }).await.unwrap().into_inner();
    assert_eq!((plan.status, plan.ceased_on), (pb::EhcpStatus::Ceased as i32, date(2026, 11, 20)));
    let entries = new_senco
        .list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: pupil.id })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<i32> = entries.iter().map(|e| e.kind).collect();
    use pb::HistoryKind::*;
    assert_eq!(
        kinds,
        [SenStatus as i32, SchoolMove as i32, SenStatus as i32, Added as i32],
        "most recently recorded first, all kept across the move"
    );
    assert_eq!(entries[0].changed_by_role, "senco");
    assert_eq!(entries[3].school_urn, "100001");
}

#[tokio::test]
async fn annual_reviews_flag_late_steps_and_set_the_next_review() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let pupil = add(&mut officer, fields(1, 100001, (2018, 1, 1)), pb::SenProvision::EhcPlan, "ASD").await;
    let due = officer
        .list_annual_reviews_due(pb::ListAnnualReviewsDueRequest { window_days: 30, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(due.reviews.len(), 1, "issued 2025-01-10, its first review was due 2026-01-10");
    assert!(due.reviews[0].overdue);

    let review = pb::RecordAnnualReviewRequest {
        pupil_id: pupil.id,
        meeting_on: date(2026, 10, 1),
        report_sent_on: date(2026, 10, 20),
        decision: 0,
        decision_on: None,
        ..Default::default()
    };
    let recorded = officer.record_annual_review(review).await.unwrap().into_inner();
    assert_eq!((recorded.report_due, recorded.report_late), (date(2026, 10, 15), true));
    assert_eq!((recorded.decision_due, recorded.decision_late), (date(2026, 10, 29), true));
    let decided = pb::RecordAnnualReviewRequest {
        pupil_id: pupil.id,
        meeting_on: date(2026, 10, 1),
        report_sent_on: date(2026, 10, 12),
        decision: pb::ReviewDecision::Maintain as i32,
        decision_on: date(2026, 10, 27),
        ..Default::default()
    };
    let recorded = officer.record_annual_review(decided).await.unwrap().into_inner();
    assert!(!recorded.report_late && !recorded.decision_late, "recording again updates the same meeting");
    let plan = officer.get_ehcp(pb::GetEhcpRequest { pupil_id: pupil.id, as_of: None }).await.unwrap().into_inner();
    assert_eq!(
        (plan.last_annual_review_on, plan.next_review_due, plan.review_overdue),
        (date(2026, 10, 1), date(2027, 10, 1), false)
    );
    let due = officer
        .list_annual_reviews_due(pb::ListAnnualReviewsDueRequest { window_days: 30, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(due.reviews.is_empty());
    let reviews =
        officer.list_annual_reviews(pb::ListAnnualReviewsRequest { pupil_id: pupil.id, as_of: None }).await.unwrap();
    assert_eq!(reviews.into_inner().reviews.len(), 1);
}

#[tokio::test]
async fn phase_transfers_are_listed_with_their_deadlines_and_rating() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100003, "4001", pb::Phase::Secondary, (11, 16), 900).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    // Year 6 in 2026/27 (born September 2015 – August 2016): primary to secondary by 15 February 2027.
    let year6 = add(&mut officer, fields(1, 100001, (2015, 10, 1)), pb::SenProvision::EhcPlan, "ASD").await;
    // Year 11: to post-16 by 31 March 2027.
    let year11 = add(&mut officer, fields(2, 100003, (2010, 10, 1)), pb::SenProvision::EhcPlan, "SEMH").await;
    // Born for Year 7 but taught in Year 6 at the primary school: transfers with Year 6.
    let mut held_back = fields(3, 100001, (2014, 10, 1));
    held_back.nc_year_override = "6".into();
    let out_of_cohort = add(&mut officer, held_back, pb::SenProvision::EhcPlan, "MLD").await;
    // Year 5: no transfer this year.
    add(&mut officer, fields(4, 100001, (2016, 10, 1)), pb::SenProvision::EhcPlan, "SLCN").await;

    let list =
        officer.list_transitions_due(pb::ListTransitionsDueRequest::default()).await.unwrap().into_inner().transitions;
    let rows: Vec<(i64, String, Option<pb::Date>, i32, i32)> = list
        .iter()
        .map(|t| {
            let tr = t.transfer.clone().unwrap_or_default();
            (t.pupil.as_ref().map_or(0, |p| p.id), tr.kind, tr.deadline, tr.days_left, tr.rag)
        })
        .collect();
    assert_eq!(
        rows,
        [
            (year6.id, "primary_to_secondary".into(), date(2027, 2, 15), 83, pb::Rag::Amber as i32),
            (out_of_cohort.id, "primary_to_secondary".into(), date(2027, 2, 15), 83, pb::Rag::Amber as i32),
            (year11.id, "secondary_to_post16".into(), date(2027, 3, 31), 127, pb::Rag::Green as i32),
        ]
    );

    let decision = pb::RecordTransferDecisionRequest {
        pupil_id: year6.id,
        next_setting: "Northmoor Academy".into(),
        amended_plan_issued_on: date(2026, 11, 20),
        ..Default::default()
    };
    let plan = officer.record_transfer_decision(decision).await.unwrap().into_inner();
    let transfer = plan.transfer.unwrap_or_default();
    assert_eq!((transfer.next_setting.as_str(), transfer.rag), ("Northmoor Academy", pb::Rag::Green as i32));

    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100003)).await;
    let own = senco.list_transitions_due(pb::ListTransitionsDueRequest::default()).await.unwrap().into_inner();
    assert_eq!(own.transitions.iter().map(|t| t.pupil.as_ref().map_or(0, |p| p.id)).collect::<Vec<_>>(), [year11.id]);
}

#[tokio::test]
async fn register_statistics_count_by_school_need_and_year() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 100).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    add(&mut officer, fields(1, 100001, (2015, 10, 1)), pb::SenProvision::EhcPlan, "ASD").await;
    add(&mut officer, fields(2, 100001, (2015, 11, 1)), pb::SenProvision::SenSupport, "SLCN").await;
    add(&mut officer, fields(3, 100001, (2016, 10, 1)), pb::SenProvision::SenSupport, "SLCN").await;
    add(&mut officer, fields(4, 100002, (2016, 10, 1)), pb::SenProvision::NoSen, "").await;
    let stats = officer.get_register_stats(pb::GetRegisterStatsRequest::default()).await.unwrap().into_inner();
    let first = stats.schools.iter().find(|s| s.school_urn == "100001").cloned().unwrap_or_default();
    assert_eq!((first.number_on_roll, first.pupils_recorded, first.sen_support, first.ehc_plan), (200, 3, 2, 1));
    assert_eq!((first.sen_support_percent, first.ehc_plan_percent), (1.0, 0.5));
    let needs: Vec<(String, u32)> = first.by_primary_need.iter().map(|c| (c.key.clone(), c.count)).collect();
    assert_eq!(needs, [("ASD".to_owned(), 1), ("SLCN".to_owned(), 2)]);
    let years: Vec<(String, u32)> = first.by_nc_year.iter().map(|c| (c.key.clone(), c.count)).collect();
    assert_eq!(years, [("5".to_owned(), 1), ("6".to_owned(), 2)]);
    let authority = stats.authority.unwrap_or_default();
    assert_eq!(
        (authority.number_on_roll, authority.pupils_recorded, authority.sen_support, authority.ehc_plan),
        (300, 4, 2, 1)
    );
    assert_eq!(stats.national.map(|n| n.sen_support_percent), Some(14.2));

    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100002)).await;
    let own = senco.get_register_stats(pb::GetRegisterStatsRequest::default()).await.unwrap().into_inner();
    assert_eq!(own.schools.iter().map(|s| s.school_urn.as_str()).collect::<Vec<_>>(), ["100002"]);
    assert_eq!(own.authority.map(|a| a.pupils_recorded), Some(1));
}

#[tokio::test]
async fn support_cycles_provision_and_every_read_are_recorded() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let pupil = add(&mut senco, fields(1, 100001, (2017, 3, 3)), pb::SenProvision::SenSupport, "SPLD").await;
    let cycle = pb::AddSupportCycleRequest {
        pupil_id: pupil.id,
        started_on: date(2026, 9, 8),
        outcomes_sought: "Reads age-appropriate texts with 90% accuracy".into(),
        planned_provision: "Precision teaching, 3 x 15 minutes a week".into(),
        review_due: date(2026, 11, 20),
    };
    let cycle = senco.add_support_cycle(cycle).await.unwrap().into_inner();
    assert!(cycle.review_overdue, "review date 20 November has passed on 24 November");
    let overdue =
        senco.list_support_reviews_overdue(pb::ListSupportReviewsOverdueRequest::default()).await.unwrap().into_inner();
    assert_eq!(overdue.reviews.iter().map(|r| r.days_overdue).collect::<Vec<_>>(), [4]);
    let review = pb::RecordSupportReviewRequest {
        cycle_id: cycle.id,
        reviewed_on: date(2026, 11, 23),
        outcome: pb::SupportOutcome::PartlyMet as i32,
        review_notes: "Accuracy up from 70% to 84%".into(),
    };
    senco.record_support_review(review).await.unwrap();
    let overdue =
        senco.list_support_reviews_overdue(pb::ListSupportReviewsOverdueRequest::default()).await.unwrap().into_inner();
    assert!(overdue.reviews.is_empty());

    let provision = pb::AddProvisionRequest {
        pupil_id: pupil.id,
        provision_type: "Precision teaching".into(),
        provider: "School".into(),
        hours_per_week: 0.75,
        start_on: date(2026, 9, 8),
        end_on: None,
    };
    let provision = senco.add_provision(provision).await.unwrap().into_inner();
    assert_eq!(provision.hours_per_week, 0.75);
    senco
        .end_provision(pb::EndProvisionRequest { provision_id: provision.id, end_on: date(2026, 11, 23) })
        .await
        .unwrap();
    let listed = senco.list_provision(pb::ListProvisionRequest { pupil_id: pupil.id }).await.unwrap().into_inner();
    assert_eq!(listed.provision[0].end_on, date(2026, 11, 23));

    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let events = manager
        .list_audit_events(pb::ListAuditEventsRequest { pupil_id: pupil.id, page: None })
        .await
        .unwrap()
        .into_inner()
        .events;
    let actions: Vec<(&str, &str)> = events.iter().map(|e| (e.action.as_str(), e.role.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("provision.read", "senco"),
            ("provision.end", "senco"),
            ("provision.add", "senco"),
            ("support.review", "senco"),
            ("support.overdue_list", "senco"),
            ("support.add_cycle", "senco"),
            ("pupil.create", "senco"),
        ]
    );
    assert!(events.iter().all(|e| e.person == "test-senco" && !e.at.is_empty()));
    // The second overdue list showed no pupil, so it read no record and wrote no entry.
}
