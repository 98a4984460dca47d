//! `WatchReferrals` over HTTP, through the real gateway: the referrals list's
//! live feed as a browser's `EventSource` uses it (each event's id is the
//! change's position; a reconnection sending the last one as `Last-Event-ID`
//! gets the changes missed meanwhile, in order, none twice; one sending a
//! position no longer kept, or not a position, is told to reload), and the JSON
//! API's event stream and the gRPC proxy resuming after a position.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

/// One server-sent event: its fields as (name, value), comments left out.
type Block = Vec<(String, String)>;

/// Reads the events of an event stream as they come.
struct Events {
    response: Response,
    text: String,
}

impl Events {
    async fn open(client: &Client, gateway: &TestGateway, last_event_id: Option<&str>) -> Self {
        let mut request = client.get(format!("{}/referrals/live", gateway.url()));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("answered");
        assert_eq!(response.status(), StatusCode::OK);
        Self { response, text: String::new() }
    }

    /// The next event (keep-alive comments skipped); one that never comes fails the test.
    async fn next(&mut self) -> Block {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let fields: Block = block
                    .lines()
                    .filter(|l| !l.starts_with(':') && !l.is_empty())
                    .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect();
                if !fields.is_empty() {
                    return fields;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.response.chunk()).await;
            let chunk = chunk.expect("an event in time").expect("read").expect("the stream stays open");
            self.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn field<'a>(block: &'a Block, name: &str) -> Option<&'a str> {
    block.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// (event name, data, id) of a block.
fn parts(block: &Block) -> (Option<String>, Option<String>, i64) {
    let id = field(block, "id").and_then(|id| id.parse().ok()).expect("every event carries a position");
    (field(block, "event").map(str::to_owned), field(block, "data").map(str::to_owned), id)
}

fn named(name: &str, data: impl ToString) -> (Option<String>, Option<String>) {
    (Some(name.to_owned()), Some(data.to_string()))
}

async fn refer(platform: &TestPlatform, pupil: i64, key: &str) -> i64 {
    let body = pb::ReferralBody {
        pupil_id: pupil,
        school_urn: "100001".into(),
        kind: "educational_psychology".into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand".into(),
        graduated_approach: Some(pb::GraduatedApproach { summary: "Small-group work".into(), ..Default::default() }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother".into(),
            given_on: Some(pb::Date { year: 2026, month: 11, day: 10 }),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    };
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let request =
        pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into(), confirm_duplicate: true };
    senco.submit_referral(request).await.expect("referral").into_inner().id
}

#[tokio::test]
async fn the_live_list_resumes_after_the_last_event_id_and_reloads_when_it_cannot() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Pupil1", "Tester")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;

    // The stream opens with where it begins, then one event per change.
    let mut events = Events::open(&manager, &gateway, None).await;
    let (name, _, begins) = parts(&events.next().await);
    assert_eq!(name, None, "the opening event only sets the id");
    let first = refer(&platform, pupil, "first").await;
    let (name, data, last) = parts(&events.next().await);
    assert_eq!((name, data), named("referral", first));
    assert!(last > begins);
    drop(events);

    // The stream dropped; two referrals came meanwhile; the browser reconnects.
    let missed = [refer(&platform, pupil, "second").await, refer(&platform, pupil, "third").await];
    let mut events = Events::open(&manager, &gateway, Some(&last.to_string())).await;
    assert_eq!(parts(&events.next().await), (None, None, last), "resumes where it was");
    let mut positions = vec![last];
    for id in missed {
        let (name, data, position) = parts(&events.next().await);
        assert_eq!((name, data), named("referral", id));
        positions.push(position);
    }
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "in order: {positions:?}");
    let live = refer(&platform, pupil, "live").await;
    assert_eq!(parts(&events.next().await).1, Some(live.to_string()), "then live, nothing twice");
    drop(events);

    // Three days later the changes after `last` are no longer kept: the page reloads.
    let later = chrono::Utc::now() + sen_referrals::feed::KEEP_CHANGES + chrono::TimeDelta::minutes(5);
    sen_referrals::feed::forget_old_changes(&platform.referrals_store, later).await.expect("forgot");
    for sent in [last.to_string(), "not-a-position".to_owned()] {
        let mut events = Events::open(&manager, &gateway, Some(&sent)).await;
        let (name, data, begins) = parts(&events.next().await);
        assert_eq!((name, data), named("reload", "reload"), "after {sent}");
        assert!(begins >= *positions.last().unwrap_or(&0), "and a fresh position to go on from");
    }
}

#[tokio::test]
async fn the_json_api_and_the_grpc_proxy_resume_after_a_position() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Pupil1", "Tester")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);

    // Through the proxy, the watch says where it begins.
    let channel = gateway.bearer(&token).await.expect("gateway");
    let mut referrals = pb::referrals_service_client::ReferralsServiceClient::new(channel);
    let response = referrals.watch_referrals(pb::WatchReferralsRequest::default()).await.expect("watching");
    let begins: i64 = response
        .metadata()
        .get(sen_proto::WATCH_POSITION_METADATA)
        .expect("where it begins")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    drop(response);
    let missed = [refer(&platform, pupil, "one").await, refer(&platform, pupil, "two").await];

    // Over JSON, `?after_position=` resumes: the missed changes, with their positions.
    let url = format!("{}/api/v1/referrals/watch?after_position={begins}", gateway.url());
    let response = Client::new().get(url).bearer_auth(&token).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = Events { response, text: String::new() };
    let mut positions = vec![begins];
    for id in missed {
        let block = events.next().await;
        assert_eq!(field(&block, "event"), Some("referral"));
        let change: serde_json::Value = serde_json::from_str(field(&block, "data").expect("data")).expect("JSON");
        assert_eq!(change["referral"]["id"], id);
        positions.push(change["position"].as_i64().expect("a position"));
    }
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "in order: {positions:?}");
}
