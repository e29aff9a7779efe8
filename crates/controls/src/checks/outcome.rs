//! What a check answers: pass, fail, error or inconclusive, why, what to change, what it
//! observed and which ledger entries it relied on.

use serde::Serialize;
use serde_json::{Map, Value};

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// the control operates as required
    Pass,
    /// it does not; the outcome says what to change
    Fail,
    /// the check could not run (the data it reads is unreadable)
    Error,
    /// the check ran but cannot decide (data missing, or a part it needs does not exist)
    Inconclusive,
}

impl Verdict {
    /// The word in events, status and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Inconclusive => "inconclusive",
        }
    }

    /// One letter, for trends: `P`, `F`, `E`, `I`.
    pub fn letter(self) -> char {
        match self {
            Self::Pass => 'P',
            Self::Fail => 'F',
            Self::Error => 'E',
            Self::Inconclusive => 'I',
        }
    }

    /// Parses [`Verdict::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pass" => Some(Self::Pass),
            "fail" => Some(Self::Fail),
            "error" => Some(Self::Error),
            "inconclusive" => Some(Self::Inconclusive),
            _ => None,
        }
    }
}

/// One check's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// the result
    pub verdict: Verdict,
    /// why, in a sentence
    pub reason: String,
    /// for a failure: what to change
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// the values the check observed
    pub observed: Map<String, Value>,
    /// the ledger indices of the events it relied on
    pub evidence: Vec<u64>,
}

/// The most evidence indices one outcome lists (the newest are kept).
pub const MAX_EVIDENCE: usize = 200;

impl Outcome {
    fn new(verdict: Verdict, reason: impl Into<String>) -> Self {
        Outcome {
            verdict,
            reason: reason.into(),
            remedy: None,
            observed: Map::new(),
            evidence: Vec::new(),
        }
    }

    /// The control operates.
    pub fn pass(reason: impl Into<String>) -> Self {
        Self::new(Verdict::Pass, reason)
    }

    /// It does not, and `remedy` says what to change.
    pub fn fail(reason: impl Into<String>, remedy: impl Into<String>) -> Self {
        let mut o = Self::new(Verdict::Fail, reason);
        o.remedy = Some(remedy.into());
        o
    }

    /// The check could not run.
    pub fn error(reason: impl Into<String>) -> Self {
        Self::new(Verdict::Error, reason)
    }

    /// The check cannot decide.
    pub fn inconclusive(reason: impl Into<String>) -> Self {
        Self::new(Verdict::Inconclusive, reason)
    }

    /// Adds an observed value.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.observed.insert(key.to_string(), value.into());
        self
    }

    /// Adds the ledger indices relied on (kept sorted, at most [`MAX_EVIDENCE`]).
    pub fn relying_on(mut self, indices: impl IntoIterator<Item = u64>) -> Self {
        self.evidence.extend(indices);
        self.evidence.sort_unstable();
        self.evidence.dedup();
        if self.evidence.len() > MAX_EVIDENCE {
            self.evidence.drain(..self.evidence.len() - MAX_EVIDENCE);
        }
        self
    }
}

impl From<evident_core::Error> for Outcome {
    /// An engine error while checking: the check could not run.
    fn from(e: evident_core::Error) -> Self {
        Outcome::error(format!("the check could not read what it needs: {e}"))
    }
}
