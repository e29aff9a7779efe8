//! The retention scheduler: off unless
//! [`ServerOptions::retention_schedule`](crate::ServerOptions::retention_schedule) asks for
//! it; then, every period while the server runs, a retention purge of every system of the
//! active data map as `evident-scheduler` — the purge `evident retention run` does, each
//! system in one transaction, legal holds respected, each system's purge (or failure) an
//! `evident.privacy.retention.*` ledger event.
//!
//! A failed tick (no map applied, the root key not open, a database down) is logged and the
//! next tick tries again; nothing here stops the server. It stops with the server, after the
//! purge in progress is recorded.

use std::sync::Arc;
use std::time::Duration;

use evident::privacy::datamap::store::MapStore;
use evident::privacy::dsr::KeyringKeys;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::LOG_TARGET;
use crate::schedule::SCHEDULER_ACTOR;
use crate::state::AppState;

/// The retention scheduler of a running server, if it has one.
pub(crate) struct RetentionSchedule {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RetentionSchedule {
    /// Starts the scheduler on the current runtime when the server's options ask for one.
    pub(crate) fn start(state: &Arc<AppState>) -> Option<Self> {
        let every = state
            .retention_schedule()?
            .clamp(Duration::from_millis(10), Duration::from_secs(31 * 86_400));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(state.clone(), every, stopped));
        tracing::info!(
            target: LOG_TARGET,
            every_s = every.as_secs_f64(),
            "retention purges run on schedule"
        );
        Some(Self { stop, task })
    }

    /// Stops the scheduler, after the purge in progress (if any) is recorded.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(target: LOG_TARGET, error = %e, "the retention scheduler ended badly");
        }
    }
}

/// Ticks until told to stop; the first purge is one period after the start.
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
        tick(&state).await;
    }
}

/// One purge of every system of the active map; counts (never values) or the error logged.
async fn tick(state: &Arc<AppState>) {
    let engine = state.engine.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Option<(u64, u64, usize)>, String> {
        let Some(map) = MapStore::new(engine.dir())
            .load_active()
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let keyring = engine.keyring(true).map_err(|e| e.to_string())?;
        let keys = KeyringKeys::new(&keyring, SCHEDULER_ACTOR);
        let report = engine
            .retention()
            .run(
                &map,
                &[],
                &keys,
                evident::event::now_us(),
                false,
                SCHEDULER_ACTOR,
            )
            .map_err(|e| e.to_string())?;
        let purges = report.systems.iter().filter_map(|s| s.purge.as_ref());
        let (changed, held) = purges.fold((0, 0), |(c, h), p| (c + p.changed, h + p.held));
        let failed = report.systems.iter().filter(|s| s.error.is_some()).count();
        Ok(Some((changed, held, failed)))
    });
    match work.await {
        Ok(Ok(None)) => {
            tracing::debug!(target: LOG_TARGET, "no data map is applied: no retention purge")
        }
        Ok(Ok(Some((changed, held, 0)))) => {
            tracing::info!(target: LOG_TARGET, changed, held, "scheduled retention purge ran")
        }
        Ok(Ok(Some((changed, held, failed)))) => tracing::warn!(
            target: LOG_TARGET,
            changed,
            held,
            failed,
            "scheduled retention purge ran; some systems failed and were left unchanged"
        ),
        Ok(Err(e)) => tracing::warn!(
            target: LOG_TARGET,
            error = %e,
            "the scheduled retention purge could not run; trying again next period"
        ),
        Err(e) => tracing::error!(
            target: LOG_TARGET,
            error = %e,
            "a scheduled retention purge panicked; trying again next period"
        ),
    }
}
