//! Residual risk, recomputed from the live status of a risk's linked controls whenever a
//! risk is read — never stored, so it moves the moment a control passes or fails.
//!
//! The rule:
//!
//! - Inherent risk is `likelihood × impact` (each 1–5, so 1–25).
//! - A linked control is **effective** when its last result is `pass`, its check is not
//!   overdue (older than its cadence) and, for a manual or partly automated control, its
//!   evidence is current; a manual control is effective when its evidence is current.
//!   Anything else — `fail`, `error`, `inconclusive`, never checked, overdue, evidence
//!   expired or missing, or a failure under an exception — is **not effective**.
//! - Each effective linked control lowers the likelihood by one step, down to 1. A control
//!   that is not effective lowers nothing, so a linked control that starts failing raises
//!   the residual risk back by the step it gave.
//! - Controls reduce likelihood, not impact: the residual impact is the inherent impact.
//! - Residual risk is `residual likelihood × impact`.
//!
//! Scores are rated `low` (1–4), `medium` (5–9), `high` (10–16) and `critical` (17–25).

use serde::Serialize;

use crate::catalog::Implementation;
use crate::status::ControlStatus;

/// One linked control as the residual rule saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedControl {
    /// the control
    pub control: String,
    /// its last result as `controls status` shows it
    pub result: String,
    /// whether it lowers the likelihood
    pub effective: bool,
    /// why it is or is not effective
    pub why: String,
}

/// A risk's score: likelihood, impact, their product and its rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    /// 1–5
    pub likelihood: u8,
    /// 1–5
    pub impact: u8,
    /// likelihood × impact, 1–25
    pub score: u8,
    /// `low`, `medium`, `high` or `critical`
    pub rating: &'static str,
}

impl Score {
    /// The score of `likelihood` and `impact` (each already 1–5).
    pub fn new(likelihood: u8, impact: u8) -> Self {
        let score = likelihood.saturating_mul(impact);
        Score {
            likelihood,
            impact,
            score,
            rating: rating(score),
        }
    }
}

/// The rating of a score.
pub fn rating(score: u8) -> &'static str {
    match score {
        0..=4 => "low",
        5..=9 => "medium",
        10..=16 => "high",
        _ => "critical",
    }
}

/// Whether a control's standing makes it effective, and why.
pub fn linked(status: &ControlStatus) -> LinkedControl {
    let evidence_current = status
        .evidence
        .as_ref()
        .is_none_or(|e| e.state == "current");
    let (effective, why) = match (status.implementation, status.result.as_str()) {
        (Implementation::Manual, _) if evidence_current => (true, "its evidence is current".into()),
        (Implementation::Manual, _) => (
            false,
            status
                .evidence_gap()
                .unwrap_or_else(|| "no current evidence".into()),
        ),
        (_, "pass") if status.overdue => {
            (false, "its last pass is older than its cadence".to_string())
        }
        (_, "pass") if !evidence_current => (
            false,
            status
                .evidence_gap()
                .unwrap_or_else(|| "no current evidence".into()),
        ),
        (_, "pass") => (true, "its check passes".into()),
        (_, other) if status.exception.is_some() && status.failing() => (
            false,
            format!("{other}, under an exception (an accepted failure still fails)"),
        ),
        (_, other) => (false, format!("its last result is `{other}`")),
    };
    LinkedControl {
        control: status.control.clone(),
        result: status.shown_result(),
        effective,
        why,
    }
}

/// The residual score of a risk of inherent `likelihood` and `impact` whose linked controls
/// stand as `linked`: the likelihood lowered one step per effective control, down to 1.
pub fn residual(likelihood: u8, impact: u8, linked: &[LinkedControl]) -> Score {
    let effective = linked.iter().filter(|c| c.effective).count();
    let lowered = usize::from(likelihood).saturating_sub(effective).max(1);
    Score::new(u8::try_from(lowered).unwrap_or(likelihood), impact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(id: &str, effective: bool) -> LinkedControl {
        LinkedControl {
            control: id.into(),
            result: if effective { "pass" } else { "fail" }.into(),
            effective,
            why: String::new(),
        }
    }

    #[test]
    fn each_effective_control_lowers_likelihood_by_one_step_down_to_one() {
        assert_eq!(residual(4, 5, &[]).score, 20);
        assert_eq!(residual(4, 5, &[control("A", true)]).score, 15);
        assert_eq!(
            residual(4, 5, &[control("A", true), control("B", true)]).likelihood,
            2
        );
        let many: Vec<_> = (0..9).map(|i| control(&format!("C{i}"), true)).collect();
        assert_eq!(residual(4, 5, &many).likelihood, 1);
        assert_eq!(residual(1, 3, &[control("A", true)]).score, 3);
    }

    #[test]
    fn a_failing_control_lowers_nothing() {
        let passing = residual(5, 4, &[control("A", true), control("B", true)]);
        let one_fails = residual(5, 4, &[control("A", true), control("B", false)]);
        assert!(one_fails.score > passing.score);
        assert_eq!(one_fails.likelihood, 4);
        assert_eq!(residual(5, 4, &[control("A", false)]).score, 20);
    }

    #[test]
    fn ratings_follow_the_bands() {
        assert_eq!(rating(4), "low");
        assert_eq!(rating(5), "medium");
        assert_eq!(rating(9), "medium");
        assert_eq!(rating(10), "high");
        assert_eq!(rating(16), "high");
        assert_eq!(rating(20), "critical");
        assert_eq!(rating(25), "critical");
    }
}
