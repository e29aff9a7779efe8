//! The control-check scheduler: while the server runs, it wakes every
//! [`ServerOptions::controls_schedule`](crate::ServerOptions::controls_schedule), asks the
//! controls part which controls are due (never checked, or last checked a cadence ago) and
//! runs their checks as `evident-scheduler`, each run a `controls.check` ledger event, so the
//! evidence that controls operate keeps coming without anyone asking.
//!
//! A failed tick (the catalog does not load, the ledger cannot record) is logged and the next
//! tick tries again; nothing here stops the server. It waits its turn behind a requested run
//! (`POST /v1/controls/check`) and stops with the server: [`Schedule::stop`] lets a run in
//! progress finish, so its events are recorded before the engine shuts down.

use std::sync::Arc;
use std::time::Duration;

use evident::controls::{CheckRun, Verdict};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::LOG_TARGET;
use crate::state::AppState;

/// The actor the scheduler's runs are recorded under.
pub const SCHEDULER_ACTOR: &str = "evident-scheduler";

/// The scheduler of a running server, if it has one.
pub(crate) struct Schedule {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Schedule {
    /// Starts the scheduler on the current runtime when the server's options ask for one.
    pub(crate) fn start(state: &Arc<AppState>) -> Option<Self> {
        // Within reason whatever the caller asked: a timer must not overflow, nor spin.
        let every = state
            .controls_schedule()?
            .clamp(Duration::from_millis(10), Duration::from_secs(86_400));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(state.clone(), every, stopped));
        tracing::info!(
            target: LOG_TARGET,
            every_s = every.as_secs_f64(),
            "control checks run on their cadence"
        );
        Some(Self { stop, task })
    }

    /// Stops the scheduler, after the run in progress (if any) is recorded.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(target: LOG_TARGET, error = %e, "the control-check scheduler ended badly");
        }
    }
}

/// Ticks until told to stop; the first tick is one period after the start, so a server that
/// starts and stops at once runs nothing.
async fn run(state: Arc<AppState>, every: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        tick(&state, &mut stopped).await;
    }
}

/// One tick: the due controls' checks, run and recorded; a summary or the error logged.
async fn tick(state: &Arc<AppState>, stopped: &mut watch::Receiver<bool>) {
    // A requested run may be going on: wait for it, unless the server stops meanwhile.
    let _turn = tokio::select! {
        turn = state.check_runs.lock() => turn,
        _ = stopped.changed() => return,
    };
    let engine = state.engine.clone();
    let work = tokio::task::spawn_blocking(move || {
        let controls = engine.controls();
        let due = controls.due(evident::event::now_us())?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        controls.check(&due, SCHEDULER_ACTOR)
    });
    match work.await {
        Ok(Ok(runs)) if runs.is_empty() => {
            tracing::debug!(target: LOG_TARGET, "no control check is due")
        }
        Ok(Ok(runs)) => log_summary(&runs),
        Ok(Err(e)) => tracing::warn!(
            target: LOG_TARGET,
            error = %e,
            "the due control checks could not run; trying again next tick"
        ),
        Err(e) => tracing::error!(
            target: LOG_TARGET,
            error = %e,
            "a scheduled control check panicked; trying again next tick"
        ),
    }
}

fn log_summary(runs: &[CheckRun]) {
    let count = |verdict: Verdict| runs.iter().filter(|r| r.outcome.verdict == verdict).count();
    let failing: Vec<&str> = runs
        .iter()
        .filter(|r| matches!(r.outcome.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| r.control.as_str())
        .collect();
    let (pass, fail, error, inconclusive) = (
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Error),
        count(Verdict::Inconclusive),
    );
    if failing.is_empty() {
        tracing::info!(target: LOG_TARGET, runs = runs.len(), pass, inconclusive, "scheduled control checks ran");
    } else {
        tracing::warn!(
            target: LOG_TARGET,
            runs = runs.len(),
            pass,
            fail,
            error,
            inconclusive,
            failing = %failing.join(","),
            "scheduled control checks ran; some fail or could not be checked"
        );
    }
}
