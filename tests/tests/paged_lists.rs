//! The council's long lists a page at a time: annual reviews due, phase
//! transfers due and referrals are filtered, sorted and paged by their
//! services, which answer one page and the total; the pages show page 2 as the
//! next rows, the total on every page, and only the pupils (or referrals) shown
//! are audited as read. The counts the dashboard shows read no pupil's record.
//! Every paged and counted form keeps the caller's scope: another authority,
//! another school's SENCO and a role that may not list see nothing. The
//! platform's day is 24 November 2026.

use std::collections::HashSet;

use sen_platform::identity::{Role, TenantScope};
use sen_platform::testing::Engine;
use sen_platform::walls;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;

/// Two primary schools (4–11) of authority 886.
const FIRST: u32 = 100001;
const SECOND: u32 = 100002;
/// Pupils with plans: 40 at the first school, 20 at the second, each in Year 6
/// (a transfer to secondary school due by 15 February 2027), each plan's review
/// overdue on a day of its own; and two at the first whose review is due in the
/// next 60 days but not overdue.
const OVERDUE: u32 = 60;
const DUE_SOON: u32 = 2;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

fn page(size: u32, token: &str) -> Option<pb::PageRequest> {
    Some(pb::PageRequest { page_size: size, page_token: token.to_owned() })
}

/// A Year 6 pupil with a plan issued on `issued` (its review due a year on).
async fn with_plan(client: &mut PupilsClient, serial: u32, urn: u32, issued: Option<pb::Date>) -> i64 {
    let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("upn");
    let pupil = pb::PupilFields {
        upn: upn.as_str().to_owned(),
        legal_forename: "Sam".into(),
        legal_surname: format!("Pupil{serial:02}"),
        date_of_birth: date(2015, 10, 1),
        school_urn: urn.to_string(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest {
        pupil: Some(pupil),
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        secondary_need_code: String::new(),
        ehcp: Some(pb::EhcpFields { issued_on: issued, named_setting: "First setting".into() }),
    };
    client.create_pupil(request).await.expect("pupil").into_inner().id
}

async fn platform(engine: Engine) -> TestPlatform {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(FIRST, "2001", pb::Phase::Primary, (4, 11), 300).await;
    platform.school_886(SECOND, "2002", pb::Phase::Primary, (4, 11), 300).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    for serial in 1..=OVERDUE {
        let urn = if serial <= 40 { FIRST } else { SECOND };
        // Issued on 1 January 2025 plus a day a pupil: reviews due from 2 January 2026.
        let issued = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("day") + chrono::Duration::days(serial.into());
        with_plan(&mut officer, serial, urn, Some(sen_platform::dates::to_proto(issued))).await;
    }
    for serial in OVERDUE + 1..=OVERDUE + DUE_SOON {
        with_plan(&mut officer, serial, FIRST, date(2026, 1, 1)).await;
    }
    platform
}

/// How many audit entries of `action` the pupils service holds for 886.
async fn audited(platform: &TestPlatform, action: &str) -> usize {
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let (mut count, mut token) = (0, String::new());
    loop {
        let request = pb::ListAuditEventsRequest { page: page(500, &token), pupil_id: 0 };
        let answer = manager.list_audit_events(request).await.expect("audit events").into_inner();
        count += answer.events.iter().filter(|e| e.action == action).count();
        if answer.next_page_token.is_empty() {
            return count;
        }
        token = answer.next_page_token;
    }
}

fn names(reviews: &[pb::ReviewDue]) -> Vec<String> {
    reviews.iter().map(|r| r.pupil.clone().unwrap_or_default().display_name).collect()
}

/// The `rel="next"` link of a page, unescaped.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].replace("&amp;", "&"))
}

async fn reviews_due_are_paged_counted_and_only_the_page_is_audited(engine: Engine) {
    let platform = platform(engine).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let before = audited(&platform, "ehcp.reviews_due_list").await;

    let request = |token: &str| pb::ListAnnualReviewsDueRequest { page: page(25, token), ..Default::default() };
    let first = officer.list_annual_reviews_due(request("")).await.expect("page 1").into_inner();
    assert_eq!((first.reviews.len(), first.total), (25, OVERDUE + DUE_SOON));
    assert_eq!(audited(&platform, "ehcp.reviews_due_list").await, before + 25, "only the page is audited");
    let second = officer.list_annual_reviews_due(request(&first.next_page_token)).await.expect("2").into_inner();
    assert_eq!((second.reviews.len(), second.total), (25, OVERDUE + DUE_SOON));
    let due = |r: &pb::ReviewDue| r.next_review_due.map(|d| (d.year, d.month, d.day));
    assert!(due(&first.reviews[24]) <= due(&second.reviews[0]), "page 2 continues after page 1, soonest first");
    let third = officer.list_annual_reviews_due(request(&second.next_page_token)).await.expect("3").into_inner();
    assert_eq!((third.reviews.len(), third.next_page_token.as_str()), (12, ""), "the last page");
    let every: HashSet<String> = [&first, &second, &third].iter().flat_map(|p| names(&p.reviews)).collect();
    assert_eq!(every.len(), 62, "every review once");

    // By name, largest first, across pages.
    let by_name = |token: &str| pb::ListAnnualReviewsDueRequest {
        page: page(40, token),
        sort: "pupil".into(),
        descending: true,
        ..Default::default()
    };
    let one = officer.list_annual_reviews_due(by_name("")).await.expect("by name").into_inner();
    let two = officer.list_annual_reviews_due(by_name(&one.next_page_token)).await.expect("by name 2").into_inner();
    let listed: Vec<String> = names(&one.reviews).into_iter().chain(names(&two.reviews)).collect();
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!((listed.len(), &listed), (62, &sorted));
    assert_eq!(listed.first().map(String::as_str), Some("Sam Pupil62"));

    // One school, overdue only, and the dashboard's count that reads no record.
    let audited_now = audited(&platform, "ehcp.reviews_due_list").await;
    let at_second = pb::ListAnnualReviewsDueRequest {
        school_urn: SECOND.to_string(),
        overdue_only: true,
        count_only: true,
        ..Default::default()
    };
    let counted = officer.list_annual_reviews_due(at_second).await.expect("count").into_inner();
    assert_eq!((counted.total, counted.reviews.len()), (20, 0));
    let overdue = pb::ListAnnualReviewsDueRequest { overdue_only: true, count_only: true, ..Default::default() };
    assert_eq!(officer.list_annual_reviews_due(overdue).await.expect("count").into_inner().total, OVERDUE);
    assert_eq!(audited(&platform, "ehcp.reviews_due_list").await, audited_now, "a count audits nothing");

    // The page: the total, 50 rows, and page 2 the next 12; 50 then 12 audited.
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let get = |path: String| {
        let (manager, url) = (manager.clone(), format!("{}{path}", gateway.url()));
        async move { manager.get(url).send().await.expect("page").text().await.expect("body") }
    };
    let html = get("/annual-reviews-due".into()).await;
    assert!(html.contains("Annual reviews due (62)"), "{html}");
    assert!(html.contains("Sam Pupil01") && !html.contains("Sam Pupil62"), "soonest first");
    assert_eq!(audited(&platform, "ehcp.reviews_due_list").await, audited_now + 50);
    let next = next_link(&html).expect("a next page");
    let html = get(next).await;
    assert!(html.contains("Annual reviews due (62)") && html.contains("Sam Pupil62"), "{html}");
    assert!(!html.contains("Sam Pupil01<"), "page 2 shows the next rows");
    assert!(html.contains("rel=\"prev\"") && next_link(&html).is_none());
    assert_eq!(audited(&platform, "ehcp.reviews_due_list").await, audited_now + 62);
    let html = get("/annual-reviews-due?overdue=yes&school=100002&sort=pupil&dir=desc".into()).await;
    assert!(html.contains("Annual reviews due (20)") && html.contains("Sam Pupil60"), "{html}");
    assert!(html.find("Sam Pupil60").zip(html.find("Sam Pupil41")).is_some_and(|(a, b)| a < b), "by name, descending");
    let dashboard = get("/dashboard".into()).await;
    assert!(dashboard.contains("Annual reviews overdue"), "{dashboard}");
    let csv = get("/annual-reviews-due?format=csv".into()).await;
    assert_eq!(csv.lines().count(), 63, "the CSV holds every review");
}

#[tokio::test]
async fn reviews_due_are_paged_counted_and_only_the_page_is_audited_on_sqlite() {
    reviews_due_are_paged_counted_and_only_the_page_is_audited(Engine::Sqlite).await;
}

#[tokio::test]
async fn reviews_due_are_paged_counted_and_only_the_page_is_audited_on_postgres() {
    reviews_due_are_paged_counted_and_only_the_page_is_audited(Engine::Postgres).await;
}

async fn transfers_due_are_paged_counted_and_only_the_page_is_audited(engine: Engine) {
    let platform = platform(engine).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let before = audited(&platform, "ehcp.transitions_list").await;
    let all = OVERDUE + DUE_SOON;

    let by_name = |token: &str| pb::ListTransitionsDueRequest {
        page: page(50, token),
        sort: "pupil".into(),
        ..Default::default()
    };
    let first = officer.list_transitions_due(by_name("")).await.expect("page 1").into_inner();
    assert_eq!((first.transitions.len(), first.total), (50, all));
    assert_eq!(audited(&platform, "ehcp.transitions_list").await, before + 50, "only the page is audited");
    let second = officer.list_transitions_due(by_name(&first.next_page_token)).await.expect("2").into_inner();
    assert_eq!((second.transitions.len(), second.next_page_token.as_str()), (12, ""));
    let name = |t: &pb::TransitionDue| t.pupil.clone().unwrap_or_default().display_name;
    let listed: Vec<String> = first.transitions.iter().chain(&second.transitions).map(name).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "by name across pages");

    let counts = first.counts.clone().unwrap_or_default();
    assert_eq!((counts.due, counts.overdue, counts.issued_late), (all, 0, 0));
    let deadlines: Vec<(Option<pb::Date>, u32, u32)> =
        counts.by_deadline.iter().map(|d| (d.deadline, d.transfers, d.without_setting)).collect();
    assert_eq!(deadlines, [(date(2027, 2, 15), all, all)]);
    let at_second =
        pb::ListTransitionsDueRequest { school_urn: SECOND.to_string(), count_only: true, ..Default::default() };
    let audited_now = audited(&platform, "ehcp.transitions_list").await;
    let counted = officer.list_transitions_due(at_second).await.expect("count").into_inner();
    assert_eq!((counted.total, counted.transitions.len()), (20, 0));
    let issued_late =
        pb::ListTransitionsDueRequest { statuses: vec![pb::TransferStatus::IssuedLate as i32], ..Default::default() };
    assert_eq!(officer.list_transitions_due(issued_late).await.expect("late").into_inner().total, 0);
    assert_eq!(audited(&platform, "ehcp.transitions_list").await, audited_now, "counts audit nothing");

    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let get = |path: String| {
        let (manager, url) = (manager.clone(), format!("{}{path}", gateway.url()));
        async move { manager.get(url).send().await.expect("page").text().await.expect("body") }
    };
    let html = get("/transitions?sort=pupil&dir=desc".into()).await;
    assert!(html.contains("Sam Pupil62") && !html.contains("Sam Pupil01<"), "largest name first");
    assert_eq!(audited(&platform, "ehcp.transitions_list").await, audited_now + 50);
    let html = get(next_link(&html).expect("a next page")).await;
    assert!(html.contains("Sam Pupil01") && !html.contains("Sam Pupil62"), "page 2 shows the next rows");
    assert!(next_link(&html).is_none());
    let html = get("/transitions?school=100002&setting=none&status=outstanding".into()).await;
    assert_eq!(html.matches("Sam Pupil").count(), 20, "the second school's 20");
    let dashboard = get("/dashboard".into()).await;
    assert!(dashboard.contains("62 with no named setting yet"), "{dashboard}");
    let csv = get("/transitions?format=csv".into()).await;
    assert_eq!(csv.lines().count(), 63, "the CSV holds every transfer");
}

#[tokio::test]
async fn transfers_due_are_paged_counted_and_only_the_page_is_audited_on_sqlite() {
    transfers_due_are_paged_counted_and_only_the_page_is_audited(Engine::Sqlite).await;
}

#[tokio::test]
async fn transfers_due_are_paged_counted_and_only_the_page_is_audited_on_postgres() {
    transfers_due_are_paged_counted_and_only_the_page_is_audited(Engine::Postgres).await;
}

async fn the_paged_and_counted_lists_keep_every_scope(engine: Engine) {
    let platform = platform(engine).await;
    let reviews = |sort: &str, school: &str, count_only: bool| pb::ListAnnualReviewsDueRequest {
        page: page(10, ""),
        sort: sort.into(),
        school_urn: school.into(),
        count_only,
        ..Default::default()
    };
    let transfers = |sort: &str, school: &str, count_only: bool| pb::ListTransitionsDueRequest {
        page: page(10, ""),
        sort: sort.into(),
        school_urn: school.into(),
        count_only,
        ..Default::default()
    };
    // Another authority's manager sees none of 886's, in any form.
    let mut other = platform.pupils(Role::LaManager, Some("887"), None).await;
    for (sort, count_only) in [("", false), ("school", false), ("", true)] {
        let r = other.list_annual_reviews_due(reviews(sort, "", count_only)).await.expect("887").into_inner();
        assert_eq!((r.total, r.reviews.len()), (0, 0), "887, sort {sort:?}");
        let r = other.list_annual_reviews_due(reviews(sort, "100001", count_only)).await.expect("887").into_inner();
        assert_eq!((r.total, r.reviews.len()), (0, 0), "887 naming 886's school");
        let t = other.list_transitions_due(transfers(sort, "", count_only)).await.expect("887").into_inner();
        assert_eq!((t.total, t.transitions.len()), (0, 0));
    }
    // The second school's SENCO sees their 20, and none of the first school's however asked.
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(SECOND)).await;
    for (sort, count_only) in [("", false), ("pupil", false), ("school", false), ("", true)] {
        let own = senco.list_annual_reviews_due(reviews(sort, "", count_only)).await.expect("own").into_inner();
        assert_eq!(own.total, 20, "sort {sort:?}");
        assert!(own.reviews.iter().all(|r| r.pupil.as_ref().is_some_and(|p| p.school_urn == "100002")));
        let theirs = senco.list_annual_reviews_due(reviews(sort, "100001", count_only)).await.expect("x").into_inner();
        assert_eq!((theirs.total, theirs.reviews.len()), (0, 0));
        let own = senco.list_transitions_due(transfers(sort, "", count_only)).await.expect("own").into_inner();
        assert_eq!(own.total, 20);
        assert!(own.transitions.iter().all(|t| t.pupil.as_ref().is_some_and(|p| p.school_urn == "100002")));
        let theirs = senco.list_transitions_due(transfers(sort, "100001", count_only)).await.expect("x").into_inner();
        assert_eq!((theirs.total, theirs.transitions.len()), (0, 0));
    }
    // A professional may not list them at all, counted or paged.
    let mut ep = platform.pupils(Role::EducationalPsychologist, Some("886"), None).await;
    let refused = ep.list_annual_reviews_due(reviews("", "", true)).await.expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = ep.list_transitions_due(transfers("pupil", "", false)).await.expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);
    // Bad orders and tokens are named, and nothing is listed.
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let bad = officer.list_annual_reviews_due(reviews("upn", "not-a-urn", false)).await.expect_err("bad");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("sort") || !bad.details().is_empty());
    let sorted = officer.list_annual_reviews_due(reviews("pupil", "", false)).await.expect("sorted").into_inner();
    let keyset = pb::ListAnnualReviewsDueRequest { page: page(10, &sorted.next_page_token), ..Default::default() };
    let mixed = officer.list_annual_reviews_due(keyset).await.expect_err("another order's token");
    assert_eq!(mixed.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_paged_and_counted_lists_keep_every_scope_on_sqlite() {
    the_paged_and_counted_lists_keep_every_scope(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_paged_and_counted_lists_keep_every_scope_on_postgres() {
    the_paged_and_counted_lists_keep_every_scope(Engine::Postgres).await;
}

/// How many `referral.list` entries the referrals service holds for 886.
async fn referrals_listed(platform: &TestPlatform) -> usize {
    let token = platform.token(Role::LaManager, Some("886"), None);
    let tenant: TenantScope =
        platform.issuer.verifier.verify(&token).expect("identity").tenant_scope().expect("tenant scope");
    let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant)).await.expect("trail");
    trail.iter().filter(|e| e.action == "referral.list").count()
}

async fn referrals_are_paged_counted_and_only_the_page_is_audited(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(FIRST, "2001", pb::Phase::Primary, (4, 11), 300).await;
    platform.school_886(SECOND, "2002", pb::Phase::Primary, (4, 11), 300).await;
    for serial in 1..=55u32 {
        let pupil = platform.pupil_on_support("886", serial, FIRST, ("Ada", &format!("Reed{serial:02}"))).await;
        let kind = if serial > 53 { "advisory_teacher:sensory_vision" } else { "educational_psychology" };
        platform.accepted_referral_886(pupil, kind, &format!("paged-{serial}")).await;
    }
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let before = referrals_listed(&platform).await;
    let newest = |token: &str| pb::ListReferralsRequest { page: page(50, token), ..Default::default() };
    let first = officer.list_referrals(newest("")).await.expect("page 1").into_inner();
    assert_eq!((first.referrals.len(), first.total), (50, 55));
    assert_eq!(referrals_listed(&platform).await, before + 50, "only the page is audited");
    let second = officer.list_referrals(newest(&first.next_page_token)).await.expect("page 2").into_inner();
    assert_eq!((second.referrals.len(), second.total, second.next_page_token.as_str()), (5, 55, ""));
    let ids: Vec<i64> = first.referrals.iter().chain(&second.referrals).map(|r| r.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first across pages: {ids:?}");

    // By pupil, in pages of 20; the kind family and open ones counted without reading a referral.
    let by_pupil =
        |token: &str| pb::ListReferralsRequest { page: page(20, token), sort: "pupil".into(), ..Default::default() };
    let (mut pupils, mut token) = (Vec::new(), String::new());
    loop {
        let answer = officer.list_referrals(by_pupil(&token)).await.expect("by pupil").into_inner();
        assert_eq!(answer.total, 55);
        pupils.extend(answer.referrals.iter().map(|r| r.body.as_ref().map_or(0, |b| b.pupil_id)));
        if answer.next_page_token.is_empty() {
            break;
        }
        token = answer.next_page_token;
    }
    assert_eq!(pupils.len(), 55);
    assert!(pupils.windows(2).all(|w| w[0] <= w[1]), "by pupil across pages");
    let listed_now = referrals_listed(&platform).await;
    let family =
        pb::ListReferralsRequest { kind_family: "advisory_teacher".into(), count_only: true, ..Default::default() };
    let counted = officer.list_referrals(family).await.expect("count").into_inner();
    assert_eq!((counted.total, counted.referrals.len()), (2, 0));
    let open = pb::ListReferralsRequest { open_only: true, count_only: true, ..Default::default() };
    assert_eq!(officer.list_referrals(open).await.expect("open").into_inner().total, 55);
    assert_eq!(referrals_listed(&platform).await, listed_now, "a count audits nothing");

    // Scope: another school's SENCO and another authority see nothing, in every form.
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(SECOND)).await;
    let mut other = platform.referrals(Role::LaManager, Some("887"), None).await;
    for sort in ["", "pupil", "school", "deadline"] {
        for count_only in [false, true] {
            let request = || pb::ListReferralsRequest { sort: sort.into(), count_only, ..Default::default() };
            let theirs = senco.list_referrals(request()).await.expect("senco").into_inner();
            assert_eq!((theirs.total, theirs.referrals.len()), (0, 0), "senco, sort {sort:?}");
            let theirs = other.list_referrals(request()).await.expect("887").into_inner();
            assert_eq!((theirs.total, theirs.referrals.len()), (0, 0), "887, sort {sort:?}");
        }
    }
    let bad = pb::ListReferralsRequest { sort: "upn".into(), kind_family: "ep".into(), ..Default::default() };
    assert_eq!(officer.list_referrals(bad).await.expect_err("bad").code(), Code::InvalidArgument);

    // The page: the total, the next rows on page 2, the filters and sorts.
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let get = |path: String| {
        let (manager, url) = (manager.clone(), format!("{}{path}", gateway.url()));
        async move { manager.get(url).send().await.expect("page").text().await.expect("body") }
    };
    let listed_now = referrals_listed(&platform).await;
    let html = get("/referrals".into()).await;
    assert!(html.contains("Referrals (55)"), "{html}");
    assert_eq!(html.matches("\">Referral ").count(), 50);
    assert_eq!(referrals_listed(&platform).await, listed_now + 50, "the page audits the 50 it shows");
    let html = get(next_link(&html).expect("a next page")).await;
    assert!(html.contains("Referrals (55)") && next_link(&html).is_none());
    assert_eq!(html.matches("\">Referral ").count(), 5, "page 2 shows the next 5");
    let html = get("/referrals?kind=advisory_teacher".into()).await;
    assert!(html.contains("Referrals (2)"), "{html}");
    let html = get("/referrals?status=open&sort=school&dir=desc".into()).await;
    assert!(html.contains("Referrals (55)"), "{html}");
    let html = get("/referrals?sort=deadline".into()).await;
    assert!(html.contains("Referrals (55)"), "{html}");
    let csv = get("/referrals?format=csv".into()).await;
    assert_eq!(csv.lines().count(), 56, "the CSV holds every referral");
}

#[tokio::test]
async fn referrals_are_paged_counted_and_only_the_page_is_audited_on_sqlite() {
    referrals_are_paged_counted_and_only_the_page_is_audited(Engine::Sqlite).await;
}

#[tokio::test]
async fn referrals_are_paged_counted_and_only_the_page_is_audited_on_postgres() {
    referrals_are_paged_counted_and_only_the_page_is_audited(Engine::Postgres).await;
}
