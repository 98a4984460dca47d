//! Telemetry as an operator sees it: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
//! request spans reach an OTLP collector, continuing the trace the caller sent in
//! `traceparent`; with `SEN_LOG_FORMAT=json`, every log line is a JSON object.

mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A collector that hands every export to the test.
struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let _ = self.0.send(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn request_spans_reach_the_collector_in_the_callers_trace() {
    let (exports, mut received) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let collector = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(exports)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start_with(
        data.path(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector), ("OTEL_BSP_SCHEDULE_DELAY", "100"), ("SEN_LOG_FORMAT", "json")],
    );
    for line in &running.startup_log {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(parsed.get("level").is_some() && parsed.get("timestamp").is_some(), "{line}");
    }

    let token = support::token(data.path(), &["--role", "la_manager", "--tenant", "990"]);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.address))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let mut client = SchoolsServiceClient::new(channel);
    let mut request = Request::new(pb::ListSchoolsRequest::default());
    request.metadata_mut().insert("x-sen-identity", token.parse().expect("ascii"));
    request.metadata_mut().insert("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01").parse().expect("ascii"));
    client.list_schools(request).await.expect("listed");

    let span = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(export) = received.recv().await {
            for resource in export.resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| kv.value.clone());
                for scope in resource.scope_spans {
                    if let Some(span) = scope.spans.into_iter().find(|s| hex(&s.trace_id) == TRACE_ID) {
                        return Some((span, service));
                    }
                }
            }
        }
        None
    })
    .await
    .expect("a span in the caller's trace is exported within 30 s")
    .expect("the collector kept receiving");
    let (span, service) = span;
    assert_eq!(hex(&span.parent_span_id), "00f067aa0ba902b7", "parented on the caller's span");
    assert!(format!("{service:?}").contains("\"sen\""), "{service:?}");
    support::stop(running).await;
}
