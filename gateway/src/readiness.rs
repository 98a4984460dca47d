//! Whether the gateway can do its work: it is ready only when every service it
//! fronts answers `grpc.health.v1` with SERVING, it is not stopping, and it is
//! not saturated (turning work away for want of a working place, see
//! [`Slots::saturated`]), so a load balancer sends work to a replica with room.
//! Checked on `/readyz`, and every few seconds in the background for the
//! `sen_gateway_upstream_up` metric.
//!
//! Requests without an identity filling the places kept for them do not make the
//! gateway unready: signed-in work is still served, and strangers could otherwise
//! take every replica out of service at will.
//!
//! On the stop signal the gateway [drains](Readiness::drain) before it stops
//! listening: from that moment `/readyz` answers 503 and the front port's
//! `grpc.health.v1` NOT_SERVING, so load balancers send new work elsewhere while
//! the calls in flight finish.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::layers::{Metrics, Slots};
use crate::upstream::GrpcService;

/// How long one health check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the background watch checks.
const WATCH_EVERY: Duration = Duration::from_secs(15);

/// The services to check, by part name.
#[derive(Clone)]
pub struct Readiness {
    parts: Arc<Vec<(&'static str, GrpcService)>>,
    /// Set once, when the stop signal arrives.
    draining: Arc<tokio::sync::watch::Sender<bool>>,
    /// The working places, when the gateway has them.
    slots: Option<Slots>,
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
    /// Every service answered SERVING and the gateway is not stopping.
    pub ready: bool,
    /// The gateway is stopping: it finishes the calls in flight and takes no new ones.
    pub draining: bool,
    /// Every working place is taken, or work was refused for want of one a moment ago.
    pub saturated: bool,
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
        Self { parts: Arc::new(parts), draining: Arc::new(tokio::sync::watch::channel(false).0), slots: None }
    }

    /// Not ready, either, while `slots` are [saturated](Slots::saturated).
    pub fn with_slots(mut self, slots: Slots) -> Self {
        self.slots = Some(slots);
        self
    }

    /// From now on the gateway is stopping: not ready, whatever the services say.
    pub fn drain(&self) {
        self.draining.send_replace(true);
    }

    /// Whether [`Self::drain`] has been called.
    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Completes when the gateway starts draining.
    pub fn drained(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut draining = self.draining.subscribe();
        async move {
            // The sender lives as long as any clone of this `Readiness`.
            let _ = draining.wait_for(|draining| *draining).await;
        }
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
        let draining = self.is_draining();
        let saturated = self.slots.as_ref().is_some_and(Slots::saturated);
        let serving = services.iter().all(|s| s.status == "SERVING");
        Report { ready: !draining && !saturated && serving, draining, saturated, services }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gateway_with_no_working_place_free_is_not_ready() {
        let slots = Slots::new(1);
        let readiness = Readiness::new(Vec::new()).with_slots(slots.clone());
        let metrics = Metrics::default();
        assert!(readiness.check(&metrics).await.ready);
        let held = slots.semaphore().try_acquire_owned().unwrap();
        let report = readiness.check(&metrics).await;
        assert!(!report.ready && report.saturated);
        drop(held);
        assert!(readiness.check(&metrics).await.ready, "room again");
    }
}
