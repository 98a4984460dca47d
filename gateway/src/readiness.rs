//! Whether the gateway can do its work, and how the services behind it are.
//!
//! The gateway is ready (`/readyz`, and `grpc.health.v1` on the admin port)
//! when it can serve: it is not stopping and not saturated (turning work away
//! for want of a working place, see [`Slots::saturated`]). It answers on the
//! admin port only once its front port is bound. Whether the services behind it
//! answer is **not** part of it: every replica sees the same services, so a
//! service down would take every replica out of the load balancer at once and
//! the whole site with it, when most pages and calls do not need that service.
//! Instead a missing service fails only the calls that need it (UNAVAILABLE, or
//! 503 in JSON), and the overview reports the parts it could not fill.
//!
//! Operators see each service on `/readyz/upstreams` (each one's
//! `grpc.health.v1` answer, asked at once; 503 when any does not serve) and in
//! the `sen_gateway_upstream_up` metric, kept current every few seconds in the
//! background.
//!
//! Requests without an identity filling the places kept for them do not make the
//! gateway unready: signed-in work is still served, and strangers could otherwise
//! take every replica out of service at will.
//!
//! On the stop signal the gateway [drains](Readiness::drain) before it stops
//! listening: from that moment `/readyz` answers 503 and `grpc.health.v1`
//! NOT_SERVING, so load balancers send new work elsewhere while the calls in
//! flight finish.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::health_server::{Health, HealthServer};

use crate::layers::{Metrics, Slots};
use crate::upstream::GrpcService;

/// How long one health check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the background watch checks.
const WATCH_EVERY: Duration = Duration::from_secs(15);

/// The gateway's own state, and the services to check, by part name.
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
    /// The gateway can take work: not stopping, not saturated.
    pub ready: bool,
    /// The gateway is stopping: it finishes the calls in flight and takes no new ones.
    pub draining: bool,
    /// Every working place is taken, or work was refused for want of one a moment ago.
    pub saturated: bool,
}

/// The answer of `/readyz/upstreams`.
#[derive(Debug, Serialize)]
pub struct UpstreamsReport {
    /// Every service answered SERVING.
    pub serving: bool,
    /// Each service and what it answered.
    pub services: Vec<PartReport>,
}

/// One service's health.
#[derive(Debug, Serialize)]
pub struct PartReport {
    /// The part name.
    pub service: &'static str,
    /// SERVING, NOT_SERVING or unreachable (with why).
    pub status: String,
}

impl Readiness {
    /// The gateway in front of `parts`.
    pub fn new(parts: Vec<(&'static str, GrpcService)>) -> Self {
        Self { parts: Arc::new(parts), draining: Arc::new(tokio::sync::watch::channel(false).0), slots: None }
    }

    /// Not ready, either, while `slots` are [saturated](Slots::saturated).
    pub fn with_slots(mut self, slots: Slots) -> Self {
        self.slots = Some(slots);
        self
    }

    /// From now on the gateway is stopping: not ready.
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

    /// The gateway's own readiness, at once: nothing is asked of the services.
    pub fn check(&self) -> Report {
        let draining = self.is_draining();
        let saturated = self.slots.as_ref().is_some_and(Slots::saturated);
        Report { ready: !draining && !saturated, draining, saturated }
    }

    /// Asks every service at once, and records each answer in `metrics`.
    pub async fn upstreams(&self, metrics: &Metrics) -> UpstreamsReport {
        let checks = self.parts.iter().map(|(_, endpoint)| tokio::spawn(check_one(endpoint.clone())));
        let mut services = Vec::new();
        for (check, (part, _)) in futures::future::join_all(checks).await.into_iter().zip(self.parts.iter()) {
            let status = check.unwrap_or_else(|_| "unreachable: the check failed".to_owned());
            metrics.upstream(part, status == "SERVING");
            services.push(PartReport { service: part, status });
        }
        UpstreamsReport { serving: services.iter().all(|s| s.status == "SERVING"), services }
    }

    /// A `grpc.health.v1` service saying SERVING until the gateway drains, then
    /// NOT_SERVING. Call it within the runtime.
    pub fn grpc_health(&self) -> HealthServer<impl Health> {
        let (reporter, health) = tonic_health::server::health_reporter();
        let drained = self.drained();
        tokio::spawn(async move {
            reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
            drained.await;
            reporter.set_service_status("", tonic_health::ServingStatus::NotServing).await;
        });
        health
    }
}

async fn check_one(endpoint: GrpcService) -> String {
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
        readiness.upstreams(&metrics).await;
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
        assert!(readiness.check().ready);
        let held = slots.semaphore().try_acquire_owned().unwrap();
        let report = readiness.check();
        assert!(!report.ready && report.saturated);
        drop(held);
        assert!(readiness.check().ready, "room again");
    }

    #[tokio::test]
    async fn a_service_that_cannot_be_reached_leaves_the_gateway_ready_and_is_reported() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{closed}"))
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .connect_lazy();
        let readiness = Readiness::new(vec![("caseloads", crate::upstream::boxed(channel))]);
        assert!(readiness.check().ready, "the gateway itself can serve");
        let metrics = Metrics::default();
        let upstreams = readiness.upstreams(&metrics).await;
        assert!(!upstreams.serving);
        assert_eq!(upstreams.services[0].service, "caseloads");
        assert!(upstreams.services[0].status.starts_with("unreachable"), "{upstreams:?}");
        assert!(metrics.encode().contains("sen_gateway_upstream_up{service=\"caseloads\"} 0"));
        readiness.drain();
        let report = readiness.check();
        assert!(!report.ready && report.draining);
    }
}
