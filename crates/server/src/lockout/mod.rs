//! Login lockout (PCI DSS 8.3.4, NIST SP 800-53 AC-7): repeated failed authentications are
//! slowed, then locked out for a while or until an administrator unlocks them.
//!
//! Failures are counted three ways ([`LockoutPolicy`] sets the limits):
//!
//! - per **credential**: an API key id as parsed from `evk_<id>_…`, or the subject of an
//!   OIDC token whose signature verified (a token that does not verify is held against its
//!   address only: its `sub` is whatever the sender wrote, and counting it would let anyone
//!   lock anyone out);
//! - per **credential at one client address** (IPv4 address, or IPv6 /64);
//! - per **client address**, whatever it presents.
//!
//! Past half its limit a counter pauses its holder (429 with `Retry-After`, 1 s doubling to
//! 60 s); at the limit it locks for the policy's duration: every attempt it covers is then
//! refused with 429, the right credential too. A credential's own lock, and an address's,
//! are waived for a credential presented from an address it has authenticated from (one of
//! its 64 most recent since the server started), so that knowing a key id (it is in the
//! ledger) is not enough to switch its service off; the lock of a credential at one address
//! is never waived. `docs/access.md` gives the reasoning.
//!
//! Each lock is an `auth.lockout.locked` ledger event and each administrator's unlock an
//! `auth.lockout.unlocked` one (`GET` and `DELETE /v1/auth/lockouts`); at startup the locks
//! still in force are read back from the ledger. The table is bounded: past `max_tracked`
//! entries the least recently seen idle counters are forgotten first and locks last.

mod ledger;
mod policy;
mod table;

pub(crate) use ledger::{locked_event, restore, unlocked_event};
pub use policy::{
    format_duration, parse_duration, LockoutPolicy, WeakLockout, DEFAULT_ADDRESS_MAX_ATTEMPTS,
    DEFAULT_MAX_TRACKED, PCI_MAX_ATTEMPTS, PCI_MIN_DURATION,
};
pub(crate) use table::{ClientNet, Credential, Lock, LockoutTable, Verdict};
