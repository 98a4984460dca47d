//! Refused requests at the front door, kept as `audit` log lines: a bearer
//! token missing or refused (UNAUTHENTICATED, 401), a role the method's rule
//! does not admit or a token that grants nothing here (PERMISSION_DENIED,
//! 403), on the gRPC and JSON faces alike. The gateway has no database, so its
//! trail is the log: one `warn` line with target `audit` per refusal recorded
//! (person, tenant, role, client address, method, reason; never the body),
//! limited per caller (authority or client address, and person) by the
//! platform's [`RefusalTrail`], which also counts every refusal
//! (`sen_gateway_refusals_total{reason}`) and writes the count of those it only
//! counted when each window closes.
//!
//! The layer sits inside admission, where the caller is known
//! ([`crate::caller::Caller`], left by the limits layer), and reads only the
//! answer's status. A refusal a service sent back through the proxy is in the
//! gateway's lines too (with the client's address, which the service never
//! sees), besides the service's own audit row. The record is named after the
//! route, never after an id in the path. Pages are left out: a page without a
//! session sends the browser to sign in, which is no refusal.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use chrono::Utc;
use futures::future::BoxFuture;
use http::StatusCode;
use sen_platform::audit::{Reason, RefusalTrail, Refused, Refusee};
use sen_platform::identity::Grant;
use tower::{Layer, Service};

use crate::caller::Caller;
use crate::layers::address::TrustedProxies;
use crate::layers::refusal::Face;
use crate::layers::route::Route;

/// Records the refusals of the requests passing through it in a trail.
#[derive(Clone, Debug)]
pub struct RefusalsLayer {
    trail: Arc<RefusalTrail>,
    proxies: TrustedProxies,
}

impl RefusalsLayer {
    /// Recording in `trail`, clients' addresses read as `proxies` allow.
    pub fn new(trail: Arc<RefusalTrail>, proxies: TrustedProxies) -> Self {
        Self { trail, proxies }
    }
}

impl<S> Layer<S> for RefusalsLayer {
    type Service = Refusals<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Refusals { inner, trail: self.trail.clone(), proxies: self.proxies.clone() }
    }
}

/// The service [`RefusalsLayer`] makes.
#[derive(Clone, Debug)]
pub struct Refusals<S> {
    inner: S,
    trail: Arc<RefusalTrail>,
    proxies: TrustedProxies,
}

/// What is kept of a request until its answer says whether it was refused.
struct Asked {
    face: Face,
    grant: Option<Grant>,
    client: Option<IpAddr>,
    route: String,
}

impl<S> Service<Request> for Refusals<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let face = Face::of(&request);
        if face == Face::Page {
            return Box::pin(self.inner.call(request));
        }
        let asked = Asked {
            face,
            grant: request.extensions().get::<Caller>().map(|caller| caller.grant.clone()),
            client: self.proxies.client_of(&request),
            route: Route::of(&request).label,
        };
        let answer = self.inner.call(request);
        let trail = self.trail.clone();
        Box::pin(async move {
            let response = answer.await?;
            if let Some(reason) = refusal_of(asked.face, &response) {
                trail.record(refused(asked, reason)).await;
            }
            Ok(response)
        })
    }
}

/// The refusal an answer to `face` carries, if any.
fn refusal_of(face: Face, response: &Response) -> Option<Reason> {
    match face {
        Face::Grpc => {
            let code: i32 = response.headers().get("grpc-status")?.to_str().ok()?.parse().ok()?;
            Reason::of(tonic::Code::from(code)).filter(|reason| *reason != Reason::NotFound)
        }
        Face::Api => match response.status() {
            StatusCode::UNAUTHORIZED => Some(Reason::Unauthenticated),
            StatusCode::FORBIDDEN => Some(Reason::PermissionDenied),
            _ => None,
        },
        Face::Page => None,
    }
}

fn refused(asked: Asked, reason: Reason) -> Refused {
    let client = asked.client.map(|ip| ip.to_string());
    let who = match asked.grant {
        Some(grant) => Refusee {
            tenant: grant.tenant.map(|t| t.to_string()),
            person: Some(grant.person),
            role: Some(grant.role.as_str().to_owned()),
            client,
        },
        None => Refusee { client, ..Refusee::default() },
    };
    Refused { who, method: asked.route, reason, at: Utc::now(), trace_id: sen_platform::telemetry::current_trace_id() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn grpc(code: &'static str) -> Response {
        let mut response = Response::new(Body::empty());
        response.headers_mut().insert("grpc-status", http::HeaderValue::from_static(code));
        response
    }

    fn http(status: StatusCode) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = status;
        response
    }

    #[test]
    fn authentication_and_role_refusals_are_recorded_in_both_protocols() {
        assert_eq!(refusal_of(Face::Grpc, &grpc("16")), Some(Reason::Unauthenticated));
        assert_eq!(refusal_of(Face::Grpc, &grpc("7")), Some(Reason::PermissionDenied));
        assert_eq!(refusal_of(Face::Api, &http(StatusCode::UNAUTHORIZED)), Some(Reason::Unauthenticated));
        assert_eq!(refusal_of(Face::Api, &http(StatusCode::FORBIDDEN)), Some(Reason::PermissionDenied));
    }

    #[test]
    fn answers_that_refuse_nobody_are_not_recorded() {
        assert_eq!(refusal_of(Face::Grpc, &grpc("0")), None);
        assert_eq!(refusal_of(Face::Grpc, &grpc("5")), None, "the service records what is out of reach");
        assert_eq!(refusal_of(Face::Api, &http(StatusCode::NOT_FOUND)), None);
        assert_eq!(refusal_of(Face::Api, &http(StatusCode::TOO_MANY_REQUESTS)), None);
        assert_eq!(refusal_of(Face::Page, &http(StatusCode::FORBIDDEN)), None);
    }
}
