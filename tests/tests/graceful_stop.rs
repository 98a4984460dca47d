//! A graceful stop: after the stop signal (SIGTERM in production), a call already
//! in flight finishes. Alone in its own test binary because it watches the
//! server's spans through a thread-local subscriber, which tests running beside
//! it on other threads would disturb.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::platform::{Options, TestPlatform};

/// Records the gRPC method of every request span the server opens.
#[derive(Clone, Default)]
struct SeenMethods(Arc<Mutex<Vec<String>>>, Arc<tokio::sync::Notify>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SeenMethods {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Method(Option<String>);
        impl tracing::field::Visit for Method {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "rpc.method" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut method = Method(None);
        attrs.record(&mut method);
        if let Some(m) = method.0 {
            self.0.lock().unwrap().push(m);
            self.1.notify_waiters();
        }
    }
}

impl SeenMethods {
    async fn wait_for(&self, suffix: &str) {
        loop {
            let notified = self.1.notified();
            if self.0.lock().unwrap().iter().any(|m| m.ends_with(suffix)) {
                return;
            }
            notified.await;
        }
    }
}

#[tokio::test]
async fn a_stop_signal_lets_an_import_in_flight_finish() {
    use tracing_subscriber::layer::SubscriberExt;
    let seen = SeenMethods::default();
    // The test runtime is single-threaded, so the server's spans reach this subscriber.
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(seen.clone()));
    let options = Options { shutdown_grace: Some(Duration::from_secs(30)), ..Default::default() };
    let mut platform = TestPlatform::start_with(Engine::Sqlite, options).await.unwrap();
    let mut manager = platform.manager("886").await;

    let header = "URN,LA (code),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentTypeGroup (name),EstablishmentStatus (code),OpenDate,CloseDate,PhaseOfEducation (code),StatutoryLowAge,StatutoryHighAge,NumberOfPupils,Postcode\n";
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::ImportSchoolsRequest>(4);
    let chunk = |text: &str| pb::ImportSchoolsRequest { chunk: text.as_bytes().to_vec(), dry_run: false };
    tx.send(chunk(header)).await.unwrap();
    let call =
        tokio::spawn(async move { manager.import_schools(tokio_stream::wrappers::ReceiverStream::new(rx)).await });
    tokio::time::timeout(Duration::from_secs(30), seen.wait_for("/sen.v1.SchoolsService/ImportSchools"))
        .await
        .expect("the server receives the import within 30 s");

    platform.signal_stop();
    tx.send(chunk("100001,886,2001,Oakfield Primary,1,Community school,G,1,,,2,4,11,,\n")).await.unwrap();
    drop(tx);
    let response = call.await.unwrap().expect("the in-flight import completes").into_inner();
    assert_eq!(response.created, 1);
    platform.stop().await.unwrap();
}
