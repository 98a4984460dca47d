//! The register task as a background task on every replica: a pass at start and
//! then one every [`EVERY`], until the service stops. Stopping lets the change in
//! hand finish and takes on no other; whatever a killed process left half-way is
//! a pending change whose claim runs out, which the next pass, here or on
//! another replica, takes up.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::PlanIssue;

/// How often each replica looks for register changes nobody finished.
pub const EVERY: Duration = Duration::from_secs(30);

/// A running register task. Dropping it asks the task to stop.
#[derive(Debug)]
pub struct Running {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl PlanIssue {
    /// Runs a pass now and then every `every`, until `stop_on` completes (the
    /// process's stop signal) or the handle goes. Must be called inside a Tokio runtime.
    pub fn spawn(self, every: Duration, stop_on: impl Future<Output = ()> + Send + 'static) -> Running {
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            tracing::info!(every_seconds = every.as_secs_f64(), "the register task is running");
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let mut stop_on = std::pin::pin!(stop_on);
            loop {
                tokio::select! {
                    biased;
                    _ = stopping.wait_for(|stop| *stop) => break,
                    () = &mut stop_on => break,
                    _ = ticker.tick() => {}
                }
                let go_on = {
                    let stopping = stopping.clone();
                    move || !*stopping.borrow()
                };
                let pass = self.pass_across_councils(Utc::now(), &go_on);
                match sen_platform::walls::across_tenants(pass).await {
                    Ok(report) if report != super::PassReport::default() => tracing::info!(
                        finished = report.finished,
                        left_pending = report.left_pending,
                        "register task pass"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "a register task pass could not list its work; trying again"),
                }
            }
            tracing::info!("the register task stopped");
        });
        Running { stop, task: Some(task) }
    }
}

impl Running {
    /// Asks the task to stop and waits until it has.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "the register task ended badly");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
