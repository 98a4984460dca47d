//! The reconciler as a background task: a pass at start and then one every
//! interval, until the service stops. Stopping (SIGTERM, the [`Running`] handle
//! dropped with the service's routes, or [`Running::stop`]) lets the allocation
//! in hand finish and takes on no other, so a stop never cuts an allocation
//! between two of its steps in this replica's own doing; whatever a killed
//! process left half-way is a pending case whose claim runs out, which the next
//! pass, here or on another replica, takes up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::Reconciler;

/// The current time, as the reconciler judges a pending allocation's age: a
/// parameter, so tests can stand an hour later without waiting for it.
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// A running reconciler. Dropping it asks the task to stop.
#[derive(Debug)]
pub struct Running {
    stop: Arc<watch::Sender<bool>>,
    passes: watch::Receiver<u64>,
    task: Option<JoinHandle<()>>,
    watcher: JoinHandle<()>,
}

impl Reconciler {
    /// Runs a pass now and then every `every`, each at the time `now` tells,
    /// until `stop_on` completes (the process's stop signal) or the handle goes.
    /// Must be called inside a Tokio runtime.
    pub fn spawn(self, every: Duration, now: Now, stop_on: impl Future<Output = ()> + Send + 'static) -> Running {
        let stop = Arc::new(watch::channel(false).0);
        let mut stopping = stop.subscribe();
        let (passes_tx, passes) = watch::channel(0u64);
        let on_signal = Arc::clone(&stop);
        let watcher = tokio::spawn(async move {
            stop_on.await;
            on_signal.send_replace(true);
        });
        let task = tokio::spawn(async move {
            tracing::info!(every_seconds = every.as_secs_f64(), "the allocation reconciler is running");
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = stopping.wait_for(|stop| *stop) => break,
                    _ = ticker.tick() => {}
                }
                let go_on = {
                    let stopping = stopping.clone();
                    move || !*stopping.borrow()
                };
                match self.pass_while(now(), &go_on).await {
                    Ok(report) if !report.is_empty() => tracing::info!(
                        completed = report.completed,
                        undone = report.undone,
                        failed = report.failed,
                        "reconciler pass"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "a reconciler pass could not list its work; trying again"),
                }
                passes_tx.send_modify(|n| *n += 1);
            }
            tracing::info!("the allocation reconciler stopped");
        });
        Running { stop, passes, task: Some(task), watcher }
    }
}

impl Running {
    /// The number of passes finished so far, to wait on.
    pub fn passes(&self) -> watch::Receiver<u64> {
        self.passes.clone()
    }

    /// Asks the task to stop and waits until it has: the allocation in hand
    /// finishes, no other is begun.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "the allocation reconciler ended badly");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.watcher.abort();
    }
}
