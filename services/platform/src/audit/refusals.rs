//! The trail of refused requests: who was turned away from what, and why
//! (no identity, a role the method does not admit, a record out of reach).
//!
//! Someone probing for ids they may not see is refused every time; without a
//! trail they would leave no trace. So every refusal is counted
//! (`sen_<part>_refusals_total{reason}`), and a caller's first
//! [`RefusalLimits::per_window`] refusals in each window are recorded one by one:
//! a `warn` line with target `audit` (person, tenant, role, client address,
//! method, reason; never the request's body), and a row in the service's audit
//! table when it has one ([`RefusalLog`]). The rest of that window's refusals
//! are only counted, and the count is recorded (a line and a row) when the
//! window closes, so a flood of refused calls cannot fill the disk but still
//! shows how large it was. A caller is a (tenant or client address, person)
//! pair; past [`RefusalLimits::callers`] callers in one window, the rest share
//! one, so that made-up identities cannot grow the trail's memory either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

pub use super::refusal::{Reason, RefusalLog, RefusalRecord, Refused, Refusee, Suppressed, WriteFuture};

/// How many refusals are recorded one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusalLimits {
    /// Refusals of one caller recorded one by one in each window.
    pub per_window: u32,
    /// The window.
    pub window: Duration,
    /// Callers with a window of their own at once; the rest share one.
    pub callers: usize,
}

impl Default for RefusalLimits {
    fn default() -> Self {
        Self { per_window: 20, window: Duration::from_secs(60), callers: 10_000 }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// One caller's current window.
#[derive(Debug)]
struct Window {
    opened: Instant,
    opened_at: DateTime<Utc>,
    who: Refusee,
    recorded: u32,
    suppressed: u64,
}

impl Window {
    fn open(now: Instant, who: &Refusee) -> Self {
        Self { opened: now, opened_at: Utc::now(), who: who.clone(), recorded: 0, suppressed: 0 }
    }

    /// The window's summary, if it left any refusal out.
    fn summary(self) -> Option<Suppressed> {
        (self.suppressed > 0).then(|| Suppressed {
            who: self.who,
            count: self.suppressed,
            since: self.opened_at,
            at: Utc::now(),
        })
    }
}

/// A caller: tenant (or client address) and person.
type Caller = (String, String);

/// The caller every caller past the limit shares.
fn overflow() -> Caller {
    ("*".into(), "*".into())
}

/// Whether a refusal is recorded one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Record,
    Count,
}

/// The trail of one part's refusals (a service, or the gateway).
pub struct RefusalTrail {
    part: &'static str,
    limits: RefusalLimits,
    log: Option<Arc<dyn RefusalLog>>,
    windows: Mutex<HashMap<Caller, Window>>,
    refusals: Family<ReasonLabels, Counter>,
    suppressed: Counter,
}

impl std::fmt::Debug for RefusalTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusalTrail").field("part", &self.part).field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl RefusalTrail {
    /// The trail of `part` (`gateway`, `pupils`, ...), writing to `log` when it
    /// has one. On a tokio runtime it also closes windows as they end (else
    /// only when their caller is refused again); that task stops with the trail.
    pub fn new(part: &'static str, log: Option<Arc<dyn RefusalLog>>, limits: RefusalLimits) -> Arc<Self> {
        let refusals = Family::<ReasonLabels, Counter>::default();
        // Made now, so each series is scraped (at 0) before anything happens.
        for reason in Reason::ALL {
            drop(refusals.get_or_create(&ReasonLabels { reason: reason.code() }));
        }
        let trail = Arc::new(Self {
            part,
            limits,
            log,
            windows: Mutex::new(HashMap::new()),
            refusals,
            suppressed: Counter::default(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // A window's suppressed count is written for whichever council's caller it was.
            runtime.spawn(crate::walls::across_tenants(close_windows(Arc::downgrade(&trail))));
        }
        trail
    }

    /// Adds the trail's counters to `registry` as `sen_<part>_refusals` and
    /// `sen_<part>_refusals_suppressed`.
    pub fn register_into(&self, registry: &mut Registry) {
        let (name, help) = self.refusals_metric();
        registry.register(name, help, self.refusals.clone());
        let (name, help) = self.suppressed_metric();
        registry.register(name, help, self.suppressed.clone());
    }

    /// As [`RefusalTrail::register_into`], into a service's registry.
    pub fn register_in(&self, metrics: &crate::metrics::Metrics) {
        let (name, help) = self.refusals_metric();
        metrics.register(&name, help, self.refusals.clone());
        let (name, help) = self.suppressed_metric();
        metrics.register(&name, help, self.suppressed.clone());
    }

    fn refusals_metric(&self) -> (String, &'static str) {
        (format!("sen_{}_refusals", self.part), "Requests refused, by reason (recorded one by one or only counted)")
    }

    fn suppressed_metric(&self) -> (String, &'static str) {
        (
            format!("sen_{}_refusals_suppressed", self.part),
            "Refusals only counted because their caller was past the refusals recorded one by one in a window",
        )
    }

    /// Counts `refused`, and records it when its caller is within the window's
    /// allowance; returns once it is written.
    pub async fn record(&self, refused: Refused) {
        self.refusals.get_or_create(&ReasonLabels { reason: refused.reason.code() }).inc();
        let (verdict, closed) = self.admit(&refused.who, Instant::now());
        if let Some(closed) = closed {
            self.write_summary(closed).await;
        }
        match verdict {
            Verdict::Count => {
                self.suppressed.inc();
            }
            Verdict::Record => {
                let who = &refused.who;
                tracing::warn!(
                    target: "audit",
                    part = self.part,
                    person = who.person.as_deref().unwrap_or("-"),
                    tenant = who.tenant.as_deref().unwrap_or("-"),
                    role = who.role.as_deref().unwrap_or("-"),
                    client = who.client.as_deref().unwrap_or("-"),
                    method = %refused.method,
                    reason = refused.reason.code(),
                    trace_id = refused.trace_id.as_deref().unwrap_or("-"),
                    "request refused"
                );
                if let Some(log) = &self.log {
                    log.write(RefusalRecord::Refused(refused)).await;
                }
            }
        }
    }

    /// Whether a refusal of `who` at `now` is recorded, and the summary of
    /// their previous window if this one replaces it.
    fn admit(&self, who: &Refusee, now: Instant) -> (Verdict, Option<Suppressed>) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut caller = caller_of(who);
        if !windows.contains_key(&caller) && windows.len() >= self.limits.callers {
            caller = overflow();
        }
        let mut closed = None;
        let window = windows.entry(caller).or_insert_with(|| Window::open(now, who));
        if now.duration_since(window.opened) >= self.limits.window {
            closed = std::mem::replace(window, Window::open(now, who)).summary();
        }
        let verdict = if window.recorded < self.limits.per_window {
            window.recorded += 1;
            Verdict::Record
        } else {
            window.suppressed += 1;
            Verdict::Count
        };
        (verdict, closed)
    }

    /// Removes the windows ended by `now`, with the summaries of those that left refusals out.
    fn close_ended(&self, now: Instant) -> Vec<Suppressed> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let ended: Vec<Caller> = windows
            .iter()
            .filter(|(_, window)| now.duration_since(window.opened) >= self.limits.window)
            .map(|(caller, _)| caller.clone())
            .collect();
        ended.into_iter().filter_map(|caller| windows.remove(&caller)).filter_map(Window::summary).collect()
    }

    async fn write_summary(&self, summary: Suppressed) {
        let who = &summary.who;
        tracing::warn!(
            target: "audit",
            part = self.part,
            person = who.person.as_deref().unwrap_or("-"),
            tenant = who.tenant.as_deref().unwrap_or("-"),
            client = who.client.as_deref().unwrap_or("-"),
            suppressed = summary.count,
            since = %summary.since,
            "refusals only counted in the window just closed"
        );
        if let Some(log) = &self.log {
            log.write(RefusalRecord::Suppressed(summary)).await;
        }
    }
}

/// The caller `who` is counted as.
fn caller_of(who: &Refusee) -> Caller {
    let place = who.tenant.clone().or_else(|| who.client.clone()).unwrap_or_else(|| "-".into());
    (place, who.person.clone().unwrap_or_else(|| "-".into()))
}

/// Closes the trail's windows as they end, until the trail is dropped.
async fn close_windows(trail: Weak<RefusalTrail>) {
    let every = match trail.upgrade() {
        Some(trail) => (trail.limits.window / 4).clamp(Duration::from_millis(10), Duration::from_secs(5)),
        None => return,
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let Some(trail) = trail.upgrade() else { return };
        for summary in trail.close_ended(Instant::now()) {
            trail.write_summary(summary).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn senco(person: &str) -> Refusee {
        Refusee { tenant: Some("886".into()), person: Some(person.into()), role: Some("senco".into()), client: None }
    }

    fn trail(limits: RefusalLimits) -> Arc<RefusalTrail> {
        RefusalTrail::new("test", None, limits)
    }

    #[test]
    fn a_caller_past_the_allowance_is_counted_and_the_count_comes_out_when_the_window_ends() {
        let trail = trail(RefusalLimits { per_window: 3, window: Duration::from_secs(60), callers: 10 });
        let start = Instant::now();
        let verdicts: Vec<Verdict> = (0..10).map(|_| trail.admit(&senco("a"), start).0).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Record).count(), 3);
        assert_eq!(trail.admit(&senco("b"), start).0, Verdict::Record, "another person has their own");
        assert!(trail.close_ended(start + Duration::from_secs(59)).is_empty());
        let closed = trail.close_ended(start + Duration::from_secs(60));
        assert_eq!(closed.len(), 1, "only the window that left refusals out says so: {closed:?}");
        assert_eq!(closed[0].count, 7);
        assert_eq!(closed[0].who, senco("a"));
        assert_eq!(trail.admit(&senco("a"), start + Duration::from_secs(61)).0, Verdict::Record, "a new window");
    }

    #[test]
    fn a_refusal_after_the_window_closes_it_with_its_count() {
        let trail = trail(RefusalLimits { per_window: 1, window: Duration::from_secs(60), callers: 10 });
        let start = Instant::now();
        for _ in 0..4 {
            trail.admit(&senco("a"), start);
        }
        let (verdict, closed) = trail.admit(&senco("a"), start + Duration::from_secs(90));
        assert_eq!(verdict, Verdict::Record);
        assert_eq!(closed.map(|c| c.count), Some(3));
    }

    #[test]
    fn made_up_callers_past_the_limit_share_one_window() {
        let trail = trail(RefusalLimits { per_window: 2, window: Duration::from_secs(60), callers: 3 });
        let start = Instant::now();
        let recorded = (0..100).filter(|n| trail.admit(&senco(&format!("p{n}")), start).0 == Verdict::Record).count();
        assert_eq!(recorded, 3 + 2, "three callers of their own, then two for all the rest");
        assert!(trail.windows.lock().unwrap().len() <= 4);
    }

    #[test]
    fn refusals_are_counted_by_reason_under_the_parts_name() {
        let trail = trail(RefusalLimits::default());
        let mut registry = Registry::default();
        trail.register_into(&mut registry);
        trail.refusals.get_or_create(&ReasonLabels { reason: Reason::NotFound.code() }).inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("sen_test_refusals_total{reason=\"not_found\"} 1"), "{text}");
        assert!(text.contains("sen_test_refusals_total{reason=\"permission_denied\"} 0"), "{text}");
        assert!(text.contains("sen_test_refusals_suppressed_total 0"), "{text}");
    }
}
