//! Telemetry as an operator sees it: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
//! request spans reach an OTLP collector, each outside request in a trace of the
//! platform's own that links to the trace the caller sent in `traceparent` (so a
//! caller can find its call, but never chooses the trace id the audit records);
//! with `SEN_LOG_FORMAT=json`, every log line is a JSON object.

mod support;

use std::time::Duration;

use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::Request;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn request_spans_reach_the_collector_in_a_trace_of_their_own_linked_to_the_callers() {
    let (collector, mut received) = support::collector().await;

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
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ascii"));
    request.metadata_mut().insert("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01").parse().expect("ascii"));
    client.list_schools(request).await.expect("listed");

    // The gateway's span starts a trace of its own, linked to the caller's span;
    // the service's span is parented on the gateway's.
    let caller_span = "00f067aa0ba902b7";
    let (gateway, service_span, service) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut spans = Vec::new();
        let mut service = None;
        while let Some(export) = received.recv().await {
            for resource in export.resource_spans {
                let name = resource
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| kv.value.clone());
                for scope in resource.scope_spans {
                    for span in scope.spans {
                        service = service.or(name.clone());
                        spans.push(span);
                    }
                }
            }
            let front = spans.iter().find(|s| {
                s.links.iter().any(|link| hex(&link.trace_id) == TRACE_ID && hex(&link.span_id) == caller_span)
            });
            if let Some(front) = front
                && let Some(inner) = spans.iter().find(|s| s.parent_span_id == front.span_id)
            {
                return Some((front.clone(), inner.clone(), service));
            }
        }
        None
    })
    .await
    .expect("spans linked to the caller's trace are exported within 30 s")
    .expect("the collector kept receiving");
    assert_ne!(hex(&gateway.trace_id), TRACE_ID, "the caller does not choose the platform's trace");
    assert!(gateway.parent_span_id.is_empty(), "the gateway's span is the root of its trace");
    assert_eq!(service_span.trace_id, gateway.trace_id, "the service's span is in the gateway's trace");
    assert!(!service_span.name.is_empty());
    assert!(format!("{service:?}").contains("\"sen\""), "{service:?}");
    support::stop(running).await;
}
