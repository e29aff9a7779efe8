//! The automated checks: each is real code reading the live engine — its store, its policy
//! pack, its ledger, its files — and never answers pass when it cannot decide. A catalog
//! control names its check and gives its settings (`params`); the check's version is the
//! hash of its name, its revision (raised whenever its logic changes) and those settings.
//!
//! | check | reads |
//! |---|---|
//! | `crypto.key_rotation` | every key's versions and their age; the root-key provider; whether the data directory's own keys are sealed |
//! | `crypto.regulated_keys_gated` | the regulated keys; the active pack's answer to `decrypt` by a stranger and by each principal without a purpose |
//! | `access.mfa_privileged` | the active pack, evaluated for every principal × privileged action × resource with and without MFA |
//! | `access.phi_purpose_of_use` | the active pack, evaluated for every principal × action × PHI resource with and without a purpose of use |
//! | `access.break_glass_reviewed` | the break-glass review queue and its ledger events |
//! | `access.review_recent` | the newest `access.review.generated` event and the active policy version |
//! | `backup.restore_tested` | the newest `evident.backup.tested` event |
//! | `log.integrity` | the whole log, verified now; the latest signed checkpoint's age |
//! | `apikeys.hygiene` | every active API key's age and last use |
//! | `access.denied_spike` | denied decisions and failed logins in the last window against the baseline |
//! | `tls.certificate` | the server's certificate file: validity, expiry horizon, key strength |
//! | `tls.protocols` | the live endpoint: TLS 1.3/1.2 handshakes, and refusal of TLS 1.0, 1.1 and non-AEAD suites |
//! | `redaction.active` | the engine's own redactor, run on a probe event |
//! | `controls.monitored` | each control's stored status against the catalog: checked within its cadence, not failing for too long |
//! | `privacy.retention`, `privacy.consent` | nothing yet: inconclusive until the privacy part has retention and consent |

mod access;
mod apikeys;
mod backup;
mod context;
mod crypto;
mod def;
mod denials;
mod integrity;
mod monitoring;
mod outcome;
mod oversight;
mod precommit;
mod privacy;
mod probe;
mod redaction;
mod registry;
mod tls;
mod tls_probe;

pub use context::{CheckContext, HostFacts};
pub use def::CheckDef;
pub use outcome::{Outcome, Verdict, MAX_EVIDENCE};
pub use registry::{find, names, run, CHECKS};
