//! Where a service's replicas are: a [`Resolve`] turns the host name of a
//! service URL into the addresses answering for it.
//!
//! In a cluster the name is a headless Service (`sen-pupils-headless`), whose
//! DNS answer lists every ready pod, so [`Dns`] is all production needs.
//! [`Listed`] answers from a list its holder changes, for tests and for set-ups
//! without DNS.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// What a resolution answers: the addresses, in a stable order.
pub type Resolution = Pin<Box<dyn Future<Output = std::io::Result<BTreeSet<SocketAddr>>> + Send>>;

/// Finds the addresses of the replicas answering for a host name.
pub trait Resolve: Send + Sync + 'static {
    /// Every address of `host` now, each with `port`.
    fn resolve(&self, host: &str, port: u16) -> Resolution;
}

/// The system's resolver (DNS, `/etc/hosts`), as `getaddrinfo` answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dns;

impl Resolve for Dns {
    fn resolve(&self, host: &str, port: u16) -> Resolution {
        let host = host.to_owned();
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// Answers every name with the addresses it was last given.
#[derive(Clone, Debug, Default)]
pub struct Listed(Arc<Listing>);

#[derive(Debug, Default)]
struct Listing {
    addresses: RwLock<Vec<IpAddr>>,
    asked: AtomicUsize,
}

impl Listed {
    /// Answering with `addresses`.
    pub fn new(addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        Self(Arc::new(Listing { addresses: RwLock::new(addresses.into_iter().collect()), asked: AtomicUsize::new(0) }))
    }

    /// Answers with `addresses` from now on.
    pub fn set(&self, addresses: impl IntoIterator<Item = IpAddr>) {
        *self.0.addresses.write().unwrap_or_else(PoisonError::into_inner) = addresses.into_iter().collect();
    }

    /// How many times it has been asked, so that a test can wait for the next
    /// resolution rather than for a time.
    pub fn times_asked(&self) -> usize {
        self.0.asked.load(Ordering::Acquire)
    }
}

impl Resolve for Listed {
    fn resolve(&self, _host: &str, port: u16) -> Resolution {
        let addresses = {
            let listed = self.0.addresses.read().unwrap_or_else(PoisonError::into_inner);
            listed.iter().map(|ip| SocketAddr::new(*ip, port)).collect()
        };
        self.0.asked.fetch_add(1, Ordering::AcqRel);
        Box::pin(std::future::ready(Ok(addresses)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listed_resolver_answers_what_it_was_last_given() {
        let listed = Listed::new(["127.0.0.1".parse().unwrap()]);
        let first = listed.resolve("sen-pupils-headless", 8443).await.unwrap();
        assert_eq!(first.into_iter().collect::<Vec<_>>(), ["127.0.0.1:8443".parse().unwrap()]);
        listed.set(["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()]);
        let second = listed.resolve("sen-pupils-headless", 8443).await.unwrap();
        assert_eq!(second.len(), 2);
        assert_eq!(listed.times_asked(), 2);
    }

    #[tokio::test]
    async fn the_system_resolver_finds_loopback_for_localhost() {
        let found = Dns.resolve("localhost", 80).await.unwrap();
        assert!(found.iter().all(|addr| addr.ip().is_loopback() && addr.port() == 80), "{found:?}");
        assert!(!found.is_empty());
    }
}
