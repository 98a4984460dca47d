//! The SENCO's pages over HTTP, through the real gateway and services, on SQLite
//! and PostgreSQL: the register opens on the SEN register; a support cycle's
//! review is recorded (bad input named, nothing written; another school's
//! SENCO cannot); the referral form finds the pupil by name or UPN, cites their
//! support cycles, warns of an open referral of the same kind and carries
//! documents (a file that is not what it claims refused, nothing stored); a
//! returned referral shows what the council needs beside the form; a document
//! downloads only for those who may read the referral; and the dashboard and
//! the school page follow the live feed.

use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF";

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    /// Musa Ali (K) at 100001 (beside Nia Patel, N); Zara Khan (K) at 100002.
    musa: i64,
    zara: i64,
    /// An open support cycle of Musa's, and one of Zara's.
    musa_cycle: i64,
    zara_cycle: i64,
}

async fn world(engine: Engine) -> World {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let zara = platform.pupil_on_support("886", 2, 100002, ("Zara", "Khan")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let upn = sen_pupils::domain::Upn::from_body("886200125003").expect("a UPN");
    let nia = pb::CreatePupilRequest {
        pupil: Some(pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: "Nia".into(),
            legal_surname: "Patel".into(),
            date_of_birth: Some(pb::Date { year: 2017, month: 3, day: 3 }),
            school_urn: "100001".into(),
            ..Default::default()
        }),
        sen_status: pb::SenProvision::NoSen as i32,
        ..Default::default()
    };
    officer.create_pupil(nia).await.expect("Nia");
    let cycle = |pupil: i64| {
        let request = pb::AddSupportCycleRequest {
            pupil_id: pupil,
            started_on: Some(pb::Date { year: 2026, month: 9, day: 7 }),
            outcomes_sought: "Reads a book band higher".into(),
            planned_provision: "Phonics, 3 times a week".into(),
            review_due: Some(pb::Date { year: 2026, month: 12, day: 11 }),
        };
        let mut client = officer.clone();
        async move { client.add_support_cycle(request).await.expect("cycle").into_inner().id }
    };
    let (musa_cycle, zara_cycle) = (cycle(musa).await, cycle(zara).await);
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, musa, zara, musa_cycle, zara_cycle }
}

impl World {
    async fn senco(&self, urn: u32) -> Client {
        self.gateway.web_client(Role::Senco, Some("886"), Some(urn)).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn post(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.gateway.csrf(client, "/referrals").await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        client.post(format!("{}{path}", self.gateway.url())).form(&fields).send().await.expect("answer")
    }

    /// Posts a form with files (`(input, file name, content)`), the CSRF token first.
    async fn post_files(
        &self,
        client: &Client,
        path: &str,
        form: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let csrf = self.gateway.csrf(client, "/referrals").await;
        let mut body = Form::new().text("csrf", csrf);
        for (name, value) in form {
            body = body.text(name.to_string(), value.to_string());
        }
        for (input, name, content) in files {
            body = body.part(input.to_string(), Part::bytes(content.to_vec()).file_name(name.to_string()));
        }
        client.post(format!("{}{path}", self.gateway.url())).multipart(body).send().await.expect("answer")
    }

    async fn referrals(&self) -> Vec<pb::Referral> {
        let mut officer = self.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
        officer.list_referrals(pb::ListReferralsRequest::default()).await.expect("listed").into_inner().referrals
    }

    async fn documents(&self, referral: i64) -> Vec<pb::ReferralAttachment> {
        let mut officer = self.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
        let request = pb::ListReferralAttachmentsRequest { referral_id: referral };
        officer.list_referral_attachments(request).await.expect("listed").into_inner().attachments
    }

    async fn cycle(&self, pupil: i64, id: i64) -> pb::SupportCycle {
        let mut officer = self.platform.pupils(Role::CaseOfficer, Some("886"), None).await;
        let cycles =
            officer.list_support_cycles(pb::ListSupportCyclesRequest { pupil_id: pupil }).await.expect("cycles");
        cycles.into_inner().cycles.into_iter().find(|c| c.id == id).expect("the cycle")
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned()
}

/// A complete referral of `pupil` for educational psychology, as the form sends it.
fn referral_form(pupil: &str, key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("idempotency_key", key.to_owned()),
        ("pupil_id", pupil.to_owned()),
        ("kind", "educational_psychology".to_owned()),
        ("broad_areas", "cognition_and_learning".to_owned()),
        ("concern", "Reading well below his peers".to_owned()),
        ("graduated_approach", "A term of phonics, reviewed".to_owned()),
        ("consent_given_by", "Mother, Amina Ali".to_owned()),
        ("consent_given_on", "10/11/2026".to_owned()),
        ("consent_method", "signed_form".to_owned()),
        ("priority", "routine".to_owned()),
    ]
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

async fn the_register_opens_on_the_sen_register_and_shows_everyone_on_request(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let (status, html) = w.get(&senco, "/register").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Musa Ali") && !html.contains("Nia Patel"), "K and E only: {html}");
    assert!(html.contains("on the SEN register") && html.contains("href=\"/register?sen_status=all\""), "{html}");
    let (_, all) = w.get(&senco, "/register?sen_status=all").await;
    assert!(all.contains("Musa Ali") && all.contains("Nia Patel") && !all.contains("Zara"), "everyone on roll: {all}");
    let (_, none) = w.get(&senco, "/register?sen_status=N").await;
    assert!(none.contains("Nia Patel") && !none.contains("Musa Ali"), "one status");
    assert!(!html.contains("Download CSV"), "a list naming pupils downloads for the council's team only");
    let csv = senco.get(format!("{}/register?format=csv", w.gateway.url())).send().await.expect("csv");
    assert_eq!(csv.status(), StatusCode::FORBIDDEN);
    let (_, theirs) = w.get(&w.senco(100002).await, "/register").await;
    assert!(theirs.contains("Zara Khan") && !theirs.contains("Musa"), "another school's SENCO sees their own");
    let ep = w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    assert_eq!(w.get(&ep, "/register").await.0, StatusCode::FORBIDDEN);
}

async fn a_senco_records_a_support_cycles_review_and_another_school_cannot(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let (_, pupil) = w.get(&senco, &format!("/pupils/{}", w.musa)).await;
    let review = format!("/pupils/{}/support-cycles/{}/review", w.musa, w.musa_cycle);
    assert!(pupil.contains(&format!("href=\"{review}\"")), "the open cycle offers its review: {pupil}");
    let (status, form) = w.get(&senco, &review).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Reads a book band higher") && form.contains("id=\"outcome\""), "{form}");
    assert!(form.contains("For example, 27/3/2026"), "the date's hint shows how to write it");

    let bad = w.post(&senco, &review, &[("reviewed_on", "31/2/2026"), ("review_notes", "x")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let html = bad.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#reviewed_on\"") && html.contains("must be a real date"), "{html}");
    assert!(html.contains("href=\"#outcome\"") && html.contains("Choose whether the outcomes sought were met"));
    let early = w.post(&senco, &review, &[("reviewed_on", "1/9/2026"), ("outcome", "met")]).await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST, "before the cycle began");
    assert!(early.text().await.unwrap_or_default().contains("before the cycle began"));
    assert!(w.cycle(w.musa, w.musa_cycle).await.reviewed_on.is_none(), "nothing written");

    let other = w.senco(100002).await;
    assert_eq!(w.get(&other, &review).await.0, StatusCode::NOT_FOUND, "another school's SENCO");
    let theirs = w.post(&other, &review, &[("reviewed_on", "2026-11-20"), ("outcome", "met")]).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let wrong_pupil = format!("/pupils/{}/support-cycles/{}/review", w.musa, w.zara_cycle);
    assert_eq!(w.get(&senco, &wrong_pupil).await.0, StatusCode::NOT_FOUND, "a cycle through another pupil");
    assert!(w.cycle(w.musa, w.musa_cycle).await.reviewed_on.is_none());

    let done = w
        .post(
            &senco,
            &review,
            &[("reviewed_on", "20/11/2026"), ("outcome", "partly_met"), ("review_notes", "Next: SALT")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(location(&done).starts_with(&format!("/pupils/{}?done=reviewed", w.musa)));
    let cycle = w.cycle(w.musa, w.musa_cycle).await;
    assert_eq!(cycle.reviewed_on, Some(pb::Date { year: 2026, month: 11, day: 20 }));
    assert_eq!(cycle.outcome, pb::SupportOutcome::PartlyMet as i32);
    let (_, page) = w.get(&senco, &format!("/pupils/{}?done=reviewed", w.musa)).await;
    assert!(page.contains("Support cycle review recorded") && page.contains("outcomes partly met"), "{page}");
    let again = senco.get(format!("{}{review}", w.gateway.url())).send().await.expect("answer");
    assert_eq!(again.status(), StatusCode::SEE_OTHER, "a reviewed cycle sends the reader back to the pupil");
    assert_eq!(location(&again), format!("/pupils/{}", w.musa));
}

async fn the_referral_form_finds_the_pupil_by_name_or_upn_and_cites_their_support(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let (_, blank) = w.get(&senco, "/referrals/new").await;
    assert!(blank.contains("id=\"pupil_search\"") && !blank.contains("Musa"), "no list of every pupil: {blank}");
    let found = w.post_files(&senco, "/referrals/new", &[("action", "find"), ("pupil_search", "ali musa")], &[]).await;
    assert_eq!(found.status(), StatusCode::OK);
    let html = found.text().await.unwrap_or_default();
    assert!(html.contains(&format!("value=\"{}\"", w.musa)) && html.contains("Musa Ali"), "{html}");
    let other_school =
        w.post_files(&senco, "/referrals/new", &[("action", "find"), ("pupil_search", "zara")], &[]).await;
    let html = other_school.text().await.unwrap_or_default();
    assert!(html.contains("No pupil on your school") && !html.contains("Zara Khan"), "{html}");
    let upn = sen_pupils::domain::Upn::from_body("886200125001").expect("Musa's UPN");
    let by_upn =
        w.post_files(&senco, "/referrals/new", &[("action", "find"), ("pupil_search", upn.as_str())], &[]).await;
    assert!(by_upn.text().await.unwrap_or_default().contains("Musa Ali"), "found by UPN");
    let empty = w.post_files(&senco, "/referrals/new", &[("action", "find"), ("pupil_search", " ")], &[]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(empty.text().await.unwrap_or_default().contains("Enter the pupil"));

    let (_, chosen) = w.get(&senco, &format!("/referrals/new?pupil_id={}", w.musa)).await;
    assert!(chosen.contains("name=\"support_cycle_ids\"") && chosen.contains("Reads a book band higher"), "{chosen}");
    let mut form = referral_form(&w.musa.to_string(), "cite-1");
    form.push(("support_cycle_ids", w.zara_cycle.to_string()));
    let refused = w.post_files(&senco, "/referrals/new", &pairs(&form), &[]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "another pupil's cycle");
    assert!(refused.text().await.unwrap_or_default().contains("href=\"#support_cycle_ids\""));
    assert!(w.referrals().await.is_empty(), "nothing sent");
    form.pop();
    form.push(("support_cycle_ids", w.musa_cycle.to_string()));
    let sent = w.post_files(&senco, "/referrals/new", &pairs(&form), &[]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let referral = w.referrals().await.pop().expect("the referral");
    let tried = referral.body.and_then(|b| b.graduated_approach).expect("tried");
    assert_eq!(tried.support_cycle_ids, [w.musa_cycle], "the cycle is cited");
    let (_, not_theirs) = w.get(&senco, &format!("/referrals/new?pupil_id={}", w.zara)).await;
    assert!(!not_theirs.contains("Zara"), "another school's pupil cannot be chosen by address");
}

async fn a_second_open_referral_of_a_kind_needs_the_senco_to_confirm(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let first = w.post_files(&senco, "/referrals/new", &pairs(&referral_form(&w.musa.to_string(), "one")), &[]).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let open = w.referrals().await[0].id;
    let form = referral_form(&w.musa.to_string(), "two");
    let warned = w.post_files(&senco, "/referrals/new", &pairs(&form), &[("documents", "note.pdf", PDF)]).await;
    assert_eq!(warned.status(), StatusCode::BAD_REQUEST);
    let html = warned.text().await.unwrap_or_default();
    assert!(
        html.contains(&format!("href=\"/referrals/{open}\"")) && html.contains("href=\"#confirm_duplicate\""),
        "{html}"
    );
    assert!(html.contains("Choose your documents again"), "the chosen file is not kept");
    assert_eq!(w.referrals().await.len(), 1, "nothing sent");
    let mut confirmed = form.clone();
    confirmed.push(("confirm_duplicate", "yes".into()));
    let sent = w.post_files(&senco, "/referrals/new", &pairs(&confirmed), &[]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER, "sent once confirmed");
    assert_eq!(w.referrals().await.len(), 2);
}

async fn a_referral_carries_documents_that_only_its_readers_download(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let form = referral_form(&w.musa.to_string(), "docs");
    let sent = w.post_files(&senco, "/referrals/new", &pairs(&form), &[("documents", "EP report.pdf", PDF)]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let page = location(&sent);
    let id = w.referrals().await[0].id;
    let documents = w.documents(id).await;
    assert_eq!(documents.len(), 1);
    let (_, html) = w.get(&senco, &page).await;
    let link = format!("/referrals/{id}/attachments/{}", documents[0].id);
    assert!(html.contains("EP report.pdf") && html.contains(&format!("href=\"{link}\"")), "{html}");

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let more =
        w.post_files(&senco, &format!("/referrals/{id}/attachments"), &[], &[("documents", "scan.png", png)]).await;
    assert_eq!(more.status(), StatusCode::SEE_OTHER);
    assert!(location(&more).contains("done=attached"));
    assert_eq!(w.documents(id).await.len(), 2);

    let download = senco.get(format!("{}{link}", w.gateway.url())).send().await.expect("download");
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    let disposition = download.headers()["content-disposition"].to_str().unwrap_or_default().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("EP report.pdf"), "{disposition}");
    assert!(download.headers()["content-security-policy"].to_str().unwrap_or_default().starts_with("sandbox"));
    assert_eq!(download.bytes().await.expect("content").as_ref(), PDF);
    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(w.get(&officer, &link).await.0, StatusCode::OK, "the council reads it");
    for (client, who) in [
        (w.senco(100002).await, "another school's SENCO"),
        (w.gateway.web_client(Role::CaseOfficer, Some("887"), None).await, "another authority"),
        (w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await, "an EP without the case"),
    ] {
        let (status, body) = w.get(&client, &link).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!body.contains("%PDF"), "{who}");
        let attach =
            w.post_files(&client, &format!("/referrals/{id}/attachments"), &[], &[("documents", "x.pdf", PDF)]).await;
        assert_eq!(attach.status(), StatusCode::NOT_FOUND, "{who} attaches nothing");
    }
    assert_eq!(w.documents(id).await.len(), 2);
}

async fn a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let form = referral_form(&w.musa.to_string(), "bad");
    let page = b"<html><body>not a report</body></html>";
    let refused = w.post_files(&senco, "/referrals/new", &pairs(&form), &[("documents", "report.pdf", page)]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#documents\""), "the error names the documents field: {html}");
    assert!(html.contains("‘report.pdf’ is not a PDF, Word document, JPEG image or PNG image"), "{html}");
    assert!(w.referrals().await.is_empty(), "no referral without its documents put right");

    let sent = w.post_files(&senco, "/referrals/new", &pairs(&form), &[]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let id = w.referrals().await[0].id;
    let big: Vec<u8> = [b"%PDF-1.7".as_slice(), &vec![0u8; 10 * 1024 * 1024]].concat();
    let too_big =
        w.post_files(&senco, &format!("/referrals/{id}/attachments"), &[], &[("documents", "big.pdf", &big)]).await;
    assert_eq!(too_big.status(), StatusCode::BAD_REQUEST);
    let html = too_big.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#documents\"") && html.contains("larger than 10 MB"), "{html}");
    let empty = w.post_files(&senco, &format!("/referrals/{id}/attachments"), &[], &[]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(empty.text().await.unwrap_or_default().contains("Choose one or more documents"));
    assert!(w.documents(id).await.is_empty(), "nothing stored");
}

async fn a_returned_referral_shows_what_the_council_needs_beside_the_form(engine: Engine) {
    let w = world(engine).await;
    let senco = w.senco(100001).await;
    let submitted = w.post_files(&senco, "/referrals/new", &pairs(&referral_form(&w.musa.to_string(), "r")), &[]).await;
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let id = w.referrals().await[0].id;
    let mut officer = w.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let current = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.expect("read").into_inner();
    let asked = "Please add the latest hearing test and the speech therapist's report";
    let change = pb::ChangeReferralStatusRequest {
        id,
        version: current.version,
        event: pb::ReferralEvent::Return as i32,
        note: asked.into(),
    };
    officer.change_referral_status(change).await.expect("returned");
    let (_, html) = w.get(&senco, &format!("/referrals/{id}")).await;
    let aside = html.find("What the council needs").expect("beside the form");
    let form = html.find("Send referral again").expect("the form");
    assert!(aside < form, "read before the form");
    assert!(html[aside..form].contains(asked), "{html}");
}

async fn the_dashboard_and_the_school_page_follow_the_live_feed(engine: Engine) {
    let w = world(engine).await;
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, dashboard) = w.get(&manager, "/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{dashboard}");
    assert!(dashboard.contains("data-live=\"/referrals/live\""), "{dashboard}");
    let (_, school) = w.get(&w.senco(100001).await, "/schools/100001").await;
    assert!(school.contains("data-live=\"/referrals/live\"") && school.contains("aria-live=\"polite\""), "{school}");
}

sen_platform::on_both_engines!(
    the_register_opens_on_the_sen_register_and_shows_everyone_on_request,
    a_senco_records_a_support_cycles_review_and_another_school_cannot,
    the_referral_form_finds_the_pupil_by_name_or_upn_and_cites_their_support,
    a_second_open_referral_of_a_kind_needs_the_senco_to_confirm,
    a_referral_carries_documents_that_only_its_readers_download,
    a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored,
    a_returned_referral_shows_what_the_council_needs_beside_the_form,
    the_dashboard_and_the_school_page_follow_the_live_feed,
);
