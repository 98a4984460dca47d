//! A referral's documents and the warning before a second open referral of one
//! kind, through the gateway over gRPC and JSON, on SQLite and PostgreSQL: a
//! SENCO attaches a document (once under a key), the council reads it, a file
//! that is not what it claims is refused naming the field with nothing stored,
//! and another school, another authority and a professional without the case
//! find nothing; a second open referral of a kind is refused naming the open
//! one until confirmed; a pupil is found by name; and a retried record of work
//! on a case is logged once.

use reqwest::StatusCode;
use sen_platform::identity::AttachBearer;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt;

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    musa: i64,
    referral: i64,
}

async fn world(engine: Engine) -> World {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    platform.pupil_on_support("886", 2, 100002, ("Zara", "Khan")).await;
    let referral = platform.accepted_referral_886(musa, "educational_psychology", "r-1").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, musa, referral }
}

impl World {
    fn token(&self, role: Role, tenant: &str, school: Option<u32>) -> String {
        self.platform.token(role, Some(tenant), school)
    }

    async fn referrals(&self, token: &str) -> Client {
        ReferralsServiceClient::new(self.gateway.bearer(token).await.expect("gateway"))
            .max_decoding_message_size(16 << 20)
    }
}

type Client = ReferralsServiceClient<InterceptedService<Channel, AttachBearer>>;

fn pieces(referral: i64, name: &str, key: &str, content: &[u8]) -> Vec<pb::UploadReferralAttachmentRequest> {
    let mut pieces: Vec<pb::UploadReferralAttachmentRequest> = content
        .chunks(64 * 1024)
        .map(|c| pb::UploadReferralAttachmentRequest { chunk: c.to_vec(), ..Default::default() })
        .collect();
    if pieces.is_empty() {
        pieces.push(Default::default());
    }
    pieces[0].referral_id = referral;
    pieces[0].file_name = name.into();
    pieces[0].idempotency_key = key.into();
    pieces
}

fn bad_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

async fn a_document_goes_up_once_and_comes_down_only_to_those_who_read_the_referral(engine: Engine) {
    let w = world(engine).await;
    let senco = w.token(Role::Senco, "886", Some(100001));
    let mut school = w.referrals(&senco).await;
    let content: Vec<u8> = [b"%PDF-1.7\n".as_slice(), &vec![b'x'; 200_000]].concat();
    let sent = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, "C:\\scans\\EP report.pdf", "d-1", &content)))
        .await
        .expect("attached")
        .into_inner();
    assert_eq!(
        (sent.file_name.as_str(), sent.kind.as_str(), sent.media_type.as_str()),
        ("EP report.pdf", "pdf", "application/pdf")
    );
    assert_eq!(sent.size_bytes, content.len() as i64);
    let again = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, "EP report.pdf", "d-1", &content)))
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(again.id, sent.id, "a retry is the same document");
    let other = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, "EP report.pdf", "d-1", b"%PDF-1.7 other")))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);

    let officer = w.token(Role::CaseOfficer, "886", None);
    let mut council = w.referrals(&officer).await;
    let list = pb::ListReferralAttachmentsRequest { referral_id: w.referral };
    assert_eq!(council.list_referral_attachments(list).await.expect("listed").into_inner().attachments.len(), 1);
    let get = pb::GetReferralAttachmentRequest { referral_id: w.referral, attachment_id: sent.id };
    let got = council.get_referral_attachment(get).await.expect("read").into_inner();
    assert_eq!(got.content, content, "the document comes down as it went up");

    for (token, who) in [
        (w.token(Role::Senco, "886", Some(100002)), "another school's SENCO"),
        (w.token(Role::CaseOfficer, "887", None), "another authority"),
        (w.token(Role::EducationalPsychologist, "886", None), "an EP without the case"),
    ] {
        let mut client = w.referrals(&token).await;
        let list = client.list_referral_attachments(pb::ListReferralAttachmentsRequest { referral_id: w.referral });
        assert_eq!(list.await.unwrap_err().code(), Code::NotFound, "{who}: list");
        let get = pb::GetReferralAttachmentRequest { referral_id: w.referral, attachment_id: sent.id };
        assert_eq!(client.get_referral_attachment(get).await.unwrap_err().code(), Code::NotFound, "{who}: read");
        let up = tokio_stream::iter(pieces(w.referral, "theirs.pdf", &format!("x-{who}"), b"%PDF-1.7"));
        assert_eq!(client.upload_referral_attachment(up).await.unwrap_err().code(), Code::NotFound, "{who}: attach");
    }
    let trail =
        sen_platform::walls::within_tenant("886", w.platform.referrals_store.audit_events(&tenant(&w.platform)))
            .await
            .expect("trail");
    let actions: Vec<&str> =
        trail.iter().filter(|e| e.referral_id == Some(w.referral as i32)).map(|e| e.action.as_str()).collect();
    for action in ["referral.attachment_added", "referral.attachment_list", "referral.attachment_read"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // The JSON API: the file as the body, the list, and one document with its content.
    let http = reqwest::Client::new();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let url = format!(
        "{}/api/v1/referrals/{}/attachments?file_name=scan.png&idempotency_key=j-1",
        w.gateway.url(),
        w.referral
    );
    let response = http.post(&url).bearer_auth(&senco).body(png.clone()).send().await.expect("json");
    assert_eq!(response.status(), StatusCode::OK);
    let made: serde_json::Value = response.json().await.expect("body");
    assert_eq!((made["kind"].as_str(), made["file_name"].as_str()), (Some("png"), Some("scan.png")));
    let listed: serde_json::Value = http
        .get(format!("{}/api/v1/referrals/{}/attachments", w.gateway.url(), w.referral))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("body");
    assert_eq!(listed["attachments"].as_array().map(Vec::len), Some(2));
    let one = http
        .get(format!("{}/api/v1/referrals/{}/attachments/{}", w.gateway.url(), w.referral, made["id"]))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json");
    assert_eq!(one.status(), StatusCode::OK);
    let one: serde_json::Value = one.json().await.expect("body");
    assert!(one["content"].as_str().is_some_and(|c| !c.is_empty()), "the content, base64: {one}");
}

fn tenant(platform: &TestPlatform) -> sen_platform::identity::TenantScope {
    let token = platform.token(Role::LaManager, Some("886"), None);
    platform.issuer.verifier.verify(&token).expect("identity").tenant_scope().expect("tenant scope")
}

async fn a_file_that_is_not_what_it_claims_is_refused_naming_the_field_and_nothing_is_stored(engine: Engine) {
    let w = world(engine).await;
    let senco = w.token(Role::Senco, "886", Some(100001));
    let mut school = w.referrals(&senco).await;
    let page = b"<html><script>alert(1)</script></html>";
    let refused = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, "report.pdf", "bad-1", page)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&refused), ["chunk"]);
    assert!(
        refused.message().contains("is not a PDF, Word document, JPEG image or PNG image"),
        "{}",
        refused.message()
    );
    let too_big: Vec<u8> = [b"%PDF-1.7".as_slice(), &vec![0u8; 10 * 1024 * 1024]].concat();
    let refused = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, "big.pdf", "bad-2", &too_big)))
        .await
        .unwrap_err();
    assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["chunk".to_owned()]));
    assert!(refused.message().contains("10 MB"), "{}", refused.message());
    let unnamed = school
        .upload_referral_attachment(tokio_stream::iter(pieces(w.referral, " ", "bad-3", b"%PDF-1.7")))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&unnamed), ["file_name"]);
    let list = pb::ListReferralAttachmentsRequest { referral_id: w.referral };
    assert!(school.list_referral_attachments(list).await.expect("listed").into_inner().attachments.is_empty());
}

fn ep_referral(pupil: i64, kind: &str) -> pb::ReferralBody {
    pb::ReferralBody {
        pupil_id: pupil,
        school_urn: "100001".into(),
        kind: kind.into(),
        broad_areas: vec!["cognition_and_learning".into()],
        concern: "Reading age three years behind".into(),
        graduated_approach: Some(pb::GraduatedApproach { summary: "Phonics".into(), ..Default::default() }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother".into(),
            given_on: Some(pb::Date { year: 2026, month: 11, day: 1 }),
            method: "email".into(),
        }),
        priority: "routine".into(),
    }
}

async fn a_second_open_referral_of_a_kind_is_sent_only_when_confirmed(engine: Engine) {
    let w = world(engine).await;
    let senco = w.token(Role::Senco, "886", Some(100001));
    let mut school = w.referrals(&senco).await;
    let submit = |key: &str, kind: &str, confirm: bool| pb::SubmitReferralRequest {
        referral: Some(ep_referral(w.musa, kind)),
        idempotency_key: key.into(),
        confirm_duplicate: confirm,
    };
    let warned = school.submit_referral(submit("second", "educational_psychology", false)).await.unwrap_err();
    assert_eq!(warned.code(), Code::FailedPrecondition);
    assert!(warned.message().contains(&format!("referral {}", w.referral)), "{}", warned.message());
    let named = warned.get_details_precondition_failure().expect("the open referral, as a detail");
    assert_eq!(named.violations[0].r#type, "OPEN_REFERRAL");
    assert_eq!(named.violations[0].subject, format!("referrals/{}", w.referral));
    let mut officer = w.referrals(&w.token(Role::CaseOfficer, "886", None)).await;
    let count = |list: pb::ListReferralsResponse| list.referrals.len();
    let before = count(officer.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner());
    assert_eq!(before, 1, "nothing was sent");
    school.submit_referral(submit("hearing", "advisory_teacher:sensory_hearing", false)).await.expect("another kind");
    let sent = school.submit_referral(submit("second", "educational_psychology", true)).await.expect("confirmed");
    let retried = school.submit_referral(submit("second", "educational_psychology", false)).await.expect("a retry");
    assert_eq!(retried.into_inner().id, sent.into_inner().id, "a retry of it is not warned of again");

    school.submit_referral(submit("ehc-1", "ehc_needs_assessment", false)).await.expect("the first request");
    let second_request = school.submit_referral(submit("ehc-2", "ehc_needs_assessment", true)).await.unwrap_err();
    assert_eq!(second_request.code(), Code::FailedPrecondition, "confirming never sends a second EHC request");
}

async fn a_pupil_is_found_by_name_and_a_retried_visit_is_logged_once(engine: Engine) {
    let w = world(engine).await;
    let mut pupils =
        PupilsServiceClient::new(w.gateway.bearer(&w.token(Role::Senco, "886", Some(100001))).await.expect("gw"));
    let search = |text: &str| pb::ListPupilsRequest { search: text.into(), ..Default::default() };
    let found = pupils.list_pupils(search("ali MUSA")).await.expect("found").into_inner().pupils;
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [w.musa]);
    assert!(pupils.list_pupils(search("zara")).await.expect("none").into_inner().pupils.is_empty(), "another school's");
    let refused = pupils.list_pupils(search(&"x".repeat(101))).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["search"]);

    let mut manager = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let professional = pb::CreateProfessionalRequest {
        professional: Some(pb::ProfessionalFields {
            person: "ep-lee".into(),
            name: "Dr Ana Lee".into(),
            role: "educational_psychologist:main_grade".into(),
            fte: 1.0,
            capacity_kind: "open_cases".into(),
            capacity: 10,
            active: true,
        }),
    };
    let p = manager.create_professional(professional).await.expect("professional").into_inner();
    let allocate = pb::AllocateCaseRequest {
        referral_id: w.referral,
        professional_id: p.id,
        idempotency_key: "a-1".into(),
        ..Default::default()
    };
    let case = manager.allocate_case(allocate).await.expect("allocated").into_inner();
    let mut ep = sen_proto::v1::caseloads_service_client::CaseloadsServiceClient::new(
        w.gateway.bearer(&w.platform.token_for("ep-lee", Role::EducationalPsychologist, "886")).await.expect("gw"),
    );
    let visit = pb::RecordCaseActivityRequest {
        case_id: case.id,
        on: Some(pb::Date { year: 2026, month: 11, day: 20 }),
        kind: "observation".into(),
        sessions: 1,
        note: "Observed in class".into(),
        idempotency_key: "v-1".into(),
    };
    let first = ep.record_case_activity(visit.clone()).await.expect("recorded").into_inner();
    let again = ep.record_case_activity(visit.clone()).await.expect("a retry").into_inner();
    assert_eq!(again.id, first.id);
    let other = pb::RecordCaseActivityRequest { note: "Met the parents".into(), ..visit };
    assert_eq!(ep.record_case_activity(other).await.unwrap_err().code(), Code::AlreadyExists);
    let log = ep.list_case_activity(pb::ListCaseActivityRequest { case_id: case.id }).await.expect("log").into_inner();
    assert_eq!(log.activity.len(), 1, "the visit is logged once");
}

sen_platform::on_both_engines!(
    a_document_goes_up_once_and_comes_down_only_to_those_who_read_the_referral,
    a_file_that_is_not_what_it_claims_is_refused_naming_the_field_and_nothing_is_stored,
    a_second_open_referral_of_a_kind_is_sent_only_when_confirmed,
    a_pupil_is_found_by_name_and_a_retried_visit_is_logged_once,
);
