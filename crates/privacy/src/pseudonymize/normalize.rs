//! The explicit normalisation applied to a value before it is pseudonymized: none by default,
//! trimming and lowercasing on request (so ` Alice@Example.com ` and `alice@example.com` get
//! one pseudonym when the caller says they are the same person).

use std::borrow::Cow;

/// What is done to a value before it is pseudonymized. Off unless asked for: two values
/// that differ get different pseudonyms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Normalization {
    /// strip leading and trailing white space
    pub trim: bool,
    /// lowercase (Unicode)
    pub lowercase: bool,
}

impl Normalization {
    /// Nothing: the value as given.
    pub const NONE: Normalization = Normalization {
        trim: false,
        lowercase: false,
    };
    /// Trimmed and lowercased, for e-mail addresses and other case-insensitive identifiers.
    pub const EMAIL: Normalization = Normalization {
        trim: true,
        lowercase: true,
    };

    /// Parses a comma-separated list of `trim`, `lowercase`, `email` (both) or `none`.
    pub fn parse(text: &str) -> evident_core::Result<Normalization> {
        let mut n = Normalization::NONE;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "trim" => n.trim = true,
                "lowercase" => n.lowercase = true,
                "email" => n = Normalization::EMAIL,
                "none" => {}
                other => {
                    return Err(evident_core::Error::BadRequest(format!(
                        "normalization `{}`: use `trim`, `lowercase`, `email` or `none`",
                        other.chars().take(40).collect::<String>()
                    )))
                }
            }
        }
        Ok(n)
    }

    /// The names of what is on, for the ledger record (`[]`, `["trim", "lowercase"]`).
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.trim {
            names.push("trim");
        }
        if self.lowercase {
            names.push("lowercase");
        }
        names
    }

    /// `value` normalised (borrowed when nothing changes).
    pub fn apply(self, value: &str) -> Cow<'_, str> {
        let value = if self.trim { value.trim() } else { value };
        if self.lowercase
            && value
                .chars()
                .any(|c| c.to_lowercase().ne(std::iter::once(c)))
        {
            Cow::Owned(value.to_lowercase())
        } else {
            Cow::Borrowed(value)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn parses_and_applies() {
        assert_eq!(Normalization::parse("").unwrap(), Normalization::NONE);
        assert_eq!(Normalization::parse("email").unwrap(), Normalization::EMAIL);
        assert_eq!(
            Normalization::parse("trim, lowercase").unwrap(),
            Normalization::EMAIL
        );
        assert!(Normalization::parse("upper").is_err());
        assert_eq!(Normalization::EMAIL.apply("  ÄB@x.ORG "), "äb@x.org");
        assert_eq!(Normalization::NONE.apply(" A "), " A ");
        assert!(matches!(
            Normalization::EMAIL.apply("a@b"),
            Cow::Borrowed(_)
        ));
    }
}
