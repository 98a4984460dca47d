//! The `sen` binary as a newcomer runs it: no arguments starts the embedded
//! platform with demo data, `sen token` mints an identity it accepts, SIGTERM stops
//! it cleanly, and a restart keeps the data without loading the demo twice.

mod support;

use support::{school_names, sen, start, stop, token};

#[tokio::test]
async fn sen_alone_serves_the_demo_authorities_to_development_tokens() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = start(data.path());
    let northmoor = token(data.path(), &["--role", "la_manager", "--tenant", "990"]);
    let names = school_names(&running.address, &northmoor).await;
    assert_eq!(names.len(), 12);
    assert!(names.contains(&"Northmoor Primary School".to_owned()));
    let eastwold = token(data.path(), &["--role", "case_officer", "--tenant", "991"]);
    assert_eq!(school_names(&running.address, &eastwold).await.len(), 6);
    let senco = token(data.path(), &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    assert_eq!(school_names(&running.address, &senco).await, ["Northmoor Primary School"]);
    stop(running).await;

    let again = start(data.path());
    assert_eq!(school_names(&again.address, &northmoor).await.len(), 12, "the demo loads once");
    stop(again).await;
}

#[test]
fn sen_token_refuses_production_mode_and_bad_arguments() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = sen(data.path())
        .env("SEN_MODE", "production")
        .args(["token", "--role", "la_manager", "--tenant", "990"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused in production"));
    let output = sen(data.path()).args(["token", "--role", "senco", "--tenant", "990"]).output().expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a school URN"));
}

#[test]
fn bad_configuration_names_the_variable_and_starts_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = sen(data.path()).env("SEN_LISTEN", "0.0.0.0:8080").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SEN_LISTEN"), "{stderr}");
    assert!(!data.path().join("schools.db").exists(), "nothing was created");
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_every_file_in_it_are_private_to_the_account_running_sen() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("temp dir");
    let data = parent.path().join("data");
    let running = start(&data);
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    let files: Vec<_> = std::fs::read_dir(&data).expect("listed").map_while(Result::ok).map(|e| e.path()).collect();
    assert!(files.iter().any(|f| f.ends_with("pupils.db")), "{files:?}");
    assert!(files.iter().any(|f| f.to_string_lossy().ends_with("pupils.db-wal")), "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    stop(running).await;
}

#[cfg(unix)]
#[test]
fn sen_refuses_a_data_folder_other_accounts_can_read_and_says_how_to_fix_it() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().expect("temp dir");
    let mut sen = sen(data.path());
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let output = sen.output().expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chmod 700"), "{stderr}");
    assert!(!data.path().join("pupils.db").exists(), "nothing was written to the open folder");
}

#[tokio::test]
async fn the_demo_register_has_pupils_plans_reviews_and_transfers_in_realistic_numbers() {
    use sen_proto::v1 as pb;
    use sen_proto::v1::pupils_service_client::PupilsServiceClient;
    let data = tempfile::tempdir().expect("temp dir");
    let running = start(data.path());
    let token = token(data.path(), &["--role", "la_manager", "--tenant", "990"]);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.address))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let attach = sen_platform::identity::AttachBearer::new(&token).expect("token");
    let mut pupils = PupilsServiceClient::with_interceptor(channel, attach);
    let stats = pupils.get_register_stats(pb::GetRegisterStatsRequest::default()).await.expect("stats").into_inner();
    let authority = stats.authority.expect("authority totals");
    assert!(authority.pupils_recorded > 2000, "a few thousand pupils: {}", authority.pupils_recorded);
    assert!((10.0..20.0).contains(&authority.sen_support_percent), "{}", authority.sen_support_percent);
    assert!((4.0..12.0).contains(&authority.ehc_plan_percent), "{}", authority.ehc_plan_percent);
    let transfers =
        pupils.list_transitions_due(pb::ListTransitionsDueRequest::default()).await.expect("transfers").into_inner();
    assert!(transfers.transitions.len() >= 5, "{}", transfers.transitions.len());
    let page = Some(pb::PageRequest { page_size: 500, page_token: String::new() });
    let request = pb::ListAnnualReviewsDueRequest { window_days: 60, page, ..Default::default() };
    let reviews = pupils.list_annual_reviews_due(request).await.expect("reviews").into_inner();
    assert!(reviews.reviews.iter().any(|r| r.overdue) && reviews.reviews.iter().any(|r| !r.overdue));
    // Appeals to the Tribunal: one awaiting its hearing, one in mediation, one upheld, one withdrawn.
    let open = pupils.list_open_appeals(pb::ListOpenAppealsRequest::default()).await.expect("appeals").into_inner();
    let stage =
        |s: pb::AppealStage| open.appeals.iter().any(|r| r.appeal.as_ref().is_some_and(|a| a.stage == s as i32));
    assert!(stage(pb::AppealStage::AwaitingHearing) && stage(pb::AppealStage::Mediation), "{open:?}");
    let stats = pupils.get_appeal_stats(pb::GetAppealStatsRequest::default()).await.expect("appeal stats").into_inner();
    let ended: Vec<i32> =
        stats.recent_outcomes.iter().filter_map(|r| r.appeal.as_ref()?.appeal.as_ref().map(|f| f.outcome)).collect();
    assert!(
        ended.contains(&(pb::AppealOutcome::Upheld as i32)) && ended.contains(&(pb::AppealOutcome::Withdrawn as i32))
    );
    stop(running).await;
}

#[tokio::test]
async fn the_demo_referrals_show_every_state_and_a_clock_at_risk_and_breached() {
    use sen_proto::v1 as pb;
    use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
    let data = tempfile::tempdir().expect("temp dir");
    let running = start(data.path());
    let token = token(data.path(), &["--role", "case_officer", "--tenant", "991"]);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.address))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let attach = sen_platform::identity::AttachBearer::new(&token).expect("token");
    let mut referrals = ReferralsServiceClient::with_interceptor(channel, attach);
    let page = Some(pb::PageRequest { page_size: 500, page_token: String::new() });
    let all = referrals
        .list_referrals(pb::ListReferralsRequest { page, ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    let mut statuses: Vec<i32> = all.referrals.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert!(statuses.len() >= 6, "referrals in most states: {statuses:?}");
    let report =
        referrals.get_statutory_clock_report(pb::GetStatutoryClockReportRequest::default()).await.expect("report");
    let report = report.into_inner();
    assert!(report.at_risk >= 1 && report.breached >= 1, "at risk {} breached {}", report.at_risk, report.breached);
    stop(running).await;
}

#[tokio::test]
async fn the_demo_caseloads_show_loads_links_allocations_and_open_access() {
    use sen_proto::v1 as pb;
    use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
    use sen_proto::v1::pupils_service_client::PupilsServiceClient;
    let data = tempfile::tempdir().expect("temp dir");
    let running = start(data.path());
    let connect = |token: String| {
        let address = running.address.clone();
        async move {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
                .expect("address")
                .connect()
                .await
                .expect("connects");
            (channel, sen_platform::identity::AttachBearer::new(&token).expect("token"))
        }
    };
    let (channel, attach) = connect(token(data.path(), &["--role", "la_manager", "--tenant", "990"])).await;
    let mut manager = CaseloadsServiceClient::with_interceptor(channel, attach);
    let balance =
        manager.get_caseload_balance(pb::GetCaseloadBalanceRequest::default()).await.expect("balance").into_inner();
    assert!(balance.professionals.len() >= 7);
    assert!(balance.professionals.iter().any(|p| p.idle), "someone is idle");
    assert!(
        balance.professionals.iter().any(|p| p.overloaded),
        "someone is overloaded: {:?}",
        balance.professionals.iter().map(|p| (p.open_cases, p.capacity)).collect::<Vec<_>>()
    );
    let team = manager.list_professionals(pb::ListProfessionalsRequest::default()).await.expect("team").into_inner();
    assert!(team.professionals.iter().filter(|p| !p.link_schools.is_empty()).count() >= 4);
    let allocations = manager
        .list_school_allocations(pb::ListSchoolAllocationsRequest::default())
        .await
        .expect("allocations")
        .into_inner();
    assert!(allocations.schools.len() >= 10);
    assert!(allocations.schools.iter().any(|s| s.used > 0));
    let total: f64 = allocations.schools.iter().map(|s| s.allocated).sum();
    assert!((total - 300.0).abs() < 1.0, "the term's 300 sessions are shared out: {total}");
    // Advice asked for in the EHC needs assessments, in every state (reg. 8(1)).
    let advice = manager.list_advice_requests(pb::ListAdviceRequestsRequest::default()).await.expect("advice");
    let states: std::collections::BTreeSet<String> = advice.into_inner().advice.into_iter().map(|a| a.state).collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["awaited", "overdue", "received_late", "received_on_time"],
        "the demo advice shows each state"
    );

    let (channel, attach) =
        connect(token(data.path(), &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-jones"]))
            .await;
    let mut jones = CaseloadsServiceClient::with_interceptor(channel.clone(), attach.clone());
    let mine = jones.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.expect("caseload").into_inner();
    let first = mine.cases.first().and_then(|c| c.case.clone()).expect("Dr Jones has open cases");
    let mut unasked = 0;
    for person in ["ep-jones", "ep-smith"] {
        let (channel, attach) =
            connect(token(data.path(), &["--role", "educational_psychologist", "--tenant", "990", "--person", person]))
                .await;
        let mut ep = CaseloadsServiceClient::with_interceptor(channel, attach);
        let cases = ep.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.expect("caseload").into_inner();
        unasked += cases.cases.iter().filter(|c| c.next_deadline == "advice not yet requested").count();
    }
    assert!(unasked >= 1, "a statutory case whose advice is not yet requested");
    let mut pupils = PupilsServiceClient::with_interceptor(channel, attach);
    pupils.get_pupil(pb::GetPupilRequest { id: first.pupil_id }).await.expect("her case's pupil is open to her");
    stop(running).await;
}
