//! The council overview's register figures are the register statistics' own,
//! without the breakdowns by need and year group that no page of it shows: the
//! same schools, counts, rolls and rates as the full statistics, on the demo
//! data (both engines) and on a generated national dataset (PostgreSQL), for
//! the council, a SENCO and another authority; and every school the pupils
//! service keeps for a while is kept per caller's reach, so no authority, school
//! or role sees another's.

use sen_platform::identity::Role;
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_proto::v1::gateway_service_client::GatewayServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{Options, Stores, TestPlatform, today};
use tonic::Code;

/// The statistics as the figures-only form answers them: the breakdowns left empty.
fn without_breakdowns(mut stats: pb::RegisterStats) -> pb::RegisterStats {
    for school in stats.schools.iter_mut().chain(stats.authority.as_mut()) {
        school.by_primary_need.clear();
        school.by_nc_year.clear();
    }
    stats
}

fn figures_only() -> pb::GetRegisterStatsRequest {
    pb::GetRegisterStatsRequest { as_of: None, figures_only: true }
}

/// The full statistics, the figures-only form and the overview's register, as `token` sees them.
async fn three_forms(
    platform: &TestPlatform,
    gateway: &TestGateway,
    token: &str,
) -> (pb::RegisterStats, pb::RegisterStats, Option<pb::RegisterStats>) {
    let mut pupils = platform.pupils_as(token).await;
    let full = pupils.get_register_stats(pb::GetRegisterStatsRequest::default()).await.expect("full").into_inner();
    let figures = pupils.get_register_stats(figures_only()).await.expect("figures").into_inner();
    let mut overview = GatewayServiceClient::new(gateway.bearer(token).await.expect("gateway"));
    let register = match overview.get_overview(pb::GetOverviewRequest::default()).await {
        Ok(answer) => answer.into_inner().register,
        Err(status) => {
            assert_eq!(status.code(), Code::PermissionDenied, "the overview is the council's: {status:?}");
            None
        }
    };
    (full, figures, register)
}

fn urns(stats: &pb::RegisterStats) -> Vec<&str> {
    stats.schools.iter().map(|s| s.school_urn.as_str()).collect()
}

/// The figures of the council of `tenant`, of the SENCO of `school` and of
/// another authority's council, each checked against the full statistics.
async fn figures_match_the_full_statistics(
    platform: &TestPlatform,
    gateway: &TestGateway,
    tenant: &str,
    school: u32,
    other: &str,
) {
    let manager = platform.token(Role::LaManager, Some(tenant), None);
    let (full, figures, overview) = three_forms(platform, gateway, &manager).await;
    let authority = full.authority.clone().unwrap_or_default();
    assert!(authority.sen_support > 0 && authority.ehc_plan > 0, "the register has pupils on it: {authority:?}");
    assert!(authority.number_on_roll > 0 && full.schools.len() > 1, "schools with rolls: {}", full.schools.len());
    assert!(!authority.by_primary_need.is_empty(), "the full form keeps its breakdowns");
    assert_eq!(figures, without_breakdowns(full.clone()), "the figures of {tenant}'s council");
    assert_eq!(overview, Some(figures.clone()), "the overview's register of {tenant}");

    let senco = platform.token(Role::Senco, Some(tenant), Some(school));
    let (own_full, own_figures, refused) = three_forms(platform, gateway, &senco).await;
    assert_eq!(urns(&own_full), [school.to_string()], "a SENCO's statistics are their school's");
    assert_eq!(own_figures, without_breakdowns(own_full), "the figures of the SENCO of {school}");
    assert_eq!(refused, None, "a SENCO has no overview");

    let elsewhere = platform.token(Role::LaManager, Some(other), None);
    let (other_full, other_figures, other_overview) = three_forms(platform, gateway, &elsewhere).await;
    assert_eq!(other_figures, without_breakdowns(other_full), "the figures of {other}'s council");
    assert_eq!(other_overview, Some(other_figures.clone()));
    let ours = urns(&figures);
    assert!(urns(&other_figures).iter().all(|urn| !ours.contains(urn)), "{other} sees none of {tenant}'s schools");
    let their = other_figures.authority.unwrap_or_default();
    assert_ne!(
        (their.pupils_recorded, their.number_on_roll),
        (authority.pupils_recorded, authority.number_on_roll),
        "{other} counts its own register"
    );

    let professional = platform.token(Role::EducationalPsychologist, Some(tenant), None);
    let refused = platform.pupils_as(&professional).await.get_register_stats(figures_only()).await;
    assert_eq!(refused.map(|_| ()).map_err(|s| s.code()), Err(Code::PermissionDenied), "a professional is refused");
}

async fn the_overviews_register_is_the_full_statistics_without_breakdowns_on_the_demo_data(engine: Engine) {
    let mut databases = Vec::new();
    for _ in 0..4 {
        // Loaded as the demo loader loads it, past the tenants' walls.
        databases.push(TestDatabase::create(engine).await.expect("database"));
    }
    let stores = Stores {
        schools: sen_schools::Store::connect(&databases[0].url, &Default::default()).await.expect("schools"),
        pupils: sen_pupils::Store::connect(&databases[1].url, &Default::default()).await.expect("pupils"),
        referrals: sen_referrals::Store::connect(&databases[2].url, &Default::default()).await.expect("referrals"),
        caseloads: sen_caseloads::Store::connect(&databases[3].url, &Default::default()).await.expect("caseloads"),
    };
    let issuer = sen_platform::identity::DevIssuer::generate().expect("issuer");
    sen_schools::demo::seed_if_empty(&stores.schools, &issuer, today()).await.expect("demo schools");
    let schools: Vec<sen_pupils::demo::DemoSchool> = sen_schools::demo::SCHOOLS
        .iter()
        .filter(|row| row.9 == 1)
        .map(|&(tenant, urn, establishment_number, name, type_code, phase_code, ages, roll, _, _)| {
            sen_pupils::demo::DemoSchool::from_book(&sen_platform::demo::DemoSchool {
                tenant,
                urn,
                establishment_number,
                name,
                type_code,
                phase_code,
                ages,
                roll,
                open: true,
            })
        })
        .collect();
    let loaded = sen_pupils::demo::seed_if_empty(&stores.pupils, &issuer, &schools, today()).await;
    assert!(loaded.expect("the demo register"), "the demo register is loaded");
    let school = schools.iter().find(|s| s.tenant == "990").map(|s| s.urn).expect("a school of 990");
    let platform = TestPlatform::over(stores, databases, Options::default()).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    figures_match_the_full_statistics(&platform, &gateway, "990", school, "991").await;
    gateway.stop().await.expect("gateway stops");
    platform.stop().await.expect("platform stops");
}

sen_platform::on_both_engines!(the_overviews_register_is_the_full_statistics_without_breakdowns_on_the_demo_data);

#[tokio::test]
async fn the_overviews_register_is_the_full_statistics_without_breakdowns_on_a_generated_dataset() {
    use sen_cli::generate::{Spec, generate};
    let (databases, targets) = sen_tests::platform::generate_targets().await;
    // Kent and the next two largest authorities, at a small scale.
    let spec = Spec { scale: 0.01, seed: 2026, today: today(), authorities: Some(3) };
    let report = generate(&spec, &targets, |_| {}).await.expect("the dataset is generated");
    let kent = report.largest.clone();
    let stores = Stores {
        schools: sen_schools::Store::connect(&targets.schools, &Default::default()).await.expect("schools"),
        pupils: sen_pupils::Store::connect(&targets.pupils, &Default::default()).await.expect("pupils"),
        referrals: sen_referrals::Store::connect(&targets.referrals, &Default::default()).await.expect("referrals"),
        caseloads: sen_caseloads::Store::connect(&targets.caseloads, &Default::default()).await.expect("caseloads"),
    };
    let db = sea_orm::Database::connect(&targets.pupils).await.expect("connect");
    let other = sea_orm::ConnectionTrait::query_one(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT MIN(la_code) AS la FROM pupils WHERE la_code <> '{}'", kent.la_code),
        ),
    )
    .await
    .expect("query")
    .and_then(|row| row.try_get::<String>("", "la").ok())
    .expect("another authority");
    let platform = TestPlatform::over(stores, databases, Options::default()).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    figures_match_the_full_statistics(&platform, &gateway, &kent.la_code, kent.largest_school, &other).await;
    gateway.stop().await.expect("gateway stops");
    platform.stop().await.expect("platform stops");
}

/// Every school of a caller's reach is kept by the pupils service for a
/// while: whoever asks first, each authority, school and role sees its own.
#[tokio::test]
async fn the_schools_kept_for_the_statistics_are_each_callers_own() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Secondary, (11, 16), 300).await;
    platform.school_of("887", 100003, "2003", pb::Phase::Primary, (4, 11), 150).await;
    platform.pupil_on_support("886", 1, 100001, ("Ada", "Lovelace")).await;
    platform.pupil_on_support("886", 2, 100002, ("Alan", "Turing")).await;
    platform.pupil_on_support("887", 3, 100003, ("Grace", "Hopper")).await;

    let shared = &platform;
    let ask = |role: Role, tenant: &'static str, school: Option<u32>| {
        let token = shared.token(role, Some(tenant), school);
        async move {
            let mut pupils = shared.pupils_as(&token).await;
            let stats = pupils.get_register_stats(figures_only()).await.map(|r| r.into_inner());
            let transfers = pupils
                .list_transitions_due(pb::ListTransitionsDueRequest { count_only: true, ..Default::default() })
                .await
                .map(|r| r.into_inner().total);
            (stats.map_err(|s| s.code()), transfers.map_err(|s| s.code()))
        }
    };
    let urns_of = |stats: &Result<pb::RegisterStats, Code>| -> Vec<String> {
        stats.as_ref().map(|s| s.schools.iter().map(|s| s.school_urn.clone()).collect()).unwrap_or_default()
    };
    let rolls_of = |stats: &Result<pb::RegisterStats, Code>| {
        stats.as_ref().ok().and_then(|s| s.authority.as_ref()).map(|a| (a.pupils_recorded, a.number_on_roll))
    };
    // The council of 886 first, so its schools are kept before anyone else asks.
    for _ in 0..2 {
        let (council, _) = ask(Role::LaManager, "886", None).await;
        assert_eq!(urns_of(&council), ["100001", "100002"]);
        assert_eq!(rolls_of(&council), Some((2, 500)));
    }
    let (officer, _) = ask(Role::CaseOfficer, "886", None).await;
    assert_eq!(urns_of(&officer), ["100001", "100002"]);
    let (senco, _) = ask(Role::Senco, "886", Some(100002)).await;
    assert_eq!(urns_of(&senco), ["100002"], "a SENCO sees their own school only");
    assert_eq!(rolls_of(&senco), Some((1, 300)));
    let (other_senco, _) = ask(Role::Senco, "886", Some(100001)).await;
    assert_eq!(urns_of(&other_senco), ["100001"], "another school's SENCO sees theirs only");
    let (medway, _) = ask(Role::LaManager, "887", None).await;
    assert_eq!(urns_of(&medway), ["100003"], "another authority sees none of 886's schools");
    assert_eq!(rolls_of(&medway), Some((1, 150)));
    let (professional, transfers) = ask(Role::EducationalPsychologist, "886", None).await;
    assert_eq!((professional.map(|_| ()), transfers), (Err(Code::PermissionDenied), Err(Code::PermissionDenied)));
    // And asked the other way round: a SENCO's school kept first is no council's whole list.
    let (senco_again, _) = ask(Role::Senco, "887", Some(100003)).await;
    assert_eq!(urns_of(&senco_again), ["100003"]);
    let (council_again, _) = ask(Role::LaManager, "886", None).await;
    assert_eq!(urns_of(&council_again), ["100001", "100002"]);
    platform.stop().await.expect("platform stops");
}
