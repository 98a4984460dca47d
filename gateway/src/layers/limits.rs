//! Who may start a request, and how many at once: the first step of admission,
//! taken as soon as a request's headers are in, before its body is read and
//! before it takes a working place.
//!
//! The caller is recognised from the headers alone: a bearer token the gateway
//! accepts ([`Authn`], whose answer is left in the request for the handlers), or
//! a page session the web recognises ([`SessionCheck`]). Then:
//!
//! - **a signed-in person** is held to their own rate
//!   (`SEN_RATE_LIMIT_PER_PERSON`) and requests at once
//!   (`SEN_MAX_CONCURRENT_PER_PERSON`), then to their authority's rate
//!   (`SEN_RATE_LIMIT_PER_TENANT`). The person's limit is well under the
//!   authority's, so one busy SENCO cannot use up the council's allowance;
//! - **anyone else** (no credentials, or credentials refused) is held to the
//!   rate and requests at once of their client address
//!   (`SEN_RATE_LIMIT_PER_ADDRESS`, `SEN_MAX_CONCURRENT_PER_ADDRESS`; the
//!   address as [`super::address`] works it out), and all of them together to
//!   `SEN_MAX_CONCURRENT_ANONYMOUS` places, a part of the gateway's working
//!   places: however many connections strangers open, signed-in work keeps the
//!   rest.
//!
//! A refusal says when to try again ([`Refusal`]) and is counted by limit and
//! authority (`sen_gateway_rate_limited_total`), never by person or address.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use http::HeaderMap;
use sen_platform::identity::Grant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service, ServiceExt};

use crate::authn::{Authn, bearer};
use crate::layers::address::{AddressKey, TrustedProxies};
use crate::layers::in_flight::{Entered, InFlight};
use crate::layers::metrics::Metrics;
use crate::layers::rate_limit::{Rate, RateLimiter, retry_after_seconds};
use crate::layers::refusal::{Face, Refusal};

/// Recognises a signed-in page session from a request's headers (the web's
/// session cookie), giving who it is.
pub type SessionCheck = Arc<dyn Fn(&HeaderMap) -> Option<Grant> + Send + Sync>;

/// The limits on callers, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Each authority's rate (`SEN_RATE_LIMIT_PER_TENANT`, `SEN_RATE_LIMIT_BURST`).
    pub per_tenant: Rate,
    /// Each person's rate (`SEN_RATE_LIMIT_PER_PERSON`, `SEN_RATE_LIMIT_PERSON_BURST`).
    pub per_person: Rate,
    /// Each client address's rate, without an identity
    /// (`SEN_RATE_LIMIT_PER_ADDRESS`, `SEN_RATE_LIMIT_ADDRESS_BURST`).
    pub per_address: Rate,
    /// Requests one person may have in progress at once (`SEN_MAX_CONCURRENT_PER_PERSON`).
    pub person_at_once: usize,
    /// Requests without an identity in progress at once, from everyone
    /// (`SEN_MAX_CONCURRENT_ANONYMOUS`).
    pub anonymous_at_once: usize,
    /// Requests without an identity one client address may have in progress at
    /// once (`SEN_MAX_CONCURRENT_PER_ADDRESS`).
    pub address_at_once: usize,
    /// The longest a request's body may take to arrive, or a streamed upload may
    /// pause (`SEN_REQUEST_BODY_TIMEOUT_SECONDS`).
    pub body_timeout: Duration,
    /// The proxies whose `X-Forwarded-For` is believed (`SEN_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_tenant: Rate { per_second: 100, burst: 200 },
            per_person: Rate { per_second: 25, burst: 50 },
            per_address: Rate { per_second: 20, burst: 60 },
            person_at_once: 32,
            anonymous_at_once: 128,
            address_at_once: 16,
            body_timeout: Duration::from_secs(20),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// A request admitted as a signed-in person's: it may send the larger bodies.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn;

/// The limits' state: buckets and counts by person, authority and address.
pub struct CallerLimits {
    authn: Authn,
    sessions: Option<SessionCheck>,
    people: RateLimiter<String>,
    tenants: RateLimiter<String>,
    addresses: RateLimiter<AddressKey>,
    people_at_once: InFlight<String>,
    addresses_at_once: InFlight<AddressKey>,
    anonymous: Arc<Semaphore>,
    trusted_proxies: TrustedProxies,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CallerLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerLimits").finish_non_exhaustive()
    }
}

/// What an admitted request holds until it is answered.
enum Held {
    Person { _place: Entered<String> },
    Anonymous { _place: Entered<AddressKey>, _permit: OwnedSemaphorePermit },
}

impl CallerLimits {
    /// `limits`, recognising callers with `authn` and, for the pages, `sessions`.
    pub fn new(limits: &Limits, authn: Authn, sessions: Option<SessionCheck>, metrics: Arc<Metrics>) -> Self {
        Self {
            authn,
            sessions,
            people: RateLimiter::new(limits.per_person),
            tenants: RateLimiter::new(limits.per_tenant),
            addresses: RateLimiter::new(limits.per_address),
            people_at_once: InFlight::new(limits.person_at_once),
            addresses_at_once: InFlight::new(limits.address_at_once),
            anonymous: Arc::new(Semaphore::new(limits.anonymous_at_once.max(1))),
            trusted_proxies: limits.trusted_proxies.clone(),
            metrics,
        }
    }

    /// Who sent `request`, if anyone the gateway knows. A bearer token's check
    /// is left in the request (the [`crate::caller::Caller`] or the refusal), so
    /// the handlers do not check it again.
    async fn recognise(&self, request: &mut Request) -> Option<Grant> {
        if bearer(request.headers()).is_some() {
            return match self.authn.authenticate(request.headers()).await {
                Ok(caller) => {
                    let grant = caller.grant.clone();
                    request.extensions_mut().insert(caller);
                    Some(grant)
                }
                Err(refusal) => {
                    request.extensions_mut().insert(refusal);
                    None
                }
            };
        }
        self.sessions.as_ref().and_then(|check| check(request.headers()))
    }

    async fn admit(&self, request: &mut Request) -> Result<Held, Refusal> {
        match self.recognise(request).await {
            Some(grant) => {
                let held = self.admit_person(&grant)?;
                request.extensions_mut().insert(SignedIn);
                Ok(held)
            }
            None => self.admit_anonymous(request),
        }
    }

    fn admit_person(&self, grant: &Grant) -> Result<Held, Refusal> {
        let tenant = grant.tenant.map_or_else(|| "-".to_owned(), |t| t.to_string());
        let person = format!("{tenant}/{}", grant.person);
        let Some(entered) = self.people_at_once.enter(&person) else {
            self.metrics.rate_limited("person_at_once", &tenant);
            return Err(Refusal::TooMany {
                message: "you have too many requests in progress; wait for one to finish",
                retry_after: 1,
            });
        };
        if let Err(wait) = self.people.take(&person) {
            self.metrics.rate_limited("person", &tenant);
            return Err(Refusal::TooMany {
                message: "too many requests from you; try again shortly",
                retry_after: retry_after_seconds(wait),
            });
        }
        if let Err(wait) = self.tenants.take(&tenant) {
            // Refused for the authority's sake: the person's own allowance is not spent.
            self.people.give_back(&person);
            self.metrics.rate_limited("tenant", &tenant);
            return Err(Refusal::TooMany {
                message: "too many requests for this authority; try again shortly",
                retry_after: retry_after_seconds(wait),
            });
        }
        Ok(Held::Person { _place: entered })
    }

    fn admit_anonymous(&self, request: &Request) -> Result<Held, Refusal> {
        let address = AddressKey::of(self.trusted_proxies.client_of(request));
        let Some(entered) = self.addresses_at_once.enter(&address) else {
            self.metrics.rate_limited("address_at_once", "-");
            return Err(Refusal::TooMany {
                message: "too many requests at once from your address; sign in, or try again shortly",
                retry_after: 1,
            });
        };
        if let Err(wait) = self.addresses.take(&address) {
            self.metrics.rate_limited("address", "-");
            return Err(Refusal::TooMany {
                message: "too many requests from your address; sign in, or try again shortly",
                retry_after: retry_after_seconds(wait),
            });
        }
        let Ok(permit) = self.anonymous.clone().try_acquire_owned() else {
            self.metrics.anonymous_shed();
            tracing::warn!("refusing a request without an identity: the places for them are all taken");
            return Err(Refusal::Busy { message: "the platform is busy; sign in, or try again shortly" });
        };
        Ok(Held::Anonymous { _place: entered, _permit: permit })
    }
}

/// Applies [`CallerLimits`] to every request passing through it.
#[derive(Clone, Debug)]
pub struct LimitsLayer {
    limits: Arc<CallerLimits>,
}

impl LimitsLayer {
    /// Applying `limits`.
    pub fn new(limits: Arc<CallerLimits>) -> Self {
        Self { limits }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Limited { inner, limits: self.limits.clone() }
    }
}

/// The service [`LimitsLayer`] makes.
#[derive(Clone, Debug)]
pub struct Limited<S> {
    inner: S,
    limits: Arc<CallerLimits>,
}

impl<S> Service<Request> for Limited<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Nothing below is asked to be ready yet: a working place is taken only
        // once the request is admitted and its body read.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let limits = self.limits.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let face = Face::of(&request);
            let version = request.version();
            match limits.admit(&mut request).await {
                Ok(held) => {
                    let answer = inner.oneshot(request).await;
                    drop(held);
                    answer
                }
                Err(refusal) => Ok(refusal.answer(face, version)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::Authenticator;
    use axum::body::Body;
    use sen_platform::identity::{DevIssuer, Role};
    use sen_platform::ids::LaCode;
    use std::net::SocketAddr;

    fn grant(person: &str, tenant: &str) -> Grant {
        Grant { person: person.into(), role: Role::CaseOfficer, tenant: LaCode::parse(tenant).ok(), school: None }
    }

    fn limits(limits: Limits) -> (CallerLimits, DevIssuer) {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        (CallerLimits::new(&limits, authn, None, Arc::new(Metrics::default())), dev)
    }

    fn from(address: &str) -> Request {
        let mut request = Request::new(Body::empty());
        let peer: SocketAddr = format!("{address}:40000").parse().unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request
    }

    #[test]
    fn one_person_past_their_rate_leaves_the_rest_of_their_authority_its_allowance() {
        let (limits, _) = limits(Limits {
            per_person: Rate { per_second: 1, burst: 2 },
            per_tenant: Rate { per_second: 1, burst: 3 },
            ..Limits::default()
        });
        let senco = grant("senco", "886");
        let held: Vec<_> = (0..2).map(|_| limits.admit_person(&senco).unwrap()).collect();
        drop(held);
        assert!(matches!(limits.admit_person(&senco), Err(Refusal::TooMany { .. })));
        assert!(limits.admit_person(&grant("manager", "886")).is_ok(), "the authority has one request left");
        let refused = limits.admit_person(&grant("officer", "886"));
        assert!(matches!(refused, Err(Refusal::TooMany { message, .. }) if message.contains("authority")));
        assert!(limits.admit_person(&grant("manager", "887")).is_ok(), "another authority has its own");
    }

    #[test]
    fn strangers_are_limited_by_address_and_all_together() {
        let (limits, _) = limits(Limits {
            per_address: Rate { per_second: 1, burst: 100 },
            address_at_once: 2,
            anonymous_at_once: 3,
            ..Limits::default()
        });
        let first = [limits.admit_anonymous(&from("192.0.2.1")), limits.admit_anonymous(&from("192.0.2.1"))];
        assert!(first.iter().all(Result::is_ok));
        let refused = limits.admit_anonymous(&from("192.0.2.1"));
        assert!(matches!(refused, Err(Refusal::TooMany { retry_after: 1, .. })), "the address's cap");
        let other = limits.admit_anonymous(&from("192.0.2.2"));
        assert!(other.is_ok(), "another address has its own");
        let refused = limits.admit_anonymous(&from("192.0.2.3"));
        assert!(matches!(refused, Err(Refusal::Busy { .. })), "the strangers' places are all taken");
        drop(first);
        assert!(limits.admit_anonymous(&from("192.0.2.3")).is_ok());
    }

    #[tokio::test]
    async fn a_valid_token_is_recognised_once_and_its_caller_left_for_the_handlers() {
        let (limits, dev) = limits(Limits::default());
        let token = dev.signer.mint(&grant("senco", "886"), Duration::from_secs(60)).unwrap();
        let mut request = from("192.0.2.1");
        request.headers_mut().insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        assert!(matches!(limits.admit(&mut request).await, Ok(Held::Person { .. })));
        assert!(request.extensions().get::<crate::caller::Caller>().is_some());
        assert!(request.extensions().get::<SignedIn>().is_some());

        let mut forged = from("192.0.2.1");
        forged.headers_mut().insert(http::header::AUTHORIZATION, "Bearer forged".parse().unwrap());
        assert!(matches!(limits.admit(&mut forged).await, Ok(Held::Anonymous { .. })), "limited as a stranger");
        assert!(forged.extensions().get::<crate::authn::Refusal>().is_some());
    }
}
