//! The gateway: the one front door of the platform.
//!
//! One port, three faces: gRPC (a transparent proxy of `sen.v1` to the owning
//! service, with reflection), the JSON API under `/api/v1/` with its OpenAPI
//! document, and (later) the web pages. Every call is authenticated
//! ([`authn`]), authorised method by method ([`policy`]), and passed on with a
//! short-lived internal identity token that the services verify. Around it all:
//! a request id, a span in the caller's trace, Prometheus metrics, load
//! shedding at the concurrency limit, and a rate limit per tenant ([`layers`]).

pub mod authn;
pub mod caller;
pub mod config;
pub mod json;
pub mod layers;
pub mod oidc;
pub mod overview;
pub mod policy;
pub mod proxy;
pub mod readiness;
pub mod server;
pub mod upstream;
pub mod web;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::{DevIssuer, GATEWAY_ISSUER, IdentitySigner};
use tracing::Instrument;

use crate::authn::{Authenticator, Authn, Refusal};
use crate::caller::Caller;
use crate::config::GatewaySettings;
use crate::layers::{ConcurrencyLimit, Metrics, RateLimiter, RequestIds};
use crate::proxy::{Proxy, is_grpc, status_response};
use crate::readiness::Readiness;
use crate::upstream::{GrpcService, Upstreams};

/// The part name, as in `sen serve gateway`.
pub const PART: &str = "gateway";

/// The `sen.v1` services the gateway fronts, with the part owning each.
pub const SERVICES: [(&str, &str); 4] = [
    ("sen.v1.SchoolsService", "schools"),
    ("sen.v1.PupilsService", "pupils"),
    ("sen.v1.ReferralsService", "referrals"),
    ("sen.v1.CaseloadsService", "caseloads"),
];

/// Everything a request needs on its way through.
#[derive(Debug)]
pub struct Gateway {
    authn: Authn,
    proxy: Arc<Proxy>,
    upstreams: Upstreams,
    metrics: Arc<Metrics>,
    limiter: RateLimiter,
    concurrency: ConcurrencyLimit,
    ids: RequestIds,
    readiness: Readiness,
}

impl Gateway {
    /// A gateway in front of `services` (one endpoint per `sen.v1` service name).
    pub fn new(
        authn: Authn,
        services: Vec<(&'static str, &'static str, GrpcService)>,
        settings: &GatewaySettings,
    ) -> Self {
        let readiness = Readiness::new(services.iter().map(|(_, part, endpoint)| (*part, endpoint.clone())).collect());
        let own = overview::OverviewApi::new(Upstreams::new(services.clone())).into_service();
        let mut all = services;
        all.push(("sen.v1.GatewayService", PART, upstream::boxed(own)));
        let upstreams = Upstreams::new(all);
        Self {
            authn,
            proxy: Arc::new(Proxy { upstreams: upstreams.clone(), timeout: settings.request_timeout }),
            upstreams,
            metrics: Arc::new(Metrics::default()),
            limiter: RateLimiter::new(settings.rate_per_tenant, settings.rate_burst),
            concurrency: ConcurrencyLimit::new(settings.max_concurrent),
            ids: RequestIds::default(),
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

    /// Authenticates the request and takes it from its tenant's rate limit.
    async fn admit(&self, headers: &http::HeaderMap) -> Result<Caller, Status> {
        let caller = self.authn.authenticate(headers).await.map_err(refusal_status)?;
        let tenant = caller.grant.tenant.map_or_else(|| "-".to_owned(), |t| t.to_string());
        if !self.limiter.allow(&tenant) {
            self.metrics.rate_limited(&tenant);
            return Err(Status::resource_exhausted("too many requests for this authority; try again shortly"));
        }
        Ok(caller)
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

/// The front port's routes and layers. With `admin_separate`, `/metrics` is left
/// to the admin port; with `web`, the pages are served too.
pub fn app(gateway: Arc<Gateway>, admin_separate: bool, web: Option<Arc<web::Web>>) -> Router {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        health_reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    });
    let mut public = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route_service("/grpc.health.v1.Health/{*method}", health)
        .route_service("/grpc.reflection.v1.ServerReflection/{*method}", reflection_v1())
        .route_service("/grpc.reflection.v1alpha.ServerReflection/{*method}", reflection_v1alpha());
    if !admin_separate {
        public = public.route("/metrics", get(metrics));
    }
    let public: Router = public.fallback(grpc_or_not_found).with_state(gateway.clone());
    let api = json::router(gateway.upstreams.clone())
        .layer(middleware::from_fn_with_state(gateway.clone(), authenticate_api));
    let mut app = public.merge(api);
    if let Some(web) = web {
        app = app.merge(web::router(web));
    }
    app.layer(middleware::from_fn_with_state(gateway, front))
}

/// The admin port's routes: probes and metrics, no authentication, no data.
pub fn admin_app(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
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
    let report = gateway.readiness.check(&gateway.metrics).await;
    let status = if report.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(report)).into_response()
}

async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        gateway.metrics.encode(),
    )
        .into_response()
}

/// Paths that answer without a caller and are never shed.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/grpc.health.v1.Health/")
}

/// Outermost: request id, span, metrics, and load shedding.
async fn front(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let grpc = is_grpc(request.headers());
    let path = request.uri().path().to_owned();
    let route = layers::route_label(&path, grpc);
    let id = layers::with_request_id(&mut request, &gateway.ids);
    let span = tracing::info_span!(
        "gateway",
        otel.kind = "server",
        otel.name = %route,
        http.request.method = %request.method(),
        request_id = %id.to_str().unwrap_or_default(),
    );
    sen_platform::telemetry::set_parent_from_headers(&span, request.headers());
    let response = async {
        if is_probe(&path) {
            return next.run(request).await;
        }
        let Some(permit) = gateway.concurrency.try_enter() else {
            gateway.metrics.shed();
            tracing::warn!("shedding a request: the concurrency limit is reached");
            let status = Status::unavailable("the platform is busy; try again shortly");
            return if grpc { status_response(status.code(), status.message()) } else { json::error_response(&status) };
        };
        let response = next.run(request).await;
        drop(permit);
        response
    }
    .instrument(span)
    .await;
    let mut response = layers::observe(&gateway.metrics, route, grpc, started, response);
    response.headers_mut().insert(layers::REQUEST_ID, id);
    response
}

/// Before the JSON API: the caller, from the bearer token.
async fn authenticate_api(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    if request.uri().path() == "/api/v1/openapi.json" {
        return next.run(request).await;
    }
    match gateway.admit(request.headers()).await {
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
    let caller = match gateway.admit(request.headers()).await {
        Ok(caller) => caller,
        Err(status) => return status_response(status.code(), status.message()),
    };
    request.extensions_mut().insert(caller.clone());
    gateway.proxy.clone().forward(&caller, request).await
}

/// How the gateway checks bearer tokens and signs internal ones, as configured:
/// the identity provider and the gateway key in production; the development
/// issuer in the embedded mode (where an identity provider may also be set).
pub fn authn_from_config(config: &Config, settings: &GatewaySettings) -> anyhow::Result<Authn> {
    let authenticator = match (&settings.oidc, config.mode) {
        (Some(oidc), _) => Authenticator::Oidc(oidc::OidcVerifier::new(oidc.clone())?),
        (None, Mode::Embedded) => Authenticator::Development(
            DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?.verifier,
        ),
        (None, Mode::Production) => anyhow::bail!("SEN_OIDC_ISSUER is required in production mode"),
    };
    let signer = match (&settings.signing_key, config.mode) {
        (Some(path), _) => {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_SIGNING_KEY_FILE: {}: {e}", path.display()))?;
            IdentitySigner::from_pem(&pem, GATEWAY_ISSUER)
                .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_SIGNING_KEY_FILE: {e}"))?
        }
        (None, Mode::Embedded) => DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?.signer,
        (None, Mode::Production) => anyhow::bail!("SEN_GATEWAY_SIGNING_KEY_FILE is required in production mode"),
    };
    Ok(Authn::new(authenticator, signer))
}

/// The private key signing internal tokens and web sessions, as configured: the
/// gateway key in production, the development key in the embedded mode.
fn signing_key_pem(config: &Config, settings: &GatewaySettings) -> anyhow::Result<(Vec<u8>, &'static str)> {
    match (&settings.signing_key, config.mode) {
        (Some(path), _) => Ok((
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_SIGNING_KEY_FILE: {}: {e}", path.display()))?,
            GATEWAY_ISSUER,
        )),
        (None, Mode::Embedded) => {
            DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
            let path = config.data_dir.join(DevIssuer::KEY_FILE);
            Ok((
                std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                sen_platform::identity::DEV_ISSUER,
            ))
        }
        (None, Mode::Production) => anyhow::bail!("SEN_GATEWAY_SIGNING_KEY_FILE is required in production mode"),
    }
}

/// The web pages as configured, signing people in with `login`.
pub fn web_from_config(
    config: &Config,
    settings: &GatewaySettings,
    upstreams: Upstreams,
    login: web::signin::Login,
) -> anyhow::Result<Arc<web::Web>> {
    let (pem, issuer) = signing_key_pem(config, settings)?;
    let internal = IdentitySigner::from_pem(&pem, issuer).map_err(anyhow::Error::msg)?;
    let sessions = web::session::SessionKeys::from_pem(&pem).map_err(anyhow::Error::msg)?;
    Ok(Arc::new(web::Web {
        upstreams,
        internal,
        sessions,
        login,
        secure_cookies: config.tls.is_some() || config.mode == Mode::Production,
    }))
}

/// Runs the gateway alone (`sen serve gateway`), in front of the services at the
/// configured URLs.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let settings = GatewaySettings::from_env(config)?;
    let authn = authn_from_config(config, &settings)?;
    let urls = [&config.schools_url, &config.pupils_url, &config.referrals_url, &config.caseloads_url];
    let mut services = Vec::new();
    for ((service, part), url) in SERVICES.into_iter().zip(urls) {
        let url = url.as_deref().ok_or_else(|| anyhow::anyhow!("the URL of the {part} service is required"))?;
        services.push((service, part, upstream::boxed(sen_platform::client::channel(url, config)?)));
    }
    // The web pages, when a client of the identity provider is configured for them.
    let login = match (web::oidc_login::LoginSettings::from_env(settings.oidc.as_ref())?, &settings.oidc) {
        (Some(login), Some(oidc)) => {
            let (pem, _) = signing_key_pem(config, &settings)?;
            Some(web::signin::Login::Provider(Box::new(web::oidc_login::ProviderLogin::new(login, oidc, &pem)?)))
        }
        _ => None,
    };
    let listener = sen_platform::serve::bind(config).await?;
    run(listener, config, &settings, authn, services, login).await
}

/// Serves the gateway on `listener` in front of `services` until SIGTERM or
/// Ctrl-C, with the admin port when configured.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: &Config,
    settings: &GatewaySettings,
    authn: Authn,
    services: Vec<(&'static str, &'static str, GrpcService)>,
    login: Option<web::signin::Login>,
) -> anyhow::Result<()> {
    let gateway = Arc::new(Gateway::new(authn, services, settings));
    let web = match login {
        Some(login) => Some(web_from_config(config, settings, gateway.upstreams(), login)?),
        None => None,
    };
    let tls = match &config.tls {
        Some(files) => Some(server::tls_config(&files.cert, &files.key)?),
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
            Some(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = axum::serve(admin_listener, app).await {
                    tracing::error!(error = %e, "the admin port stopped");
                }
            })))
        }
        None => None,
    };
    let _watch = AbortOnDrop(tokio::spawn(readiness::watch(gateway.readiness.clone(), gateway.metrics())));
    tracing::info!(
        "gateway listening on {scheme}://{address} (gRPC, JSON API at /api/v1, OpenAPI at /api/v1/openapi.json)"
    );
    let app = app(gateway, config.admin_listen.is_some(), web);
    server::serve(listener, tls, app, config.shutdown_grace, sen_platform::serve::shutdown_signal()).await
}

/// A spawned task that stops when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
