//! A service's refusals, caught as they leave it: [`RefusalAudit`] wraps the
//! identity-checked gRPC service and, when the answer is UNAUTHENTICATED,
//! PERMISSION_DENIED or NOT_FOUND, hands the refusal to the service's
//! [`RefusalTrail`] before the caller hears it. Handlers refuse as they always
//! have (`Identity::caller`, a scope that does not reach the record); nothing
//! in them has to remember the trail.
//!
//! Only refusals pay: the caller is worked out from the identity token again
//! (the verifier remembers the tokens it has checked), never from the body.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::Utc;
use futures::future::BoxFuture;
use http::HeaderValue;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tower::Service;

use super::refusals::{Reason, RefusalTrail, Refused, Refusee};
use crate::identity::{IDENTITY_METADATA_KEY, IdentityVerifier, VerifyIdentity};
use crate::walls::{self, Wall, Walled};

/// A gRPC service whose refusals are recorded in a trail.
#[derive(Clone, Debug)]
pub struct RefusalAudit<S> {
    inner: S,
    trail: Arc<RefusalTrail>,
    verifier: IdentityVerifier,
}

/// A generated gRPC server behind identity verification, its refusals recorded in `trail`.
pub fn audited<S>(server: S, verifier: &IdentityVerifier, trail: Arc<RefusalTrail>) -> Audited<S> {
    RefusalAudit { inner: InterceptedService::new(server, verifier.interceptor()), trail, verifier: verifier.clone() }
}

/// What [`audited`] makes.
pub type Audited<S> = RefusalAudit<InterceptedService<S, VerifyIdentity>>;

impl<S: NamedService> NamedService for RefusalAudit<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B, RB> Service<http::Request<B>> for RefusalAudit<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>, Error = Infallible>,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = http::Response<Walled<RB>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // Cheap clones (shared bytes): only a refusal reads them.
        let token = request.headers().get(IDENTITY_METADATA_KEY).cloned();
        let uri = request.uri().clone();
        // The call, and every frame of its answer, reach only the rows of the
        // caller's own council (a remembered token costs a lookup).
        let wall = wall_of(&self.verifier, token.as_ref());
        let answer = walls::within(wall.clone(), self.inner.call(request));
        let trail = self.trail.clone();
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let response = answer.await?.map(|body| Walled::new(body, wall));
            if let Some(reason) = refusal_of(response.headers()) {
                let refused = Refused {
                    who: refusee(&verifier, token.as_ref()),
                    method: uri.path().to_owned(),
                    reason,
                    at: Utc::now(),
                    trace_id: crate::telemetry::current_trace_id(),
                };
                trail.record(refused).await;
            }
            Ok(response)
        })
    }
}

/// The refusal a gRPC answer's headers carry (a trailers-only answer), if any.
fn refusal_of(headers: &http::HeaderMap) -> Option<Reason> {
    let code: i32 = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    Reason::of(tonic::Code::from(code))
}

/// The tenant wall of the caller who sent `token`: their council, or none
/// (no tenant's rows) for a token that does not verify or names no council.
fn wall_of(verifier: &IdentityVerifier, token: Option<&HeaderValue>) -> Option<Wall> {
    let identity = verifier.verify(token?.to_str().ok()?).ok()?;
    identity.tenant().map(|tenant| Wall::Tenant(tenant.to_string()))
}

/// Who sent `token`, when it verifies; nobody known otherwise.
fn refusee(verifier: &IdentityVerifier, token: Option<&HeaderValue>) -> Refusee {
    let Some(identity) = token.and_then(|t| t.to_str().ok()).and_then(|t| verifier.verify(t).ok()) else {
        return Refusee::default();
    };
    Refusee {
        tenant: identity.tenant().map(|t| t.to_string()),
        person: Some(identity.person().to_owned()),
        role: Some(identity.role().as_str().to_owned()),
        client: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_refusing_statuses_are_refusals() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(refusal_of(&headers), None, "a streaming answer's status comes later");
        for (code, reason) in [
            ("5", Some(Reason::NotFound)),
            ("7", Some(Reason::PermissionDenied)),
            ("16", Some(Reason::Unauthenticated)),
            ("0", None),
            ("3", None),
            ("x", None),
        ] {
            headers.insert("grpc-status", HeaderValue::from_static(code));
            assert_eq!(refusal_of(&headers), reason, "grpc-status {code}");
        }
    }
}
