//! The registers a compliance programme keeps beside its controls: the **risk register**
//! (HIPAA 164.308(a)(1)(ii)(A–B), SOC 2 CC3) and the **incident register** with its
//! notification clocks (GDPR Art. 33/34, HIPAA 164.404–410, PCI DSS 12.10).
//!
//! Both are kept the way [`exceptions`](crate::exceptions) are: every change is one ledger
//! event (`controls.risk.*`, `controls.incident.*`) and the register is those events folded
//! back, so the log is the only record and an auditor can re-derive either register.
//!
//! - [`risk`]: risks, their treatment and linked controls; add, update, close.
//! - [`residual`]: residual risk, a function of the linked controls' live status.
//! - [`risk_export`]: CSV, JSON and the Markdown risk-analysis report.
//! - [`incident`]: incidents: open, classify, update, notify, close.
//! - [`clocks`]: the notification deadlines that run from an incident's discovery.
//! - [`in_period`]: what a period evidence bundle carries of both registers.
//! - `ledger`: reading the registers' events back and the checks every id and text passes.

pub mod clocks;
pub mod in_period;
pub mod incident;
mod ledger;
pub mod residual;
pub mod risk;
pub mod risk_export;

pub use ledger::{MAX_ID_BYTES, MAX_TEXT_BYTES};
