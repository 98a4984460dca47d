//! The retention pass: erases, in every service, the pupils past their
//! authority's retention period (date of birth + 31 years unless the authority
//! keeps records longer), never half-way for good.
//!
//! The pupils service decides who is due (it holds the dates of birth and each
//! authority's period) and keeps each erasure begun and not finished; this
//! service runs the passes because it is the one that calls the others as
//! itself. A pass takes the due erasures from the pupils service, each claimed
//! for it for its lease ([`LEASE`], a minute; one conditional update there, so
//! of two replicas exactly one takes each pupil), and for each, within two
//! thirds of the lease ([`Eraser::attempt_limit`]):
//!
//! 1. asks the referrals service to forget the pupil (`ForgetPupil`: referrals
//!    and their timelines deleted);
//! 2. forgets the pupil here (cases and their activity; an open case gives its
//!    professional's capacity back);
//! 3. asks the pupils service to erase the pupil (`ErasePupil`: every record
//!    there deleted, the erasure ended, and one audit entry by
//!    `pupils-retention` saying what each service removed).
//!
//! Every step is repeatable, so an erasure cut off anywhere (a service not
//! answering, the replica stopped) stays begun in the pupils service and is
//! taken again by the next pass once its claim has run out, which finishes it
//! with nothing done twice. Each erasure is logged with ids only, never a name.
//!
//! [`Eraser::dry_run`] lists what a pass would erase and writes nothing;
//! `running` runs passes on an interval ([`settings`]); `sen retention run` runs
//! one from the command line.

mod calls;
mod running;
pub mod settings;

use std::time::Duration;

use sen_platform::identity::{DevIssuer, Grant, Role, TenantScope};
use sen_platform::ids::LaCode;
use tracing::Instrument;

pub use calls::Take;
pub use running::RetentionTask;

use crate::error::{Error, Result};
use crate::peers::Peers;
use crate::store::Store;

/// How long a pass holds the erasures it takes: long enough for one erasure's
/// three calls (each with its own 30 s deadline cut short by the attempt's).
pub const LEASE: Duration = Duration::from_secs(60);

/// How many erasures a pass takes at a time.
pub const BATCH: u32 = 100;

/// The person the pass acts as here.
pub const ACTOR: &str = "caseloads-retention";

/// One pupil, by tenant and id.
pub type PupilRef = (String, i64);

/// What a pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Pupils erased in every service, by this pass.
    pub erased: Vec<PupilRef>,
    /// Pupils whose erasure was begun and could not be finished now; the next pass finishes them.
    pub left_pending: Vec<PupilRef>,
}

/// The retention pass over this service's store and its peers.
#[derive(Clone)]
pub struct Eraser {
    store: Store,
    peers: Peers,
    /// A key made at start and never written or sent anywhere: it only lets the
    /// pass hold a tenant's scope, which every store function takes.
    scopes: DevIssuer,
    /// How long the pupils service lets this pass hold what it takes.
    lease: Duration,
}

impl std::fmt::Debug for Eraser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eraser").finish_non_exhaustive()
    }
}

impl Eraser {
    /// A pass over `store`, calling `peers` as the service itself.
    pub fn new(store: Store, peers: Peers) -> anyhow::Result<Self> {
        let scopes = DevIssuer::generate().map_err(|e| anyhow::anyhow!("the retention pass's in-process key: {e}"))?;
        Ok(Self { store, peers, scopes, lease: LEASE })
    }

    /// The same pass holding what it takes for `lease` (1 s to 10 min) instead
    /// of [`LEASE`]: an erasure cut off is taken again sooner.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.clamp(Duration::from_secs(1), Duration::from_secs(600));
        self
    }

    /// How long one erasure may take across the services: two thirds of the
    /// lease, so a pass never reaches another service once its claim may have
    /// passed to another pass (clocks a few seconds apart included).
    pub fn attempt_limit(&self) -> Duration {
        self.lease * 2 / 3
    }

    /// The pupils a pass would erase now (in `tenant`, or every authority), writing nothing.
    pub async fn dry_run(&self, tenant: Option<LaCode>) -> Result<Vec<PupilRef>> {
        let take = Take { tenant, holder: "", limit: 1000, dry_run: true, lease: self.lease };
        self.peers.take_erasures(&take).await
    }

    /// One pass: erases every pupil due (in `tenant`, or every authority).
    pub async fn pass(&self, tenant: Option<LaCode>) -> Result<PassReport> {
        self.pass_while(tenant, &|| true).await
    }

    /// One pass, taking on no further batch once `go_on` says no.
    async fn pass_while(&self, tenant: Option<LaCode>, go_on: &(dyn Fn() -> bool + Sync)) -> Result<PassReport> {
        let holder = holder();
        let mut report = PassReport::default();
        while go_on() {
            let take = Take { tenant, holder: &holder, limit: BATCH, dry_run: false, lease: self.lease };
            let batch = self.peers.take_erasures(&take).await?;
            if batch.is_empty() {
                break;
            }
            for (la_code, pupil_id) in batch {
                let span = tracing::info_span!("erase_pupil", pupil_id, la_code = %la_code);
                let limit = self.attempt_limit();
                // Each pupil's records are erased within their own council.
                let erase = sen_platform::walls::within_tenant(&la_code, self.erase(&la_code, pupil_id, &holder));
                let outcome = tokio::time::timeout(limit, erase).instrument(span).await.unwrap_or_else(|_| {
                    Err(Error::Unavailable(format!("not finished within {} ms", limit.as_millis())))
                });
                match outcome {
                    Ok(()) => report.erased.push((la_code, pupil_id)),
                    Err(e) => {
                        tracing::warn!(pupil_id, %la_code, error = %e, "an erasure could not be finished; the next pass finishes it");
                        report.left_pending.push((la_code, pupil_id));
                    }
                }
            }
        }
        Ok(report)
    }

    /// The erasure's steps for one pupil, as the holder of its claim.
    async fn erase(&self, la_code: &str, pupil_id: i64, holder: &str) -> Result<()> {
        let la = LaCode::parse(la_code).map_err(|e| Error::Corrupt(format!("an erasure's tenant: {e}")))?;
        let (referrals, entries) = self.peers.forget_referrals(la, pupil_id).await?;
        let here = self.store.forget_pupil(&self.scope_of(la)?, pupil_id).await?;
        let elsewhere = format!("referrals: {referrals} referrals, {entries} timeline entries; {here}");
        let erased = self.peers.erase_pupil(la, pupil_id, holder, &elsewhere).await?;
        tracing::info!(pupil_id, %la_code, erased, "a pupil past retention is erased in every service");
        Ok(())
    }

    /// The tenant's scope, held by the pass itself.
    fn scope_of(&self, la: LaCode) -> Result<TenantScope> {
        let grant = Grant { person: ACTOR.to_owned(), role: Role::Service, tenant: Some(la), school: None };
        let corrupt = |e: String| Error::Corrupt(format!("the retention pass's identity: {e}"));
        let token = self.scopes.signer.mint(&grant, Duration::from_secs(60)).map_err(corrupt)?;
        let identity = self.scopes.verifier.verify(&token).map_err(|e| corrupt(e.to_string()))?;
        Ok(identity.tenant_scope()?)
    }
}

/// A holder unique to one pass, anywhere.
fn holder() -> String {
    use rand_core::RngCore;
    format!("retention:{:016x}", rand_core::OsRng.next_u64())
}
