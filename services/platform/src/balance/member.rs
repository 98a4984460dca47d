//! The replicas a balanced service calls now ([`Membership`]), and each one as
//! the balancer sees it ([`Member`]): a channel to one address that takes itself
//! out of the balance when a call on it fails for want of a connection.
//!
//! A call that fails that way (refused, reset, the keep-alive ping unanswered)
//! says the replica is gone or unreachable, so the member answers its next
//! readiness check with an error and the balancer drops it: the caller's retry
//! goes to another replica rather than to the one that just failed. The address
//! comes back only when the resolver still lists it and a new connection to it
//! succeeds. A call that merely ran out of time says nothing about the replica
//! and leaves it in. The last member is never dropped: with one replica left
//! its channel reconnects by itself, as a channel to a single address does.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::transport::Channel;
use tower::{BoxError, Service};

/// Whether one member, as admitted once, has been taken out.
#[derive(Debug, Default)]
pub(crate) struct Health {
    out: AtomicBool,
}

impl Health {
    fn is_out(&self) -> bool {
        self.out.load(Ordering::Acquire)
    }

    fn take_out(&self) {
        self.out.store(true, Ordering::Release);
    }
}

/// The addresses in the balance of one service, each with its member's health.
#[derive(Debug)]
pub(crate) struct Membership {
    host: Arc<str>,
    members: Mutex<HashMap<SocketAddr, Arc<Health>>>,
}

impl Membership {
    /// No members yet, for the service named `host`.
    pub(crate) fn new(host: &str) -> Self {
        Self { host: host.into(), members: Mutex::new(HashMap::new()) }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<SocketAddr, Arc<Health>>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The host name the members answer for.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The addresses in the balance now.
    pub(crate) fn addresses(&self) -> BTreeSet<SocketAddr> {
        self.members().keys().copied().collect()
    }

    /// Whether no address is in the balance.
    pub(crate) fn is_empty(&self) -> bool {
        self.members().is_empty()
    }

    /// Admits `addr` (anew, if it was in before) and returns its health.
    pub(crate) fn admit(&self, addr: SocketAddr) -> Arc<Health> {
        let health = Arc::new(Health::default());
        if let Some(before) = self.members().insert(addr, health.clone()) {
            before.take_out();
        }
        tracing::info!(host = %self.host, %addr, "a replica joined the balance");
        health
    }

    /// Takes `addr` out because the resolver no longer lists it, unless it is
    /// the last member; answers whether it was taken out.
    pub(crate) fn retire(&self, addr: SocketAddr) -> bool {
        let mut members = self.members();
        if members.len() <= 1 {
            return false;
        }
        match members.remove(&addr) {
            Some(health) => {
                health.take_out();
                tracing::info!(host = %self.host, %addr, "a replica left the balance: no longer resolved");
                true
            }
            None => false,
        }
    }

    /// Takes the member `health` of `addr` out after a call on it failed with
    /// `error`, unless it is the last member.
    fn fail(&self, addr: SocketAddr, health: &Arc<Health>, error: &BoxError) {
        let mut members = self.members();
        if health.is_out() {
            return;
        }
        let current = members.get(&addr).is_some_and(|member| Arc::ptr_eq(member, health));
        if current && members.len() <= 1 {
            tracing::debug!(host = %self.host, %addr, %error, "the only replica failed a call; its channel reconnects");
            return;
        }
        if current {
            members.remove(&addr);
        }
        health.take_out();
        tracing::warn!(
            host = %self.host,
            %addr,
            %error,
            "a replica was dropped from the balance: it comes back when resolved again and it connects"
        );
    }
}

/// One address in the balance: its channel, held to its health.
pub(crate) struct Member {
    addr: SocketAddr,
    channel: Channel,
    health: Arc<Health>,
    membership: Arc<Membership>,
}

impl Member {
    /// `channel` to `addr`, admitted as `health`.
    pub(crate) fn new(addr: SocketAddr, channel: Channel, health: Arc<Health>, membership: Arc<Membership>) -> Self {
        Self { addr, channel, health, membership }
    }
}

/// Why a member refused to be called: it was taken out of the balance.
#[derive(Debug, thiserror::Error)]
#[error("the replica at {0} was taken out of the balance")]
pub(crate) struct TakenOut(SocketAddr);

/// Whether `error` is a call running out of its time rather than a failed connection.
fn is_deadline(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = error.source();
    }
    false
}

type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

impl Service<http::Request<Body>> for Member {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.health.is_out() {
            // The balancer drops a member whose readiness fails.
            return Poll::Ready(Err(TakenOut(self.addr).into()));
        }
        self.channel.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let call = self.channel.call(request);
        let (addr, health, membership) = (self.addr, self.health.clone(), self.membership.clone());
        Box::pin(async move {
            call.await.map_err(|error| {
                let error = BoxError::from(error);
                if !is_deadline(error.as_ref()) {
                    membership.fail(addr, &health, &error);
                }
                error
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, n], 8443))
    }

    #[test]
    fn a_failed_member_is_taken_out_but_never_the_last() {
        let membership = Membership::new("sen-pupils-headless");
        let first = membership.admit(addr(1));
        let second = membership.admit(addr(2));
        let refused: BoxError = "connection refused".into();
        membership.fail(addr(1), &first, &refused);
        assert!(first.is_out());
        assert_eq!(membership.addresses().into_iter().collect::<Vec<_>>(), [addr(2)]);
        membership.fail(addr(2), &second, &refused);
        assert!(!second.is_out(), "the last member stays and reconnects");
        assert!(!membership.retire(addr(2)), "nor is the last member retired");
    }

    #[test]
    fn a_member_admitted_again_is_not_taken_out_by_its_earlier_failure() {
        let membership = Membership::new("sen-pupils-headless");
        let _other = membership.admit(addr(1));
        let before = membership.admit(addr(2));
        let again = membership.admit(addr(2));
        assert!(before.is_out(), "replaced");
        membership.fail(addr(2), &before, &"reset".into());
        assert!(!again.is_out());
        assert_eq!(membership.addresses().len(), 2);
    }

    #[test]
    fn running_out_of_time_is_not_a_failed_replica() {
        let timeout: BoxError = tonic::TimeoutExpired(()).into();
        assert!(is_deadline(timeout.as_ref()));
        let refused: BoxError = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into();
        assert!(!is_deadline(refused.as_ref()));
    }
}
