//! Type-of-need codes as data, over real gRPC: a council adds a code the DfE
//! has published and records it on its pupils; another council neither sees nor
//! may use it; only the SEN manager adds one; an unknown code is refused naming
//! the field; the census rules (NSA only with SEN support) hold for every code.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

fn new_pupil(tenant: &str, serial: u32, urn: u32, status: pb::SenProvision, need: &str) -> pb::CreatePupilRequest {
    let upn = sen_pupils::domain::Upn::from_body(&format!("{tenant}200125{serial:03}")).expect("a UPN");
    pb::CreatePupilRequest {
        pupil: Some(pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: "Noor".into(),
            legal_surname: format!("Haddad{serial}"),
            date_of_birth: date(2017, 2, 2),
            school_urn: urn.to_string(),
            ..Default::default()
        }),
        sen_status: status as i32,
        primary_need_code: need.into(),
        ehcp: (status == pb::SenProvision::EhcPlan)
            .then(|| pb::EhcpFields { issued_on: date(2025, 1, 10), named_setting: "Its own school".into() }),
        ..Default::default()
    }
}

fn fasd() -> pb::AddNeedTypeRequest {
    pb::AddNeedTypeRequest {
        code: "FASD".into(),
        name: "Fetal alcohol spectrum disorder".into(),
        broad_area: pb::BroadArea::CognitionAndLearning as i32,
        sen_support_only: false,
        added_on: date(2026, 9, 1),
    }
}

async fn codes(client: &mut PupilsClient) -> Vec<String> {
    let answer = client.list_need_types(pb::ListNeedTypesRequest {}).await.expect("the codes").into_inner();
    answer.need_types.into_iter().map(|n| n.code).collect()
}

async fn a_council_adds_a_code_and_records_it_on_its_pupils_alone(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_of("887", 200001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let mut neighbour = platform.pupils(Role::LaManager, Some("887"), None).await;

    // Before: the national codes only, DS among them; FASD is refused by name.
    let national = codes(&mut senco).await;
    assert_eq!(national.len(), 14);
    assert!(national.contains(&"DS".to_owned()));
    let refused = senco.create_pupil(new_pupil("886", 1, 100001, pb::SenProvision::SenSupport, "FASD")).await;
    let refused = refused.unwrap_err();
    assert_eq!(bad_fields(&refused), ["primary_need_code"]);
    assert!(refused.message().contains("'FASD' is not a type of need"), "{}", refused.message());

    // The SEN manager adds it; every role of the council then sees it.
    let added = manager.add_need_type(fasd()).await.expect("added").into_inner();
    assert_eq!((added.code.as_str(), added.national, added.added_on), ("FASD", false, date(2026, 9, 1)));
    assert_eq!(added.broad_area, pb::BroadArea::CognitionAndLearning as i32);
    let listed = senco.list_need_types(pb::ListNeedTypesRequest {}).await.unwrap().into_inner().need_types;
    let own = listed.iter().find(|n| n.code == "FASD").expect("the SENCO sees the council's code");
    assert_eq!(own.name, "Fetal alcohol spectrum disorder");
    let ds = listed.iter().find(|n| n.code == "DS").expect("DS");
    assert!(ds.national && !ds.sen_support_only);
    assert!(listed.iter().any(|n| n.code == "NSA" && n.sen_support_only));

    // A SENCO records it on a pupil; it reads back and filters the list.
    let pupil = senco
        .create_pupil(new_pupil("886", 1, 100001, pb::SenProvision::SenSupport, "fasd"))
        .await
        .expect("the council's code is a need of its pupils")
        .into_inner();
    assert_eq!(pupil.primary_need_code, "FASD");
    let mut plan = new_pupil("886", 2, 100001, pb::SenProvision::EhcPlan, "ASD");
    plan.secondary_need_code = "FASD".into();
    assert_eq!(officer.create_pupil(plan).await.expect("with E too").into_inner().secondary_need_code, "FASD");
    let filter = pb::ListPupilsRequest { primary_need_code: "FASD".into(), ..Default::default() };
    let listed = officer.list_pupils(filter).await.unwrap().into_inner().pupils;
    assert_eq!(listed.iter().map(|p| p.id).collect::<Vec<_>>(), [pupil.id]);
    let history = officer.list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: pupil.id }).await.unwrap();
    assert_eq!(history.into_inner().entries[0].primary_need_code, "FASD");

    // Another council neither sees nor may use it, and may add its own.
    assert!(!codes(&mut neighbour).await.contains(&"FASD".to_owned()));
    let mut their_officer = platform.pupils(Role::CaseOfficer, Some("887"), None).await;
    let theirs = their_officer.create_pupil(new_pupil("887", 1, 200001, pb::SenProvision::SenSupport, "FASD")).await;
    assert_eq!(bad_fields(&theirs.unwrap_err()), ["primary_need_code"]);
    let filter = pb::ListPupilsRequest { primary_need_code: "FASD".into(), ..Default::default() };
    assert_eq!(bad_fields(&their_officer.list_pupils(filter).await.unwrap_err()), ["primary_need_code"]);
    neighbour.add_need_type(fasd()).await.expect("the neighbour adds its own");

    // The same code again is refused naming the field; a national one too.
    assert_eq!(bad_fields(&manager.add_need_type(fasd()).await.unwrap_err()), ["code"]);
    let ds = pb::AddNeedTypeRequest { code: "DS".into(), ..fasd() };
    assert_eq!(bad_fields(&manager.add_need_type(ds).await.unwrap_err()), ["code"]);
    assert_eq!(codes(&mut manager).await.len(), 15);
}

async fn only_the_sen_manager_adds_a_code(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let asked = [
        platform.pupils(Role::CaseOfficer, Some("886"), None).await,
        platform.pupils(Role::Senco, Some("886"), Some(100001)).await,
        platform.pupils(Role::EducationalPsychologist, Some("886"), None).await,
        platform.pupils(Role::AdvisoryTeacher, Some("886"), None).await,
        platform.pupils(Role::PlatformOperator, None, None).await,
    ];
    for mut client in asked {
        let refused = client.add_need_type(fasd()).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    assert!(!codes(&mut manager).await.contains(&"FASD".to_owned()), "nothing was added");
    let mut operator = platform.pupils(Role::PlatformOperator, None, None).await;
    assert_eq!(
        operator.list_need_types(pb::ListNeedTypesRequest {}).await.unwrap_err().code(),
        Code::PermissionDenied,
        "the codes are read by the roles of an authority"
    );
}

async fn unknown_codes_are_refused_and_nsa_stays_with_sen_support(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;

    let mut unknown = new_pupil("886", 1, 100001, pb::SenProvision::SenSupport, "ADHD");
    unknown.secondary_need_code = "XYZ".into();
    let refused = officer.create_pupil(unknown).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["primary_need_code", "secondary_need_code"]);

    // NSA: with K as a primary need, never with E nor as a secondary need.
    let nsa = officer
        .create_pupil(new_pupil("886", 2, 100001, pb::SenProvision::SenSupport, "NSA"))
        .await
        .expect("NSA with K")
        .into_inner();
    let refused = officer.create_pupil(new_pupil("886", 3, 100001, pb::SenProvision::EhcPlan, "NSA")).await;
    assert_eq!(bad_fields(&refused.unwrap_err()), ["primary_need_code"]);
    let to_plan = pb::ChangeSenStatusRequest {
        pupil_id: nsa.id,
        version: nsa.version,
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "NSA".into(),
        effective_on: date(2026, 11, 1),
        reason: "Plan issued".into(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2026, 11, 1), named_setting: "Its own school".into() }),
        ..Default::default()
    };
    assert_eq!(bad_fields(&officer.change_sen_status(to_plan).await.unwrap_err()), ["primary_need_code"]);
    let mut secondary = new_pupil("886", 4, 100001, pb::SenProvision::SenSupport, "MLD");
    secondary.secondary_need_code = "NSA".into();
    assert_eq!(bad_fields(&officer.create_pupil(secondary).await.unwrap_err()), ["secondary_need_code"]);

    // A council's code valid only with K follows the same rule.
    let only_k = pb::AddNeedTypeRequest {
        code: "SSA".into(),
        name: "Awaiting specialist assessment".into(),
        sen_support_only: true,
        ..Default::default()
    };
    manager.add_need_type(only_k).await.expect("added");
    officer.create_pupil(new_pupil("886", 5, 100001, pb::SenProvision::SenSupport, "SSA")).await.expect("with K");
    let refused = officer.create_pupil(new_pupil("886", 6, 100001, pb::SenProvision::EhcPlan, "SSA")).await;
    assert_eq!(bad_fields(&refused.unwrap_err()), ["primary_need_code"]);

    // A malformed code or a missing name is refused naming the field.
    for code in ["A", "TOOLONG", "ab", "A1"] {
        let asked = pb::AddNeedTypeRequest { code: code.into(), ..fasd() };
        assert_eq!(bad_fields(&manager.add_need_type(asked).await.unwrap_err()), ["code"], "{code}");
    }
    let unnamed = pb::AddNeedTypeRequest { name: String::new(), ..fasd() };
    assert_eq!(bad_fields(&manager.add_need_type(unnamed).await.unwrap_err()), ["name"]);
    let future = pb::AddNeedTypeRequest { added_on: date(2099, 1, 1), ..fasd() };
    assert_eq!(bad_fields(&manager.add_need_type(future).await.unwrap_err()), ["added_on"]);
}

sen_platform::on_both_engines!(
    a_council_adds_a_code_and_records_it_on_its_pupils_alone,
    only_the_sen_manager_adds_a_code,
    unknown_codes_are_refused_and_nsa_stays_with_sen_support,
);
