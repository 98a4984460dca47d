//! Resuming `WatchReferrals`: a watcher that lost its stream comes back with the
//! position of the last change it received and gets exactly what it missed, in
//! order, then the live changes, with nothing repeated or lost between the two;
//! within its own scope, on SQLite and PostgreSQL. Positions older than what is
//! kept are DATA_LOSS (reload), positions not yet reached INVALID_ARGUMENT.

use std::collections::BTreeSet;
use std::time::Duration;

use sen_platform::identity::Role;
use sen_platform::on_both_engines;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::platform::{ReferralsClient, TestPlatform};
use sen_tests::referral_steps::{accept, submit};
use tokio_stream::StreamExt;
use tonic::{Code, Streaming};
use tonic_types::StatusExt;

use pb::ReferralStatus::{Accepted, Allocated, Submitted};

/// A change as a watcher sees it: (position, referral id, status it moved to).
type Seen = (i64, i64, i32);

/// Schools 100001 and 100002 of 886 and a pupil at each; returns the pupils' ids.
async fn setup(platform: &TestPlatform) -> (i64, i64) {
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 200).await;
    let a = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let b = platform.pupil_on_support("886", 2, 100002, ("Ivy", "Green")).await;
    (a, b)
}

async fn allocate(platform: &TestPlatform, r: &pb::Referral, professional: &str) -> pb::Referral {
    let mut caseloads = platform.referrals(Role::Service, Some("886"), None).await;
    let request = pb::MarkAllocatedRequest { id: r.id, professional: professional.into(), case_ref: "C-1".into() };
    caseloads.mark_allocated(request).await.expect("allocated").into_inner()
}

/// Opens a watch after `after` (or from now): the position it begins after, and its stream.
async fn watch(
    client: &mut ReferralsClient,
    after: Option<i64>,
) -> Result<(i64, Streaming<pb::ReferralChange>), tonic::Status> {
    let response = client.watch_referrals(pb::WatchReferralsRequest { after_position: after }).await?;
    let begins = response
        .metadata()
        .get(sen_proto::WATCH_POSITION_METADATA)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("the watch says where it begins");
    Ok((begins, response.into_inner()))
}

/// The next change; one that never arrives fails the test rather than hanging it.
async fn next(stream: &mut Streaming<pb::ReferralChange>) -> Seen {
    let change = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a change within 20 s")
        .expect("stream open")
        .expect("a change");
    (change.position, change.referral.map_or(0, |r| r.id), change.change.map_or(0, |c| c.to))
}

async fn take(stream: &mut Streaming<pb::ReferralChange>, n: usize) -> Vec<Seen> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(next(stream).await);
    }
    seen
}

fn what(seen: &[Seen]) -> Vec<(i64, i32)> {
    seen.iter().map(|s| (s.1, s.2)).collect()
}

fn increasing(seen: &[Seen]) -> bool {
    seen.windows(2).all(|pair| pair[0].0 < pair[1].0)
}

async fn a_watcher_that_reconnects_with_its_position_gets_exactly_the_changes_it_missed_in_order(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let (_, mut stream) = watch(&mut manager, None).await.unwrap();
    let first = submit(&mut senco, a, "100001", "first").await;
    let (last, id, _) = next(&mut stream).await;
    assert_eq!(id, first.id);
    drop(stream);

    // Five changes while it is away.
    let second = submit(&mut senco, a, "100001", "second").await;
    accept(&mut officer, &first).await;
    let third = submit(&mut senco, a, "100001", "third").await;
    let second = accept(&mut officer, &second).await;
    allocate(&platform, &second, "ep-jones").await;
    let missed = [
        (second.id, Submitted as i32),
        (first.id, Accepted as i32),
        (third.id, Submitted as i32),
        (second.id, Accepted as i32),
        (second.id, Allocated as i32),
    ];

    let (begins, mut resumed) = watch(&mut manager, Some(last)).await.unwrap();
    assert_eq!(begins, last);
    let replayed = take(&mut resumed, 5).await;
    assert_eq!(what(&replayed), missed);
    assert!(replayed[0].0 > last && increasing(&replayed), "{replayed:?}");
    let live = accept(&mut officer, &third).await;
    assert_eq!(next(&mut resumed).await.1, live.id, "then live, with nothing more replayed");
}

async fn a_watcher_that_saw_no_change_resumes_from_where_its_watch_began(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let (begins, stream) = watch(&mut manager, None).await.unwrap();
    drop(stream);
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut ids = Vec::new();
    for key in ["one", "two", "three"] {
        ids.push(submit(&mut senco, a, "100001", key).await.id);
    }
    let (_, mut resumed) = watch(&mut manager, Some(begins)).await.unwrap();
    let seen = take(&mut resumed, 3).await;
    assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), ids);
}

async fn the_seam_between_replay_and_live_has_no_gap_and_no_repeat_under_concurrent_writes(engine: Engine) {
    const WRITERS: usize = 4;
    const EACH: usize = 6;
    let platform = std::sync::Arc::new(TestPlatform::start(engine).await.unwrap());
    let (a, _) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let (begins, stream) = watch(&mut manager, None).await.unwrap();
    drop(stream);

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let platform = platform.clone();
        writers.push(tokio::spawn(async move {
            let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
            let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
            let mut made = Vec::new();
            for n in 0..EACH {
                let r = submit(&mut senco, a, "100001", &format!("w{w}-{n}")).await;
                made.push((r.id, Submitted as i32));
                accept(&mut officer, &r).await;
                made.push((r.id, Accepted as i32));
            }
            made
        }));
    }

    // A watcher that drops its stream every three changes and resumes, while the
    // writers go on: each resumption replays some and follows live the rest.
    let total = WRITERS * EACH * 2;
    let mut seen: Vec<Seen> = Vec::new();
    let mut last = begins;
    while seen.len() < total {
        let (_, mut stream) = watch(&mut manager, Some(last)).await.unwrap();
        for change in take(&mut stream, 3.min(total - seen.len())).await {
            last = change.0;
            seen.push(change);
        }
    }
    let mut made = BTreeSet::new();
    for writer in writers {
        made.extend(writer.await.expect("writer"));
    }
    assert!(increasing(&seen), "positions only go up: {seen:?}");
    let distinct: BTreeSet<(i64, i32)> = what(&seen).into_iter().collect();
    assert_eq!(distinct.len(), total, "nothing twice");
    assert_eq!(distinct, made, "every change, and only those");

    // Nothing is left over: the next change after all of them is a new one.
    let (_, mut stream) = watch(&mut manager, Some(last)).await.unwrap();
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let after = submit(&mut senco, a, "100001", "after").await;
    assert_eq!(next(&mut stream).await.1, after.id);
}

async fn a_position_older_than_the_changes_kept_is_data_loss_that_says_to_reload(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let (begins, stream) = watch(&mut manager, None).await.unwrap();
    drop(stream);
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    submit(&mut senco, a, "100001", "old").await;
    let (latest, stream) = watch(&mut manager, None).await.unwrap();
    drop(stream);

    // Three days and a bit later, the hourly clean-up has deleted it.
    let later = chrono::Utc::now() + sen_referrals::feed::KEEP_CHANGES + chrono::TimeDelta::minutes(5);
    let deleted = sen_referrals::feed::forget_old_changes(&platform.referrals_store, later).await.unwrap();
    assert_eq!(deleted, 1);

    let lost = watch(&mut manager, Some(begins)).await.map(|_| ()).unwrap_err();
    assert_eq!(lost.code(), Code::DataLoss, "{lost:?}");
    assert!(lost.message().contains("reload the referrals"), "says what to do: {}", lost.message());
    // From the latest position nothing is missing, and the next change arrives.
    let (_, mut stream) = watch(&mut manager, Some(latest)).await.unwrap();
    let fresh = submit(&mut senco, a, "100001", "fresh").await;
    assert_eq!(next(&mut stream).await.1, fresh.id);
}

async fn a_position_not_yet_reached_or_negative_is_invalid_argument_naming_after_position(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let (latest, _) = watch(&mut manager, None).await.unwrap();
    for bad in [latest + 1, -1] {
        let refused = watch(&mut manager, Some(bad)).await.map(|_| ()).unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}: {refused:?}");
        let fields: Vec<String> = refused
            .get_details_bad_request()
            .expect("BadRequest")
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["after_position"], "{bad}");
    }
}

async fn a_replay_holds_only_what_the_watcher_may_see(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, b) = setup(&platform).await;
    let medway_school = pb::SchoolFields {
        laestab: "8872001".into(),
        name: "Medway School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        status: pb::EstablishmentStatus::Open as i32,
        ..Default::default()
    };
    let request = pb::CreateSchoolRequest { urn: "200001".into(), school: Some(medway_school) };
    platform.manager("887").await.create_school(request).await.expect("school");
    let m = platform.pupil_on_support("887", 1, 200001, ("Ada", "Hill")).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let (begins, stream) = watch(&mut manager, None).await.unwrap();
    drop(stream);

    // In 886: one referral at 100001 accepted and allocated to Dr Jones, one at
    // 100002; in 887, one.
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let mut senco_a = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let ra = submit(&mut senco_a, a, "100001", "a").await;
    let ra = accept(&mut officer, &ra).await;
    let ra = allocate(&platform, &ra, "ep-jones").await;
    let mut senco_b = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    let rb = submit(&mut senco_b, b, "100002", "b").await;
    let mut medway_officer = platform.referrals(Role::CaseOfficer, Some("887"), None).await;
    let rm = submit(&mut medway_officer, m, "200001", "m").await;

    // Each replays from before all of it; what it may not see never comes first.
    let jones = platform.token_for("ep-jones", Role::EducationalPsychologist, "886");
    let smith = platform.token_for("ep-smith", Role::EducationalPsychologist, "886");
    let mut expectations = vec![
        (
            platform.referrals(Role::LaManager, Some("886"), None).await,
            vec![
                (ra.id, Submitted as i32),
                (ra.id, Accepted as i32),
                (ra.id, Allocated as i32),
                (rb.id, Submitted as i32),
            ],
        ),
        (platform.referrals(Role::LaManager, Some("887"), None).await, vec![(rm.id, Submitted as i32)]),
        (platform.referrals(Role::Senco, Some("886"), Some(100002)).await, vec![(rb.id, Submitted as i32)]),
        (
            platform.referrals(Role::Senco, Some("886"), Some(100001)).await,
            vec![(ra.id, Submitted as i32), (ra.id, Accepted as i32), (ra.id, Allocated as i32)],
        ),
        (platform.referrals_as(&jones).await, vec![(ra.id, Allocated as i32)]),
    ];
    for (client, expected) in &mut expectations {
        let (_, mut stream) = watch(client, Some(begins)).await.unwrap();
        assert_eq!(what(&take(&mut stream, expected.len()).await), *expected);
    }
    // Dr Smith has nothing allocated: the first change he sees is the first
    // allocation to him, made after his replay began.
    let mut smith = platform.referrals_as(&smith).await;
    let (_, mut stream) = watch(&mut smith, Some(begins)).await.unwrap();
    let rb = accept(&mut officer, &rb).await;
    let rb = allocate(&platform, &rb, "ep-smith").await;
    assert_eq!((next(&mut stream).await.1, rb.allocated_to.as_str()), (rb.id, "ep-smith"));

    let mut operator = platform.referrals(Role::PlatformOperator, None, None).await;
    let refused = watch(&mut operator, Some(begins)).await.map(|_| ()).unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "the platform operator reads no referrals");
}

on_both_engines!(
    a_watcher_that_reconnects_with_its_position_gets_exactly_the_changes_it_missed_in_order,
    a_watcher_that_saw_no_change_resumes_from_where_its_watch_began,
    the_seam_between_replay_and_live_has_no_gap_and_no_repeat_under_concurrent_writes,
    a_position_older_than_the_changes_kept_is_data_loss_that_says_to_reload,
    a_position_not_yet_reached_or_negative_is_invalid_argument_naming_after_position,
    a_replay_holds_only_what_the_watcher_may_see,
);
