//! The services behind the gateway, by the `sen.v1` service names they own.
//!
//! Each is a gRPC channel (TLS, mutual TLS when configured) spread over the
//! service's replicas: the host name of its URL is resolved to every address
//! and each call goes to one of them ([`sen_platform::balance`]). The gateway's
//! own `GatewayService` is served in-process behind the same interface, so the
//! proxy and the JSON API reach every method the same way.
//!
//! The authority's schools that the web pages read are kept here too
//! ([`SchoolsCache`]): every call to the schools service other than a read,
//! whichever way it comes (the proxy, the JSON API, a page), goes through the
//! one endpoint, which forgets them.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Service};

use crate::schools_cache::{self, SchoolsCache};

/// A gRPC endpoint: takes a gRPC HTTP/2 request, answers its response.
pub type GrpcService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, UpstreamError>;

/// Why a service could not be reached (connection refused, TLS failure, ...).
///
/// A concrete type rather than a boxed error, so that futures holding it are
/// provably `Send` everywhere they are awaited.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UpstreamError(#[source] BoxError);

/// Where each `sen.v1` service is answered.
#[derive(Clone, Default)]
pub struct Upstreams {
    by_service: Arc<HashMap<&'static str, (&'static str, GrpcService)>>,
    schools: Arc<SchoolsCache>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&&str> = self.by_service.keys().collect();
        names.sort();
        f.debug_struct("Upstreams").field("services", &names).finish()
    }
}

impl Upstreams {
    /// Upstreams from `(service name, part name, endpoint)` triples, e.g.
    /// `("sen.v1.PupilsService", "pupils", channel)`.
    pub fn new(entries: impl IntoIterator<Item = (&'static str, &'static str, GrpcService)>) -> Self {
        let schools = Arc::new(SchoolsCache::default());
        let by_service = entries
            .into_iter()
            .map(|(service, part, endpoint)| {
                let endpoint = if service == schools_cache::SCHOOLS_SERVICE {
                    BoxCloneSyncService::new(Forgetting { inner: endpoint, schools: schools.clone() })
                } else {
                    endpoint
                };
                (service, (part, endpoint))
            })
            .collect();
        Self { by_service: Arc::new(by_service), schools }
    }

    /// The authority's schools kept for the web pages.
    pub fn schools_cache(&self) -> &SchoolsCache {
        &self.schools
    }

    /// The endpoint answering `service` (fully-qualified, e.g. `sen.v1.PupilsService`).
    pub fn route(&self, service: &str) -> Option<GrpcService> {
        self.by_service.get(service).map(|(_, endpoint)| endpoint.clone())
    }

    /// The part (schools, pupils, referrals, caseloads, gateway) owning `service`.
    pub fn part(&self, service: &str) -> Option<&'static str> {
        self.by_service.get(service).map(|(part, _)| *part)
    }

    /// Every (service, part) known.
    pub fn services(&self) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = self.by_service.iter().map(|(service, (part, _))| (*service, *part)).collect();
        all.sort();
        all
    }
}

/// The schools service's endpoint, forgetting the kept schools around every
/// call that is not a read (before it, and again once it is answered).
#[derive(Clone)]
struct Forgetting {
    inner: GrpcService,
    schools: Arc<SchoolsCache>,
}

impl Service<http::Request<Body>> for Forgetting {
    type Response = http::Response<Body>;
    type Error = UpstreamError;
    type Future = BoxFuture<'static, Result<http::Response<Body>, UpstreamError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), UpstreamError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let changes = !schools_cache::reads(request.uri().path());
        if changes {
            self.schools.forget();
        }
        let (answer, schools) = (self.inner.call(request), self.schools.clone());
        Box::pin(async move {
            let answer = answer.await;
            if changes {
                schools.forget();
            }
            answer
        })
    }
}

/// Boxes a tonic channel (or any gRPC tower service) as a [`GrpcService`].
pub fn boxed<S>(service: S) -> GrpcService
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    use tower::ServiceExt;
    BoxCloneSyncService::new(service.map_err(|e| UpstreamError(e.into())))
}
