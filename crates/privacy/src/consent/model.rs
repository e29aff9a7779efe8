//! What a consent change is made of, and the checks every change passes before it is
//! recorded: the lawful basis, the purpose and subject, the notice's hash, the times.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use evident_core::{Error, Result};

/// The purposes a Global Privacy Control signal opts out of unless told otherwise (the
/// CCPA/CPRA's sale and sharing of personal information, and targeted advertising).
pub const DEFAULT_GPC_PURPOSES: &[&str] = &["sale", "share", "targeted_advertising"];

/// The longest subject id accepted, in characters.
const MAX_SUBJECT_CHARS: usize = 512;
/// The longest purpose accepted.
const MAX_PURPOSE_CHARS: usize = 64;
/// The longest source accepted.
const MAX_SOURCE_CHARS: usize = 64;

/// The lawful basis of processing, GDPR Art. 6(1)(a)–(f).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// (a) the subject's consent
    Consent,
    /// (b) a contract with the subject
    Contract,
    /// (c) a legal obligation
    LegalObligation,
    /// (d) the vital interests of a person
    VitalInterests,
    /// (e) a task in the public interest
    PublicTask,
    /// (f) legitimate interests
    LegitimateInterests,
}

impl LawfulBasis {
    /// Every basis, in the order of Art. 6(1).
    pub const ALL: [LawfulBasis; 6] = [
        LawfulBasis::Consent,
        LawfulBasis::Contract,
        LawfulBasis::LegalObligation,
        LawfulBasis::VitalInterests,
        LawfulBasis::PublicTask,
        LawfulBasis::LegitimateInterests,
    ];

    /// Its name, as stored and as the API takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "consent",
            LawfulBasis::Contract => "contract",
            LawfulBasis::LegalObligation => "legal_obligation",
            LawfulBasis::VitalInterests => "vital_interests",
            LawfulBasis::PublicTask => "public_task",
            LawfulBasis::LegitimateInterests => "legitimate_interests",
        }
    }

    /// The basis called `name`; the error lists the names.
    pub fn parse(name: &str) -> Result<LawfulBasis> {
        LawfulBasis::ALL
            .into_iter()
            .find(|b| b.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = LawfulBasis::ALL.iter().map(|b| b.as_str()).collect();
                Error::BadRequest(format!(
                    "unknown lawful basis `{}` (one of {})",
                    shorten(name),
                    names.join(", ")
                ))
            })
    }
}

/// One grant or withdrawal, as a caller gives it: a grant and a withdrawal take the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    /// the data subject's pseudonymous id
    pub subject: String,
    /// what the processing is for: lowercase letters, digits and `_`, starting with a letter
    pub purpose: String,
    /// the lawful basis
    pub basis: LawfulBasis,
    /// where it was given or withdrawn (`web`, `app`, `call_centre`, …)
    pub source: String,
    /// `sha256:<hex>` of the notice text the subject was shown ([`notice_hash`]); a grant
    /// under the consent basis needs one (Art. 7(1): the controller shows what was agreed to)
    pub notice_hash: Option<String>,
    /// when, µs since the epoch (default: now)
    pub at_us: Option<i64>,
    /// when a grant lapses, µs since the epoch
    pub expires_us: Option<i64>,
}

impl ConsentChange {
    /// Checks every field; `granted` says whether it is a grant.
    pub fn validate(&self, granted: bool) -> Result<()> {
        self.check(granted).map_err(|(_, e)| e)
    }

    /// [`ConsentChange::validate`], naming the field at fault (`subject`, `purpose`,
    /// `source`, `notice_hash`, `expires`).
    pub fn check(&self, granted: bool) -> std::result::Result<(), (&'static str, Error)> {
        check_subject(&self.subject).map_err(|e| ("subject", e))?;
        check_purpose(&self.purpose).map_err(|e| ("purpose", e))?;
        check_source(&self.source).map_err(|e| ("source", e))?;
        match &self.notice_hash {
            Some(h) => check_notice_hash(h).map_err(|e| ("notice_hash", e))?,
            None if granted && self.basis == LawfulBasis::Consent => {
                return Err((
                    "notice_hash",
                    Error::BadRequest(
                        "a grant under the consent basis needs the notice (its text or its sha256 hash)"
                            .into(),
                    ),
                ))
            }
            None => {}
        }
        if let Some(expires) = self.expires_us {
            if !granted {
                return Err((
                    "expires",
                    Error::BadRequest("a withdrawal has no expiry: only a grant lapses".into()),
                ));
            }
            let at = self.at_us.unwrap_or_else(evident_core::event::now_us);
            if expires <= at {
                return Err((
                    "expires",
                    Error::BadRequest("the expiry must come after the time of the grant".into()),
                ));
            }
        }
        Ok(())
    }
}

fn check_source(source: &str) -> Result<()> {
    if source.is_empty()
        || source.chars().count() > MAX_SOURCE_CHARS
        || !source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
    {
        return Err(Error::BadRequest(format!(
            "source `{}`: 1 to {MAX_SOURCE_CHARS} letters, digits, `_`, `-`, `.` or `:`",
            shorten(source)
        )));
    }
    Ok(())
}

/// `sha256:<hex>` of a notice's text: the version a subject saw.
pub fn notice_hash(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// A subject id: not empty, at most 512 characters, no control characters.
pub(crate) fn check_subject(subject: &str) -> Result<()> {
    if subject.trim().is_empty() {
        return Err(Error::BadRequest("the subject must not be empty".into()));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(Error::BadRequest(format!(
            "the subject is longer than {MAX_SUBJECT_CHARS} characters"
        )));
    }
    if subject.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "the subject holds a control character".into(),
        ));
    }
    Ok(())
}

/// A purpose: `[a-z][a-z0-9_]*`, at most 64 characters, so that a Cedar policy can name it
/// as `context.consent.<purpose>`.
pub(crate) fn check_purpose(purpose: &str) -> Result<()> {
    let ok = purpose.len() <= MAX_PURPOSE_CHARS
        && purpose.starts_with(|c: char| c.is_ascii_lowercase())
        && purpose
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(Error::BadRequest(format!(
            "purpose `{}`: 1 to {MAX_PURPOSE_CHARS} lowercase letters, digits or `_`, starting with a letter",
            shorten(purpose)
        )));
    }
    Ok(())
}

fn check_notice_hash(hash: &str) -> Result<()> {
    let ok = hash.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    });
    if !ok {
        return Err(Error::BadRequest(format!(
            "notice hash `{}`: `sha256:` and 64 lowercase hex digits",
            shorten(hash)
        )));
    }
    Ok(())
}

/// A caller's value quoted in an error, cut to 40 characters and without control characters.
pub(crate) fn shorten(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> ConsentChange {
        ConsentChange {
            subject: "s-1".into(),
            purpose: "marketing".into(),
            basis: LawfulBasis::Consent,
            source: "web".into(),
            notice_hash: Some(notice_hash("We email offers.")),
            at_us: Some(1_000),
            expires_us: Some(2_000),
        }
    }

    #[test]
    fn every_basis_parses_back_and_unknown_ones_are_named() {
        for b in LawfulBasis::ALL {
            assert_eq!(LawfulBasis::parse(b.as_str()).unwrap(), b);
        }
        let err = LawfulBasis::parse("because").unwrap_err().to_string();
        assert!(
            err.contains("`because`") && err.contains("legitimate_interests"),
            "{err}"
        );
    }

    #[test]
    fn a_good_change_passes_and_each_bad_field_is_refused() {
        change().validate(true).unwrap();
        let bad = |f: fn(&mut ConsentChange), granted: bool, says: &str| {
            let mut c = change();
            f(&mut c);
            let err = c.validate(granted).unwrap_err().to_string();
            assert!(err.contains(says), "{err} should say {says}");
        };
        bad(|c| c.subject = " ".into(), true, "subject");
        bad(|c| c.subject = "a\nb".into(), true, "control");
        bad(|c| c.purpose = "Marketing".into(), true, "purpose");
        bad(|c| c.purpose = "x".repeat(65), true, "purpose");
        bad(|c| c.source = "".into(), true, "source");
        bad(
            |c| c.notice_hash = Some("md5:00".into()),
            true,
            "notice hash",
        );
        bad(|c| c.notice_hash = None, true, "needs the notice");
        bad(|c| c.expires_us = Some(500), true, "expiry");
        bad(
            |c| c.expires_us = Some(5_000),
            false,
            "withdrawal has no expiry",
        );
        // A withdrawal needs no notice; neither does a grant on another basis.
        let mut w = change();
        w.notice_hash = None;
        w.expires_us = None;
        w.validate(false).unwrap();
        w.basis = LawfulBasis::Contract;
        w.validate(true).unwrap();
    }

    #[test]
    fn a_notice_hash_is_sha256_hex() {
        assert_eq!(
            notice_hash(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
