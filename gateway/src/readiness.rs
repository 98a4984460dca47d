//! Whether the gateway can do its work: it is ready only when every service it
//! fronts answers `grpc.health.v1` with SERVING. Checked on `/readyz`, and every
//! few seconds in the background for the `sen_gateway_upstream_up` metric.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::layers::Metrics;
use crate::upstream::GrpcService;

/// How long one health check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the background watch checks.
const WATCH_EVERY: Duration = Duration::from_secs(15);

/// The services to check, by part name.
#[derive(Clone)]
pub struct Readiness {
    parts: Arc<Vec<(&'static str, GrpcService)>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.parts.iter().map(|(part, _)| *part).collect();
        f.debug_struct("Readiness").field("parts", &names).finish()
    }
}

/// The answer of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Every service answered SERVING.
    pub ready: bool,
    /// Each service and whether it answered.
    pub services: Vec<PartReport>,
}

/// One service's health.
#[derive(Debug, Serialize)]
pub struct PartReport {
    /// The part name.
    pub service: &'static str,
    /// SERVING, NOT_SERVING or unreachable.
    pub status: String,
}

impl Readiness {
    /// Checks `parts`.
    pub fn new(parts: Vec<(&'static str, GrpcService)>) -> Self {
        Self { parts: Arc::new(parts) }
    }

    /// Asks every service at once.
    pub async fn check(&self, metrics: &Metrics) -> Report {
        let checks = self.parts.iter().map(|(part, endpoint)| tokio::spawn(check_one(part, endpoint.clone())));
        let mut services = Vec::new();
        for (check, (part, _)) in futures::future::join_all(checks).await.into_iter().zip(self.parts.iter()) {
            let status = check.unwrap_or_else(|_| "unreachable: the check failed".to_owned());
            metrics.upstream(part, status == "SERVING");
            services.push(PartReport { service: part, status });
        }
        Report { ready: services.iter().all(|s| s.status == "SERVING"), services }
    }
}

async fn check_one(_part: &'static str, endpoint: GrpcService) -> String {
    let mut client = HealthClient::new(endpoint);
    let asked = tokio::time::timeout(CHECK_TIMEOUT, client.check(HealthCheckRequest { service: String::new() }));
    match asked.await {
        Ok(Ok(response)) => match response.into_inner().status() {
            ServingStatus::Serving => "SERVING".to_owned(),
            other => other.as_str_name().to_owned(),
        },
        Ok(Err(status)) => format!("unreachable: {}", status.message()),
        Err(_) => "unreachable: no answer in time".to_owned(),
    }
}

/// Keeps `sen_gateway_upstream_up` current.
pub async fn watch(readiness: Readiness, metrics: Arc<Metrics>) {
    loop {
        readiness.check(&metrics).await;
        tokio::time::sleep(WATCH_EVERY).await;
    }
}
