//! [`Controls`], the part's handle over an engine, and [`ControlsState`], what the engine
//! keeps for it between calls.

use std::path::Path;
use std::sync::Mutex;

use evident_access::Access;
use evident_core::log::Log;
use evident_core::recorder::Recorder;
use evident_core::Result;

use crate::catalog::{self, Catalog};
use crate::checks::HostFacts;

/// What the engine keeps for the controls part.
#[derive(Default)]
pub struct ControlsState {
    /// Held while checks run and their status is recorded, so that one process records the
    /// runs of a control in ledger order.
    pub(crate) running: Mutex<()>,
    /// Held while a policy document is published, so that versions are numbered in order.
    pub(crate) publishing: Mutex<()>,
    /// Held while a register change is checked against the register and appended, so that
    /// one process never numbers two risks alike.
    pub(crate) registers: Mutex<()>,
}

/// The controls part over an engine: its ledger and store, the access part (the active
/// policy pack), the log (reads and verification) and what the facade knows of the host.
pub struct Controls<'e> {
    pub(crate) recorder: &'e dyn Recorder,
    pub(crate) access: Access<'e>,
    pub(crate) log: Log<'e>,
    pub(crate) state: &'e ControlsState,
    pub(crate) host: HostFacts,
}

impl<'e> Controls<'e> {
    /// The part over an engine (the `evident` facade builds it as `engine.controls()`).
    pub fn new(
        recorder: &'e dyn Recorder,
        access: Access<'e>,
        log: Log<'e>,
        state: &'e ControlsState,
        host: HostFacts,
    ) -> Self {
        Controls {
            recorder,
            access,
            log,
            state,
            host,
        }
    }

    /// The catalog in force: the shipped one plus the data directory's own files.
    pub fn catalog(&self) -> Result<Catalog> {
        catalog::load(Some(self.dir()))
    }

    /// The lock one register change holds (see [`ControlsState`]).
    pub(crate) fn registers_lock(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.state.registers.lock().map_err(|_| {
            evident_core::Error::Integrity("a register change panicked while recording".into())
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.recorder.dir()
    }
}
