//! The gateway: the one front door of the platform.
//!
//! One port, three faces: gRPC (a transparent proxy of `sen.v1` to the owning
//! service, with reflection), the JSON API under `/api/v1/` with its OpenAPI
//! document, and the web pages, which the `sen-web` crate makes and [`app`]
//! mounts as it is given them. Every call is authenticated ([`authn`]),
//! authorised method by method ([`policy`]), and passed on with a short-lived
//! internal identity token that the services verify, signed with the gateway's
//! key ([`signing_key`], loaded once; the pages make their keys from it too).
//! The web pages' sessions are kept in a store of the gateway's own, which every
//! replica shares ([`sessions`]).
//! Around it all: a request id, a span starting the platform's own trace, Prometheus
//! metrics, limits on each person, authority and (for callers without an
//! identity) client address, bodies read within a time limit before work is
//! taken on, and load shedding at the concurrency limit ([`layers`]); beneath
//! it, time limits on slow connections ([`server`]).

pub mod authn;
pub mod caller;
pub mod config;
pub mod drain;
pub mod json;
pub mod layers;
pub mod oidc;
pub mod overview;
pub mod policy;
pub mod proxy;
pub mod readiness;
pub mod schools_cache;
pub mod sen2;
pub mod server;
pub mod sessions;
pub mod signing_key;
pub mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use sen_platform::audit::{RefusalLimits, RefusalTrail};
use sen_platform::config::{Config, Mode};
use sen_platform::identity::DevIssuer;

use crate::authn::{Authenticator, Authn, Refusal};
use crate::caller::Caller;
use crate::config::GatewaySettings;
use crate::layers::{CallerLimits, Limits, Metrics, SessionCheck, Slots};
use crate::proxy::{Proxy, is_grpc, status_response};
use crate::readiness::Readiness;
use crate::signing_key::SigningKey;
use crate::upstream::{GrpcService, Upstreams};

/// The part name, as in `sen serve gateway`.
pub const PART: &str = "gateway";

/// A service the gateway fronts: its `sen.v1` gRPC name and the part owning it,
/// e.g. `("sen.v1.PupilsService", "pupils")`. The `sen` binary's table of
/// services says which there are; the gateway itself lists none.
pub type Fronted = (&'static str, &'static str);

/// The web pages the gateway serves: their routes, and how to recognise a
/// signed-in page session from a request's headers (so that page requests are
/// held to their person's limits, not a stranger's).
pub struct Pages {
    /// The pages' routes.
    pub routes: Router,
    /// Who a request's session cookie signs in, if anyone.
    pub sessions: SessionCheck,
}

/// Everything a request needs on its way through.
#[derive(Debug)]
pub struct Gateway {
    authn: Authn,
    proxy: Arc<Proxy>,
    upstreams: Upstreams,
    metrics: Arc<Metrics>,
    limits: Limits,
    slots: Slots,
    connections: server::ConnectionSettings,
    readiness: Readiness,
    /// The trail of refused requests (`audit` log lines).
    refusals: Arc<RefusalTrail>,
}

impl Gateway {
    /// A gateway in front of `services` (one endpoint per `sen.v1` service name).
    pub fn new(
        authn: Authn,
        services: Vec<(&'static str, &'static str, GrpcService)>,
        settings: &GatewaySettings,
    ) -> Self {
        let slots = Slots::new(settings.max_concurrent);
        let readiness = Readiness::new(services.iter().map(|(_, part, endpoint)| (*part, endpoint.clone())).collect())
            .with_slots(slots.clone());
        let own = overview::OverviewApi::new(Upstreams::new(services.clone())).into_service();
        let mut all = services;
        all.push(("sen.v1.GatewayService", PART, upstream::boxed(own)));
        let upstreams = Upstreams::new(all);
        let refusals = RefusalTrail::new(PART, None, RefusalLimits::default());
        Self {
            authn,
            proxy: Arc::new(Proxy { upstreams: upstreams.clone(), timeout: settings.request_timeout }),
            upstreams,
            metrics: Arc::new(Metrics::default().with_refusals(&refusals)),
            refusals,
            limits: settings.limits.clone(),
            slots,
            connections: settings.connections,
            readiness,
        }
    }

    /// Where each service answers, the gateway's own included (for the web pages).
    pub fn upstreams(&self) -> Upstreams {
        self.upstreams.clone()
    }

    /// The metrics, for the admin port.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// How the front port's connections are held to time limits, for [`server::serve_with`].
    pub fn connections(&self) -> server::Connections {
        server::Connections { settings: self.connections, metrics: self.metrics.clone() }
    }

    /// The caller of an authenticated request. The limits layer has already
    /// checked its bearer token and left the caller (or the refusal) in it; the
    /// token is checked here only for a request that did not come through it.
    async fn admit(&self, extensions: &http::Extensions, headers: &http::HeaderMap) -> Result<Caller, Status> {
        if let Some(caller) = extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        if let Some(refusal) = extensions.get::<Refusal>() {
            return Err(refusal_status(refusal.clone()));
        }
        self.authn.authenticate(headers).await.map_err(refusal_status)
    }
}

use tonic::Status;

fn refusal_status(refusal: Refusal) -> Status {
    if refusal.unavailable {
        Status::unavailable(refusal.message)
    } else if refusal.forbidden {
        Status::permission_denied(refusal.message)
    } else {
        Status::unauthenticated(refusal.message)
    }
}

/// What the front port serves besides the work: the probes and the metrics are
/// for the cluster alone, so in production they are on the admin port only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrontPort {
    /// `/healthz`, `/readyz`, `/readyz/upstreams` and `grpc.health.v1`.
    pub probes: bool,
    /// `/metrics`.
    pub metrics: bool,
}

impl FrontPort {
    /// As configured: the embedded platform keeps its probes on the front port
    /// (and its metrics, without an admin port); production keeps both off it.
    pub fn for_config(config: &Config) -> Self {
        Self { probes: config.mode == Mode::Embedded, metrics: metrics_on_front_port(config) }
    }
}

/// The front port's routes and layers, with the probes. With `admin_separate`,
/// `/metrics` is left to the admin port; with `pages` (the web's routes), the
/// pages are served too.
pub fn app(gateway: Arc<Gateway>, admin_separate: bool, pages: Option<Pages>) -> Router {
    front_app(gateway, FrontPort { probes: true, metrics: !admin_separate }, pages)
}

/// The front port's routes and layers, serving what `front` says besides the
/// work, and `pages` (the web's routes) when given.
pub fn front_app(gateway: Arc<Gateway>, front: FrontPort, pages: Option<Pages>) -> Router {
    // The probes answer however busy the gateway is: they are outside admission.
    let mut probes = Router::new();
    if front.probes {
        probes = probes
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/readyz/upstreams", get(upstreams))
            .route_service("/grpc.health.v1.Health/{*method}", gateway.readiness.grpc_health());
    }
    if front.metrics {
        probes = probes.route("/metrics", get(metrics));
    }
    let probes: Router = probes.with_state(gateway.clone());
    let api = json::router_within(gateway.upstreams.clone(), gateway.proxy.timeout)
        .layer(middleware::from_fn_with_state(gateway.clone(), authenticate_api));
    let mut work: Router = Router::new()
        .route_service("/grpc.reflection.v1.ServerReflection/{*method}", reflection_v1())
        .route_service("/grpc.reflection.v1alpha.ServerReflection/{*method}", reflection_v1alpha())
        .fallback(grpc_or_not_found)
        .with_state(gateway.clone())
        .merge(api);
    let mut sessions = None;
    if let Some(pages) = pages {
        work = work.merge(pages.routes);
        sessions = Some(pages.sessions);
    }
    let limits = Arc::new(CallerLimits::new(&gateway.limits, gateway.authn.clone(), sessions, gateway.metrics()));
    let work = work
        .layer(layers::RefusalsLayer::new(gateway.refusals.clone(), gateway.limits.trusted_proxies.clone()))
        .layer(layers::admission(limits, gateway.limits.body_timeout, gateway.metrics(), &gateway.slots))
        .layer(middleware::from_fn_with_state(gateway.readiness.clone(), drain::refuse_while_draining));
    probes.merge(work).layer(layers::front(gateway.metrics()))
}

/// The admin port's routes: the probes (HTTP and `grpc.health.v1`), each
/// service's state and the metrics; no authentication, no data.
pub fn admin_app(gateway: Arc<Gateway>) -> Router {
    let health = gateway.readiness.grpc_health();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/readyz/upstreams", get(upstreams))
        .route("/metrics", get(metrics))
        .route_service("/grpc.health.v1.Health/{*method}", health)
        .with_state(gateway)
}

fn reflection_v1()
-> tonic_reflection::server::v1::ServerReflectionServer<impl tonic_reflection::server::v1::ServerReflection> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sen_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .unwrap_or_else(|e| panic!("the compiled-in descriptors are valid: {e}"))
}

fn reflection_v1alpha()
-> tonic_reflection::server::v1alpha::ServerReflectionServer<impl tonic_reflection::server::v1alpha::ServerReflection> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sen_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .unwrap_or_else(|e| panic!("the compiled-in descriptors are valid: {e}"))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(gateway): State<Arc<Gateway>>) -> Response {
    let report = gateway.readiness.check();
    let status = if report.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(report)).into_response()
}

/// Each service's health, for operators; never a probe's business (see [`readiness`]).
async fn upstreams(State(gateway): State<Arc<Gateway>>) -> Response {
    let report = gateway.readiness.upstreams(&gateway.metrics).await;
    let status = if report.serving { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(report)).into_response()
}

async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        gateway.metrics.encode(),
    )
        .into_response()
}

/// Before the JSON API: the caller, from the bearer token.
async fn authenticate_api(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    if request.uri().path() == "/api/v1/openapi.json" {
        return next.run(request).await;
    }
    match gateway.admit(request.extensions(), request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(status) => json::error_response(&status),
    }
}

/// Everything else: a gRPC call to proxy, or nothing here.
async fn grpc_or_not_found(State(gateway): State<Arc<Gateway>>, mut request: Request<Body>) -> Response {
    if !is_grpc(request.headers()) {
        return json::error_response(&Status::not_found("there is nothing at this address"));
    }
    let caller = match gateway.admit(request.extensions(), request.headers()).await {
        Ok(caller) => caller,
        Err(status) => return status_response(status.code(), status.message()),
    };
    request.extensions_mut().insert(caller.clone());
    gateway.proxy.clone().forward(&caller, request).await
}

/// How the gateway checks bearer tokens and signs internal ones, as configured:
/// the identity provider in production; the development issuer in the embedded
/// mode (where an identity provider may also be set). Internal tokens are signed
/// with `key`.
pub fn authn_from_config(config: &Config, settings: &GatewaySettings, key: &SigningKey) -> anyhow::Result<Authn> {
    let authenticator = match (&settings.oidc, config.mode) {
        (Some(oidc), _) => Authenticator::Oidc(oidc::OidcVerifier::new(oidc.clone())?),
        (None, Mode::Embedded) => Authenticator::Development(
            DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?.verifier,
        ),
        (None, Mode::Production) => anyhow::bail!("SEN_OIDC_ISSUER is required in production mode"),
    };
    Ok(Authn::new(authenticator, key.signer().clone()))
}

/// The gateway alone (`sen serve gateway`), in front of `fronted` at their
/// configured URLs, signing internal tokens with `key`. Serve it with [`run`].
pub fn gateway_from_config(
    config: &Config,
    settings: &GatewaySettings,
    key: &SigningKey,
    fronted: &[Fronted],
) -> anyhow::Result<Gateway> {
    let authn = authn_from_config(config, settings, key)?;
    let mut services = Vec::new();
    for &(service, part) in fronted {
        let url = config.service_url(part).ok_or_else(|| {
            let variable = config.url_variable(part).unwrap_or("the service's URL");
            anyhow::anyhow!("{variable} is required: where the {part} service answers")
        })?;
        services.push((service, part, upstream::boxed(sen_platform::client::balanced(url, config)?)));
    }
    Ok(Gateway::new(authn, services, settings))
}

/// Whether `/metrics` is served on the front port: only in the embedded mode
/// without an admin port. In production the metrics (route by route, authority
/// by authority) are for the cluster's monitoring alone, on the admin port.
pub fn metrics_on_front_port(config: &Config) -> bool {
    config.mode == Mode::Embedded && config.admin_listen.is_none()
}

/// Serves `gateway` on `listener` until SIGTERM or Ctrl-C, with the admin port
/// when configured, and with `pages` (the web's pages, which the caller makes
/// from [`Gateway::upstreams`]) when given.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: &Config,
    gateway: Arc<Gateway>,
    pages: Option<Pages>,
) -> anyhow::Result<()> {
    let tls = match &config.tls {
        Some(files) => {
            // The front port asks no client for a certificate, whatever SEN_TLS_CLIENT_CA_FILE says.
            let files = sen_platform::config::TlsFiles { client_ca: None, ..files.clone() };
            let tls = sen_platform::tls::ServerTls::load(&files)?
                .with_alpn(&[b"h2", b"http/1.1"])
                .with_expiry_gauge(gateway.metrics.certificate_expiry("front"));
            Some(tls.config())
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let address = listener.local_addr()?;
    let _admin = match config.admin_listen {
        Some(admin) => {
            let admin_listener = tokio::net::TcpListener::bind(admin)
                .await
                .map_err(|e| anyhow::anyhow!("SEN_ADMIN_LISTEN: cannot listen on {admin}: {e}"))?;
            let app = admin_app(gateway.clone());
            // Small answers go out at once (TCP_NODELAY), as on the front port.
            let admin_listener = axum::serve::ListenerExt::tap_io(admin_listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            Some(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = axum::serve(admin_listener, app).await {
                    tracing::error!(error = %e, "the admin port stopped");
                }
            })))
        }
        None => {
            if config.mode == Mode::Production {
                tracing::warn!(
                    "SEN_ADMIN_LISTEN is not set: the probes (/healthz, /readyz, grpc.health.v1) and /metrics are \
                     not served (production serves them on the admin port only)"
                );
            }
            None
        }
    };
    let _watch = AbortOnDrop(tokio::spawn(readiness::watch(gateway.readiness.clone(), gateway.metrics())));
    tracing::info!(
        "gateway listening on {scheme}://{address} (gRPC, JSON API at /api/v1, OpenAPI at /api/v1/openapi.json)"
    );
    let readiness = gateway.readiness.clone();
    let connections = gateway.connections();
    let app = front_app(gateway, FrontPort::for_config(config), pages);
    // Readiness drops first, then the listener stops and the calls in flight finish.
    let signal = sen_platform::serve::shutdown_signal();
    let stop = async move {
        signal.await;
        tracing::info!("stopping: not ready from now on; finishing the calls in flight");
        readiness.drain();
    };
    server::serve_with(listener, tls, app, &connections, config.shutdown_grace, stop).await
}

/// A spawned task that stops when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
