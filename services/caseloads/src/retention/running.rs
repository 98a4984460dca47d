//! The retention pass as a background task: a pass a minute after start (the
//! services it calls are up by then) and then one every interval, until the service stops. Stopping lets the batch in hand
//! finish its current erasure's steps and takes on no other batch; an erasure a
//! killed process left half-way stays begun in the pupils service and is
//! finished by the next pass, here or on another replica.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::Eraser;

/// How long after start the first pass runs.
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// A running retention task. Dropping it asks the task to stop.
#[derive(Debug)]
pub struct RetentionTask {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Eraser {
    /// Runs a pass now and then every `every`, until `stop_on` completes (the
    /// process's stop signal) or the handle goes. Must be called inside a Tokio runtime.
    pub fn spawn(self, every: Duration, stop_on: impl Future<Output = ()> + Send + 'static) -> RetentionTask {
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            tracing::info!(every_hours = every.as_secs_f64() / 3600.0, "the retention pass is running");
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_AFTER, every);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tokio::pin!(stop_on);
            loop {
                tokio::select! {
                    biased;
                    _ = stopping.wait_for(|stop| *stop) => break,
                    _ = &mut stop_on => break,
                    _ = ticker.tick() => {}
                }
                let go_on = {
                    let stopping = stopping.clone();
                    move || !*stopping.borrow()
                };
                match self.pass_while(None, &go_on).await {
                    Ok(report) if report.erased.is_empty() && report.left_pending.is_empty() => {}
                    Ok(report) => tracing::info!(
                        erased = report.erased.len(),
                        left_pending = report.left_pending.len(),
                        "retention pass"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "a retention pass could not take its work; trying again next time")
                    }
                }
            }
            tracing::info!("the retention pass stopped");
        });
        RetentionTask { stop, task: Some(task) }
    }
}

impl RetentionTask {
    /// Asks the task to stop and waits until it has.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "the retention pass ended badly");
        }
    }
}

impl Drop for RetentionTask {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
