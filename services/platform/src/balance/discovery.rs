//! Keeping the balance in step with the resolver: every interval the host name
//! is resolved again; an address newly listed joins once a connection to it
//! succeeds, and an address no longer listed leaves.
//!
//! When nothing is in the balance and no listed address connects (the called
//! service is still starting), every listed address joins with a channel that
//! connects on its first call and reconnects by itself, as a channel to a single
//! address always has: calls fail as they would on that channel, and succeed as
//! soon as the service answers, without waiting for the next round.
//!
//! A resolution that fails or lists nothing changes nothing: the replicas in
//! the balance are kept until the resolver says otherwise.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tonic::transport::Channel;
use tower::discover::Change;
use tower::load::{CompleteOnResponse, PendingRequests};

use super::dial::Dial;
use super::member::{Member, Membership};
use super::resolve::Resolve;

/// A member as the balancer weighs it: by the calls it has open.
pub(crate) type Weighed = PendingRequests<Member>;

/// The round-by-round work of keeping one service's balance up to date.
pub(crate) struct Discovery {
    /// The port every resolved address is called on.
    pub(crate) port: u16,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) dial: Arc<dyn Dial>,
    pub(crate) membership: Arc<Membership>,
    pub(crate) changes: mpsc::UnboundedSender<Change<SocketAddr, Weighed>>,
    /// Set once the first round is over, or a member joined.
    pub(crate) settled: watch::Sender<bool>,
    /// How long between two rounds.
    pub(crate) every: Duration,
}

impl Discovery {
    /// Rounds every interval, until the balance they feed is gone.
    pub(crate) async fn run(self) {
        let mut problem = None;
        loop {
            self.round(&mut problem).await;
            self.settled.send_replace(true);
            tokio::select! {
                () = tokio::time::sleep(self.every) => {}
                () = self.changes.closed() => return,
            }
        }
    }

    async fn round(&self, problem: &mut Option<String>) {
        let host = self.membership.host();
        let listed = match self.resolver.resolve(host, self.port).await {
            Ok(listed) if !listed.is_empty() => listed,
            Ok(_) => return self.report(problem, "the name resolves to no address".to_owned()),
            Err(e) => return self.report(problem, format!("the name cannot be resolved: {e}")),
        };
        if problem.take().is_some() {
            tracing::info!(host, addresses = listed.len(), "the name resolves again");
        }
        let members = self.membership.addresses();
        let fresh: Vec<SocketAddr> = listed.difference(&members).copied().collect();
        futures::future::join_all(fresh.iter().map(|addr| self.connect(*addr))).await;
        if self.membership.is_empty() {
            for addr in &listed {
                self.admit(*addr, self.dial.lazy(*addr));
            }
        }
        for addr in members.difference(&listed) {
            if self.membership.retire(*addr) {
                // Nothing to do if the balance is gone: so is everything it called.
                let _ = self.changes.send(Change::Remove(*addr));
            }
        }
    }

    /// Admits `addr` if a connection to it succeeds.
    async fn connect(&self, addr: SocketAddr) {
        match self.dial.connect(addr).await {
            Ok(channel) => self.admit(addr, channel),
            Err(error) => {
                tracing::debug!(host = self.membership.host(), %addr, %error, "a resolved replica does not connect yet");
            }
        }
    }

    fn admit(&self, addr: SocketAddr, channel: Channel) {
        let health = self.membership.admit(addr);
        let member = Member::new(addr, channel, health, self.membership.clone());
        let _ = self.changes.send(Change::Insert(addr, PendingRequests::new(member, CompleteOnResponse::default())));
        self.settled.send_replace(true);
    }

    /// Logs a resolution problem once for as long as it lasts.
    fn report(&self, problem: &mut Option<String>, now: String) {
        if problem.as_ref() != Some(&now) {
            tracing::warn!(
                host = self.membership.host(),
                problem = %now,
                "the replicas of a called service cannot be found; the ones in use are kept"
            );
            *problem = Some(now);
        }
    }
}
