//! What a backend hands the suite: one fresh store, which a case may open again and again.

use evident_core::store::LogStore;
use evident_core::Result;

/// One fresh, empty store under test. A case opens it once or several times; the store is
/// dropped (and may be deleted) when the case ends.
pub trait Fixture {
    /// Opens a new connection to this store, as another process would: it sees everything
    /// committed through earlier connections, whether they were closed, are still open, or
    /// were abandoned without closing (as by a crash).
    fn open(&self) -> Result<Box<dyn LogStore>>;
}
