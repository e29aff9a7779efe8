//! The card-number arithmetic of tokens: how a token is made ([`TokenFormat`]), which digits
//! it keeps ([`Keep`]), the card itself ([`Pan`]), where the hidden digits lie, the one Luhn
//! digit that makes a number fail the check, and FF1 cycle-walking over the Luhn-invalid
//! numbers.

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use evident_core::{Error, Result};
use evident_detect::validate::luhn_residue;

/// Information-carrying digits a token needs: 10⁶ possible values.
pub const MIN_HIDDEN_DIGITS: usize = 6;
/// A token's Luhn sum, mod 10; a card's is 0.
pub(crate) const TOKEN_LUHN_RESIDUE: u32 = 1;

/// How a token is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    /// random digits; the card number is kept sealed in the vault
    Random,
    /// format-preserving encryption (NIST SP 800-38G FF1, AES-256)
    Ff1,
}

impl TokenFormat {
    /// `random` or `ff1`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Random => "random",
            TokenFormat::Ff1 => "ff1",
        }
    }

    /// Parses `random` or `ff1`.
    pub fn parse(text: &str) -> Result<TokenFormat> {
        match text {
            "random" => Ok(TokenFormat::Random),
            "ff1" => Ok(TokenFormat::Ff1),
            other => Err(Error::BadRequest(format!(
                "token format {other:?}: use `random` or `ff1`"
            ))),
        }
    }

    /// The digits a format keeps in clear unless told otherwise.
    pub fn default_keep(self) -> Keep {
        match self {
            TokenFormat::Random => Keep::Last4,
            TokenFormat::Ff1 => Keep::First6Last4,
        }
    }
}

/// Which of the card's digits a token keeps in clear (PCI DSS allows at most the first 6 and
/// last 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Keep {
    /// the issuer's BIN and the last 4
    #[serde(rename = "first6-last4")]
    First6Last4,
    /// the last 4
    #[serde(rename = "last4")]
    Last4,
    /// nothing
    #[serde(rename = "none")]
    Nothing,
}

impl Keep {
    /// `first6-last4`, `last4` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::First6Last4 => "first6-last4",
            Keep::Last4 => "last4",
            Keep::Nothing => "none",
        }
    }

    /// Parses `first6-last4`, `last4` or `none`.
    pub fn parse(text: &str) -> Result<Keep> {
        match text {
            "first6-last4" => Ok(Keep::First6Last4),
            "last4" => Ok(Keep::Last4),
            "none" => Ok(Keep::Nothing),
            other => Err(Error::BadRequest(format!(
                "keep {other:?}: use `first6-last4`, `last4` or `none`"
            ))),
        }
    }

    fn clear(self) -> (usize, usize) {
        match self {
            Keep::First6Last4 => (6, 4),
            Keep::Last4 => (0, 4),
            Keep::Nothing => (0, 0),
        }
    }
}

/// A card number: 13–19 ASCII digits passing the Luhn check, wiped from memory on drop.
pub struct Pan(pub(crate) Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Pan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pan({})", masked(&self.0))
    }
}

impl Pan {
    /// Parses a card number; spaces and dashes between digits are allowed. Track data is
    /// refused (rule `pci.sad.track`); errors never echo the input.
    pub fn parse(text: &str) -> Result<Pan> {
        crate::sad::refuse_in_text(text, "the card number")?;
        let text = text.trim();
        let mut digits = Zeroizing::new(Vec::with_capacity(19));
        for b in text.bytes() {
            match b {
                b'0'..=b'9' => digits.push(b - b'0'),
                b' ' | b'-' => {}
                _ => {
                    return Err(Error::BadRequest(
                        "a card number holds only digits, spaces and dashes".into(),
                    ))
                }
            }
            if digits.len() > 19 {
                break;
            }
        }
        if !(13..=19).contains(&digits.len()) {
            return Err(Error::BadRequest(
                "a card number has 13 to 19 digits".into(),
            ));
        }
        if luhn_residue(&digits) != 0 {
            return Err(Error::BadRequest(
                "not a card number: it fails the Luhn check".into(),
            ));
        }
        Ok(Pan(digits))
    }

    /// The digits as text (wiped on drop).
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// First 6, asterisks, last 4: the most PCI DSS 3.4.1 lets a display show.
    pub fn masked(&self) -> String {
        masked(&self.0)
    }
}

/// First 6 and last 4 digits with asterisks between (digit values or ASCII digits).
pub(crate) fn masked(digits: &[u8]) -> String {
    let n = digits.len();
    digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i < 6 || i + 4 >= n {
                char::from(b'0' + (d % 48))
            } else {
                '*'
            }
        })
        .collect()
}

/// Sets `digits[at]` to the one digit that makes the Luhn sum `residue` mod 10 (the digit's
/// contribution, doubled or not, runs through all of 0–9, so there is exactly one).
pub(crate) fn set_luhn_digit(digits: &mut [u8], at: usize, residue: u32) {
    for d in 0..10 {
        digits[at] = d;
        if luhn_residue(digits) == residue {
            return;
        }
    }
}

/// Where a card's hidden digits are: `span` is every digit the token replaces, `hidden` those
/// of them that carry information, and `luhn_at` the last one, which the others determine.
pub(crate) struct Layout {
    pub(crate) span: std::ops::Range<usize>,
    pub(crate) hidden: std::ops::Range<usize>,
    pub(crate) luhn_at: usize,
}

pub(crate) fn layout(len: usize, format: TokenFormat, keep: Keep) -> Result<Layout> {
    let (first, last) = keep.clear();
    let luhn_at = len - last - 1;
    let span = first..luhn_at + 1;
    if span.len() < MIN_HIDDEN_DIGITS {
        let hint = if keep == Keep::First6Last4 {
            " — keep only the last 4 (`keep: last4`)"
        } else {
            ""
        };
        return Err(Error::BadRequest(format!(
            "a {} token of a {len}-digit card keeping {} replaces only {} digit(s): \
             fewer than {MIN_HIDDEN_DIGITS} (a domain under 10^{MIN_HIDDEN_DIGITS}), so it is refused{hint}",
            format.as_str(),
            keep.as_str(),
            span.len()
        )));
    }
    Ok(Layout {
        span,
        hidden: first..luhn_at,
        luhn_at,
    })
}

/// Walks FF1 (or its inverse) over `digits[span]` until the whole number fails the Luhn
/// check: cycle-walking makes FF1 a permutation of the Luhn-invalid numbers with these kept
/// digits (NIST SP 800-38G, and Black–Rogaway), about 1.1 steps on average.
pub(crate) fn luhn_invalid_walk(
    digits: &mut [u8],
    span: &std::ops::Range<usize>,
    mut step: impl FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<()> {
    for _ in 0..1000 {
        let next = step(&digits[span.clone()])?;
        digits[span.clone()].copy_from_slice(&next);
        if luhn_residue(digits) != 0 {
            return Ok(());
        }
    }
    Err(Error::Crypto("FF1 cycle-walk did not end".into()))
}

pub(crate) fn random_digits(out: &mut [u8]) -> Result<()> {
    let rng = SystemRandom::new();
    let mut byte = [0u8; 1];
    for d in out.iter_mut() {
        // Rejection sampling keeps every digit uniform.
        loop {
            rng.fill(&mut byte)
                .map_err(|_| Error::Crypto("the random source failed".into()))?;
            if byte[0] < 250 {
                *d = byte[0] % 10;
                break;
            }
        }
    }
    Ok(())
}

pub(crate) fn digits_text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Binds an FF1 token to the digits kept in clear and the choice of kept digits.
pub(crate) fn ff1_tweak(
    keep: Keep,
    digits: &[u8],
    hidden: &std::ops::Range<usize>,
    luhn_at: usize,
) -> Vec<u8> {
    let mut tweak = format!("evident-pan|{}|", keep.as_str()).into_bytes();
    tweak.extend(digits[..hidden.start].iter().map(|d| b'0' + d));
    tweak.push(b'|');
    tweak.extend(digits[luhn_at + 1..].iter().map(|d| b'0' + d));
    tweak
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::Aes256;
    use fpe::ff1::{FlexibleNumeralString, FF1};

    fn digits(text: &str) -> Vec<u8> {
        text.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn luhn_digit_can_be_set_to_any_residue_at_any_position() {
        let mut pan = digits("4111111111111111");
        assert_eq!(luhn_residue(&pan), 0);
        for at in 0..pan.len() {
            for residue in 0..10 {
                set_luhn_digit(&mut pan, at, residue);
                assert_eq!(luhn_residue(&pan), residue, "at {at}");
            }
        }
    }

    #[test]
    fn cards_parse_and_bad_ones_are_refused_without_echo() {
        let pan = Pan::parse(" 4111 1111-1111 1111 ").unwrap();
        assert_eq!(pan.reveal().as_str(), "4111111111111111");
        assert_eq!(pan.masked(), "411111******1111");
        assert!(!format!("{pan:?}").contains("4111111111111111"));
        for bad in [
            "4111111111111112",
            "411111111111",
            "41111111111111111111",
            "4111x11111111111",
            "",
        ] {
            let e = Pan::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("4111111111"), "{e}");
        }
        assert!(matches!(
            Pan::parse(";4111111111111111=28121010000000000?"),
            Err(Error::SensitiveAuthenticationData(_))
        ));
    }

    #[test]
    fn layouts_refuse_small_domains() {
        // 15 digits keeping 6 + 4 replaces 5.
        let e = layout(15, TokenFormat::Ff1, Keep::First6Last4)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("last4") && e.contains("fewer than 6"), "{e}");
        assert!(layout(16, TokenFormat::Ff1, Keep::First6Last4).is_ok());
        assert!(layout(19, TokenFormat::Ff1, Keep::First6Last4).is_ok());
        let l = layout(16, TokenFormat::Random, Keep::Last4).unwrap();
        assert_eq!((l.span, l.hidden, l.luhn_at), (0..12, 0..11, 11));
        let l = layout(13, TokenFormat::Ff1, Keep::Nothing).unwrap();
        assert_eq!((l.span, l.hidden, l.luhn_at), (0..13, 0..12, 12));
        assert!(layout(13, TokenFormat::Ff1, Keep::First6Last4).is_err());
    }

    /// NIST SP 800-38G FF1 sample 7 (AES-256, radix 10, empty tweak) and sample 8 (tweak):
    /// the FF1 implementation in use is the standard one.
    #[test]
    fn ff1_matches_the_nist_samples() {
        let key = hex::decode("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
            .unwrap();
        let ff1 = FF1::<Aes256>::new(&key, 10).unwrap();
        let x: Vec<u16> = (0..10).collect();
        let run = |tweak: &[u8]| -> Vec<u16> {
            ff1.encrypt(tweak, &FlexibleNumeralString::from(x.clone()))
                .unwrap()
                .into()
        };
        assert_eq!(run(&[]), [6, 6, 5, 7, 6, 6, 7, 0, 0, 9]);
        let tweak = hex::decode("39383736353433323130").unwrap();
        assert_eq!(run(&tweak), [1, 0, 0, 1, 6, 2, 3, 4, 6, 3]);
    }
}
