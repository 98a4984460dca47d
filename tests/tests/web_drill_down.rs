//! The dashboard's figures and bars down to the pupils and plans behind them,
//! over HTTP through the real gateway and services, on SQLite and PostgreSQL:
//! the authority's pupils by name (the SEN register unless another status is
//! chosen; by need, school and year group; paged; as CSV), the final plans
//! behind the 20-week figure (within, after, exception cases apart; the same
//! numbers as the figure), and the referrals of one month. Schools,
//! professionals and other authorities see none of it.

use chrono::NaiveDate;
use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::ids::Urn;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, ClockDates, Consent, ConsentMethod, NewReferral, PlanDecision, Priority,
    ReferralKind, Status, Tried,
};
use sen_referrals::store::SeedReferral;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    /// Ada Zephyr (E, ASD, year 6, 100001), Ben Young (K, SLCN, year 5,
    /// 100001), Cara Xu (E, SEMH, year 6, 100002), Dan Webb (N, 100001).
    ada: i64,
    ben: i64,
    cara: i64,
    dan: i64,
    /// Eve Vance (E) of authority 887.
    eve: i64,
}

/// Adds a pupil to `urn` of `tenant` as a case officer would.
async fn pupil(
    platform: &TestPlatform,
    (tenant, urn, serial): (&str, u32, u32),
    name: (&str, &str),
    born: Option<pb::Date>,
    (status, need): (pb::SenProvision, &str),
) -> i64 {
    let upn = sen_pupils::domain::Upn::from_body(&format!("{tenant}300125{serial:03}")).expect("a UPN");
    let request = pb::CreatePupilRequest {
        pupil: Some(pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: name.0.into(),
            legal_surname: name.1.into(),
            date_of_birth: born,
            school_urn: urn.to_string(),
            ..Default::default()
        }),
        sen_status: status as i32,
        primary_need_code: need.into(),
        ehcp: (status == pb::SenProvision::EhcPlan)
            .then(|| pb::EhcpFields { issued_on: date(2025, 9, 1), named_setting: "Its own school".into() }),
        ..Default::default()
    };
    let mut officer = platform.pupils(Role::CaseOfficer, Some(tenant), None).await;
    officer.create_pupil(request).await.expect("the pupil").into_inner().id
}

async fn world(engine: Engine) -> World {
    use pb::SenProvision as Sen;
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let (year6, year5) = (date(2016, 1, 10), date(2017, 2, 2));
    let ada = pupil(&platform, ("886", 100001, 1), ("Ada", "Zephyr"), year6, (Sen::EhcPlan, "ASD")).await;
    let ben = pupil(&platform, ("886", 100001, 2), ("Ben", "Young"), year5, (Sen::SenSupport, "SLCN")).await;
    let cara = pupil(&platform, ("886", 100002, 3), ("Cara", "Xu"), date(2016, 3, 3), (Sen::EhcPlan, "SEMH")).await;
    let dan = pupil(&platform, ("886", 100001, 4), ("Dan", "Webb"), year5, (Sen::NoSen, "")).await;
    let medway = pb::SchoolFields {
        laestab: "8872001".into(),
        name: "Medway School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        status: pb::EstablishmentStatus::Open as i32,
        number_on_roll: Some(100),
        ..Default::default()
    };
    let request = pb::CreateSchoolRequest { urn: "200001".into(), school: Some(medway) };
    platform.manager("887").await.create_school(request).await.expect("school");
    let eve = pupil(&platform, ("887", 200001, 5), ("Eve", "Vance"), year6, (Sen::EhcPlan, "ASD")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, ada, ben, cara, dan, eve }
}

impl World {
    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn team(&self) -> Client {
        self.gateway.web_client(Role::CaseOfficer, Some("886"), None).await
    }

    /// The pupils a page lists, by id, in the order shown.
    fn listed(&self, html: &str) -> Vec<i64> {
        let everyone = [self.ada, self.ben, self.cara, self.dan, self.eve];
        let mut found: Vec<(usize, i64)> =
            everyone.iter().filter_map(|id| html.find(&format!("href=\"/pupils/{id}\"")).map(|at| (at, *id))).collect();
        found.sort_unstable();
        found.into_iter().map(|(_, id)| id).collect()
    }

    /// Final plans issued in 2026 for three of 886's requests: one within 20
    /// weeks, one after, one an exception case; and one of 887's.
    async fn plans(&self) -> [i64; 3] {
        let plan = |pupil: i64, received: NaiveDate, issued: NaiveDate, excepted: bool| SeedReferral {
            new: NewReferral {
                pupil_id: pupil,
                school: Urn::parse(if pupil == self.eve { "200001" } else { "100001" }).unwrap(),
                kind: ReferralKind::EhcNeedsAssessment,
                broad_areas: vec![BroadArea::CommunicationAndInteraction],
                concern: "Very limited expressive language".into(),
                tried: Tried { summary: "Two cycles of language work".into(), cycles: vec![], provisions: vec![] },
                consent: Consent::new("Mother", received, ConsentMethod::SignedForm, received).unwrap(),
                priority: Priority::Routine,
            },
            submitted_on: received,
            path: vec![(Status::Accepted, received, "case_officer")],
            allocated_to: None,
            outcome: None,
            clock: Some(ClockDates {
                received_on: received,
                assessment_decision: Some((AssessmentDecision::Assess, received + chrono::Days::new(30))),
                plan_decision: Some((PlanDecision::Issue, received + chrono::Days::new(100))),
                final_plan_issued_on: Some(issued),
                exception: excepted.then_some(sen_referrals::domain::ClockException::PersonalCircumstances),
            }),
        };
        let store = &self.platform.referrals_store;
        for (tenant, seeds) in [
            (
                "886",
                vec![
                    plan(self.ada, d(2026, 3, 2), d(2026, 7, 13), false),
                    plan(self.ben, d(2026, 1, 5), d(2026, 6, 1), false),
                    plan(self.cara, d(2026, 2, 2), d(2026, 9, 1), true),
                ],
            ),
            ("887", vec![plan(self.eve, d(2026, 1, 5), d(2026, 6, 1), false)]),
        ] {
            let token = self.platform.token(Role::Service, Some(tenant), None);
            let loader = self.platform.issuer.verifier.verify(&token).expect("token").tenant_scope().expect("tenant");
            // Loaded as the platform's own loaders load, within the authority's walls.
            let load = store.load_referrals(&loader, "tester", &seeds);
            sen_platform::walls::within_tenant(tenant, load).await.expect("loaded");
        }
        let mut officer = self.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
        let listed = officer.list_referrals(pb::ListReferralsRequest::default()).await.expect("listed").into_inner();
        let id_of = |pupil: i64| {
            listed.referrals.iter().find(|r| r.body.as_ref().is_some_and(|b| b.pupil_id == pupil)).map_or(0, |r| r.id)
        };
        [id_of(self.ada), id_of(self.ben), id_of(self.cara)]
    }
}

async fn the_dashboards_pupil_figures_open_the_pupils_behind_them_by_name(engine: Engine) {
    let w = world(engine).await;
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = w.get(&manager, "/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("href=\"/pupils?status=E\"") && html.contains("href=\"/pupils?status=K\""), "{html}");
    assert!(html.contains("href=\"/pupils?school=100001\""), "each school's bar opens its pupils");
    let (status, html) = w.get(&manager, "/pupils?status=E").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<strong>2 pupils</strong>"), "{html}");
    assert_eq!(w.listed(&html), [w.cara, w.ada], "Xu before Zephyr");
    assert!(html.contains("Cara Xu") && html.contains("Ada Zephyr") && html.contains("href=\"/schools/100002\""));
    let (status, _) = w.get(&manager, &format!("/pupils/{}", w.cara)).await;
    assert_eq!(status, StatusCode::OK, "each row leads to the pupil's page");
    w.platform.stop().await.expect("stops");
}

async fn the_pupils_list_opens_on_the_sen_register_and_filters_by_need_school_and_year(engine: Engine) {
    let w = world(engine).await;
    let officer = w.team().await;
    for (path, expected) in [
        ("/pupils", vec![w.cara, w.ben, w.ada]),
        ("/pupils?status=all", vec![w.dan, w.cara, w.ben, w.ada]),
        ("/pupils?status=N", vec![w.dan]),
        ("/pupils?status=K", vec![w.ben]),
        ("/pupils?need=SLCN", vec![w.ben]),
        ("/pupils?school=100002", vec![w.cara]),
        ("/pupils?year=6", vec![w.cara, w.ada]),
        ("/pupils?status=E&school=100001&year=6&need=ASD", vec![w.ada]),
        ("/pupils?need=HI", vec![]),
    ] {
        let (status, html) = w.get(&officer, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(w.listed(&html), expected, "{path}");
        let count = match expected.len() {
            1 => "<strong>1 pupil</strong>".to_owned(),
            n => format!("<strong>{n} pupils</strong>"),
        };
        assert!(html.contains(&count), "{path} says {count}");
    }
    let response = officer.get(format!("{}/pupils?status=E&format=csv", w.gateway.url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap_or_default();
    assert_eq!(csv.lines().count(), 3, "a header and two pupils: {csv}");
    assert!(csv.contains("Zephyr") && csv.contains("Xu") && !csv.contains("Young"));
    w.platform.stop().await.expect("stops");
}

async fn a_list_by_name_pages_on_without_repeating_or_skipping_a_pupil(engine: Engine) {
    let w = world(engine).await;
    let mut officer = w.platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut totals = Vec::new();
    loop {
        let request = pb::ListPupilsRequest {
            page: Some(pb::PageRequest { page_size: 1, page_token: token.clone() }),
            order: pb::PupilOrder::Name as i32,
            on_sen_register: true,
            include_total: true,
            ..Default::default()
        };
        let page = officer.list_pupils(request).await.expect("a page").into_inner();
        totals.push(page.total);
        seen.extend(page.pupils.iter().map(|p| p.legal_surname.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["Xu", "Young", "Zephyr"]);
    assert_eq!(totals, [Some(3), None, None], "counted with the first page only");
    let forged = pb::ListPupilsRequest {
        page: Some(pb::PageRequest { page_size: 1, page_token: "bm90LWEtdG9rZW4".into() }),
        order: pb::PupilOrder::Name as i32,
        ..Default::default()
    };
    let refused = officer.list_pupils(forged).await.expect_err("not a token of this list");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    w.platform.stop().await.expect("stops");
}

async fn schools_professionals_and_other_authorities_see_none_of_the_authoritys_pupils(engine: Engine) {
    let w = world(engine).await;
    for client in [
        w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await,
        w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await,
    ] {
        let (status, html) = w.get(&client, "/pupils?status=all").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(w.listed(&html).is_empty());
        let (status, _) = w.get(&client, "/statutory-clock/plans?period=2026").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let medway = w.gateway.web_client(Role::LaManager, Some("887"), None).await;
    let (status, html) = w.get(&medway, "/pupils?status=all").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.listed(&html), [w.eve], "887's own pupil and none of 886's");
    let (_, html) = w.get(&medway, "/pupils?school=100001").await;
    assert!(w.listed(&html).is_empty(), "another authority's school lists nothing");
    w.platform.stop().await.expect("stops");
}

async fn the_20_week_figure_opens_the_plans_behind_it_with_the_same_numbers(engine: Engine) {
    let w = world(engine).await;
    let [within, late, excepted] = w.plans().await;
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (_, html) = w.get(&manager, "/dashboard").await;
    assert!(html.contains("href=\"/statutory-clock/plans?period=2026\""), "the 20-week figure: {html}");
    assert!(html.contains("href=\"/statutory-clock/plans?period=2026-06\""), "June's timeliness bar");

    let mut officer = w.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let report = pb::GetStatutoryClockReportRequest { as_of: None, year: 2026, figures_only: false };
    let report = officer.get_statutory_clock_report(report).await.expect("report").into_inner();
    assert_eq!((report.plans_issued, report.issued_within_20_weeks, report.excluded_exceptions), (2, 1, 1));
    let (status, html) = w.get(&manager, "/statutory-clock/plans?period=2026").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("1 of 2 final plans were issued within 20 weeks of the request (50.0%)"), "{html}");
    assert!(html.contains("1 exception case is left out"), "{html}");
    for id in [within, late, excepted] {
        assert!(html.contains(&format!("href=\"/referrals/{id}\"")), "request {id} is listed");
    }
    assert!(html.contains("After 20 weeks") && html.contains("Exception: not counted") && html.contains("Ada Zephyr"));
    let shows = |html: &str, id: i64| html.contains(&format!("href=\"/referrals/{id}\""));
    let (_, html) = w.get(&manager, "/statutory-clock/plans?period=2026&within=no").await;
    assert!(shows(&html, late) && !shows(&html, within) && !shows(&html, excepted));
    let (_, html) = w.get(&manager, "/statutory-clock/plans?period=2026-07").await;
    assert!(shows(&html, within) && !shows(&html, late) && !shows(&html, excepted), "July's plan only");
    let (_, html) = w.get(&manager, "/statutory-clock/plans?period=2025").await;
    assert!(html.contains("No final plans match"));

    // The service's own filter counts as the figure does.
    let year = |within: Option<bool>| pb::ListReferralsRequest {
        final_plan_issued_from: date(2026, 1, 1),
        final_plan_issued_to: date(2026, 12, 31),
        issued_within_20_weeks: within,
        ..Default::default()
    };
    let ids = |answer: pb::ListReferralsResponse| answer.referrals.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(officer.list_referrals(year(Some(true))).await.expect("within").into_inner()), [within]);
    assert_eq!(ids(officer.list_referrals(year(Some(false))).await.expect("after").into_inner()), [late]);
    assert_eq!(officer.list_referrals(year(None)).await.expect("all").into_inner().referrals.len(), 3);
    let backwards = pb::ListReferralsRequest { final_plan_issued_to: date(2025, 1, 1), ..year(None) };
    let refused = officer.list_referrals(backwards).await.expect_err("a period that ends before it starts");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    // The referrals of one month, as the referrals chart's bars open them.
    let (_, html) = w.get(&manager, "/referrals?month=2026-01&kind=ehc_needs_assessment").await;
    assert!(shows(&html, late) && !shows(&html, within), "{html}");
    let medway = w.gateway.web_client(Role::LaManager, Some("887"), None).await;
    let (_, html) = w.get(&medway, "/statutory-clock/plans?period=2026").await;
    assert!(!shows(&html, within) && !shows(&html, late) && html.contains("0 of 1 final plans"), "{html}");
    w.platform.stop().await.expect("stops");
}

sen_platform::on_both_engines!(
    the_dashboards_pupil_figures_open_the_pupils_behind_them_by_name,
    the_pupils_list_opens_on_the_sen_register_and_filters_by_need_school_and_year,
    a_list_by_name_pages_on_without_repeating_or_skipping_a_pupil,
    schools_professionals_and_other_authorities_see_none_of_the_authoritys_pupils,
    the_20_week_figure_opens_the_plans_behind_it_with_the_same_numbers,
);
