//! Format-preserving pseudonyms: NIST SP 800-38G FF1 (AES-256, the same `fpe` implementation
//! the card tokens use, checked there against NIST's samples) over one of four alphabets, so a
//! digit string stays a digit string of the same length. The key is the domain's, derived
//! from the same key version as its keyed-hash pseudonyms; the tweak names the alphabet.
//!
//! A value must lie wholly in the alphabet and hold at least as many characters as give
//! 10⁶ possible values (SP 800-38G Rev. 1's smallest domain): 6 digits, 5 letters, 4
//! alphanumerics; at most [`MAX_FPE_CHARS`]. Anything else is refused, naming the alphabet
//! and the length, never the value.

use aes::Aes256;
use fpe::ff1::{FlexibleNumeralString, FF1};

use evident_core::{Error, Result};

/// The longest value FF1 pseudonymizes, in characters.
pub const MAX_FPE_CHARS: usize = 256;

const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The characters a format-preserving pseudonym keeps its value in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alphabet {
    /// `0-9` (radix 10; at least 6 characters)
    Digits,
    /// `a-z` (radix 26; at least 5)
    Lower,
    /// `A-Z` (radix 26; at least 5)
    Upper,
    /// `0-9A-Za-z` (radix 62; at least 4)
    Alnum,
}

impl Alphabet {
    /// Every alphabet, in a fixed order.
    pub const ALL: [Alphabet; 4] = [
        Alphabet::Digits,
        Alphabet::Lower,
        Alphabet::Upper,
        Alphabet::Alnum,
    ];

    /// Its position in [`Alphabet::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Alphabet::Digits => 0,
            Alphabet::Lower => 1,
            Alphabet::Upper => 2,
            Alphabet::Alnum => 3,
        }
    }

    /// `digits`, `lower`, `upper` or `alnum`.
    pub fn name(self) -> &'static str {
        match self {
            Alphabet::Digits => "digits",
            Alphabet::Lower => "lower",
            Alphabet::Upper => "upper",
            Alphabet::Alnum => "alnum",
        }
    }

    /// Parses `digits`, `lower`, `upper` or `alnum`.
    pub fn parse(text: &str) -> Result<Alphabet> {
        Alphabet::ALL
            .into_iter()
            .find(|a| a.name() == text)
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "alphabet `{}`: use `digits`, `lower`, `upper` or `alnum`",
                    text.chars().take(40).collect::<String>()
                ))
            })
    }

    /// How many characters it has.
    pub fn radix(self) -> u32 {
        match self {
            Alphabet::Digits => 10,
            Alphabet::Lower | Alphabet::Upper => 26,
            Alphabet::Alnum => 62,
        }
    }

    /// The fewest characters a value needs: radix^n ≥ 10⁶.
    pub fn min_chars(self) -> usize {
        match self {
            Alphabet::Digits => 6,
            Alphabet::Lower | Alphabet::Upper => 5,
            Alphabet::Alnum => 4,
        }
    }

    fn numeral(self, b: u8) -> Option<u16> {
        let n = match (self, b) {
            (Alphabet::Digits, b'0'..=b'9') => b - b'0',
            (Alphabet::Lower, b'a'..=b'z') => b - b'a',
            (Alphabet::Upper, b'A'..=b'Z') => b - b'A',
            (Alphabet::Alnum, b'0'..=b'9') => b - b'0',
            (Alphabet::Alnum, b'A'..=b'Z') => b - b'A' + 10,
            (Alphabet::Alnum, b'a'..=b'z') => b - b'a' + 36,
            _ => return None,
        };
        Some(u16::from(n))
    }

    fn character(self, n: u16) -> Option<char> {
        let byte = match self {
            Alphabet::Digits => b"0123456789".get(usize::from(n)),
            Alphabet::Lower => b"abcdefghijklmnopqrstuvwxyz".get(usize::from(n)),
            Alphabet::Upper => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ".get(usize::from(n)),
            Alphabet::Alnum => ALNUM.get(usize::from(n)),
        };
        byte.map(|&b| char::from(b))
    }

    fn tweak(self) -> Vec<u8> {
        format!("evident-pseudonym|{}", self.name()).into_bytes()
    }

    /// FF1-encrypts `value` with `ff1` (built for this alphabet's radix).
    pub(crate) fn encrypt(self, ff1: &FF1<Aes256>, value: &str) -> Result<String> {
        let chars = value.chars().count();
        if chars < self.min_chars() || chars > MAX_FPE_CHARS {
            return Err(Error::BadRequest(format!(
                "a value of {chars} character(s) does not fit the `{}` alphabet: \
                 format-preserving pseudonyms need {} to {MAX_FPE_CHARS} characters \
                 (at least 10^6 possible values)",
                self.name(),
                self.min_chars()
            )));
        }
        let numerals = value
            .bytes()
            .map(|b| self.numeral(b))
            .collect::<Option<Vec<u16>>>()
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "a value holds characters outside the `{}` alphabet ({}); \
                     format-preserving pseudonyms keep every character in it",
                    self.name(),
                    self.describe()
                ))
            })?;
        let out: Vec<u16> = ff1
            .encrypt(&self.tweak(), &FlexibleNumeralString::from(numerals))
            .map_err(|e| Error::Crypto(format!("FF1: {e:?}")))?
            .into();
        out.into_iter()
            .map(|n| self.character(n))
            .collect::<Option<String>>()
            .ok_or_else(|| Error::Crypto("FF1 answered a numeral outside the alphabet".into()))
    }

    /// The alphabet's characters, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Alphabet::Digits => "0-9",
            Alphabet::Lower => "a-z",
            Alphabet::Upper => "A-Z",
            Alphabet::Alnum => "0-9, A-Z, a-z",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use crate::pseudonymize::{Normalization, Pseudonymizer};

    fn ps(first: u8) -> Pseudonymizer {
        let k: [u8; 32] = std::array::from_fn(|i| first.wrapping_add(i as u8));
        Pseudonymizer::from_keys("patients", 1, &k, &k).unwrap()
    }

    #[test]
    fn keeps_length_and_alphabet_and_is_deterministic() {
        let p = ps(1);
        let n = Normalization::NONE;
        for (alphabet, value) in [
            (Alphabet::Digits, "123456789"),
            (Alphabet::Lower, "alicebob"),
            (Alphabet::Upper, "SMITHJ"),
            (Alphabet::Alnum, "Ab12Cd34"),
        ] {
            let out = p.fpe(value, alphabet, n).unwrap();
            assert_eq!(out.len(), value.len(), "{alphabet:?}");
            assert!(out.bytes().all(|b| alphabet.numeral(b).is_some()), "{out}");
            assert_ne!(out, value);
            assert_eq!(out, p.fpe(value, alphabet, n).unwrap());
            assert_ne!(out, ps(2).fpe(value, alphabet, n).unwrap());
        }
    }

    #[test]
    fn refuses_what_does_not_fit_without_echoing_it() {
        let p = ps(1);
        let n = Normalization::NONE;
        for (alphabet, value) in [
            (Alphabet::Digits, "12345"),
            (Alphabet::Digits, "123-45-6789"),
            (Alphabet::Lower, "ALICE"),
            (Alphabet::Upper, "ABCD"),
            (Alphabet::Alnum, "abc"),
            (Alphabet::Digits, "１２３４５６"),
        ] {
            let e = p.fpe(value, alphabet, n).unwrap_err().to_string();
            assert!(!e.contains(value), "{e}");
            assert!(e.contains(alphabet.name()), "{e}");
        }
        assert!(p.fpe(&"1".repeat(257), Alphabet::Digits, n).is_err());
        assert!(p.fpe(&"1".repeat(256), Alphabet::Digits, n).is_ok());
    }

    #[test]
    fn every_numeral_round_trips() {
        for a in Alphabet::ALL {
            for n in 0..a.radix() as u16 {
                let c = a.character(n).unwrap();
                assert_eq!(a.numeral(c as u8), Some(n));
            }
            assert_eq!(a.character(a.radix() as u16), None);
            assert_eq!(Alphabet::parse(a.name()).unwrap(), a);
        }
    }
}
