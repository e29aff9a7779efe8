//! Findings as users see them: never the raw value, only a masked excerpt and a keyed HMAC
//! fingerprint that lets findings be compared and baselined without storing what was found.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::validate::digits;
use crate::Entity;

/// One thing found, safe to print, store and send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// the rule id
    pub rule: String,
    /// what was found
    pub entity: Entity,
    /// the file (`-` for stdin)
    pub path: String,
    /// 1-based line of the value's first byte
    pub line: u64,
    /// 1-based byte column of the value's first byte
    pub column: u64,
    /// byte offset of the value in the input
    pub start: u64,
    /// byte offset just past the value
    pub end: u64,
    /// the value with most of it hidden (a card keeps at most its first 6 and last 4 digits)
    pub masked: String,
    /// `HMAC-SHA256(key, entity ‖ 0 ‖ normalised value)`, hex, first 16 bytes
    pub fingerprint: String,
    /// 0–1, from the rule's confidence and nearby context words
    pub score: f32,
}

/// Keyed fingerprints of values. The key is absorbed into the HMAC state at construction and not kept.
#[derive(Clone)]
pub struct Fingerprinter {
    /// HMAC state with the key already absorbed, cloned per fingerprint (saves two SHA-256
    /// compressions each time). It holds the SHA-256 states after the padded key blocks, from
    /// which the key cannot be recovered; the key itself is not kept.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter { key: [redacted] }")
    }
}

impl Fingerprinter {
    /// Uses `key` (at least 16 bytes) for every fingerprint.
    pub fn new(key: &[u8]) -> Result<Fingerprinter> {
        if key.len() < 16 {
            return Err(Error::Key(format!(
                "{} bytes is too short; use at least 16 random bytes",
                key.len()
            )));
        }
        Self::keyed(key)
    }

    fn keyed(key: &[u8]) -> Result<Fingerprinter> {
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map_err(|e| Error::Key(format!("HMAC key: {e}")))?;
        Ok(Fingerprinter { keyed })
    }

    /// A fresh random key: fingerprints are then only comparable within this process.
    pub fn random() -> Result<Fingerprinter> {
        let mut key = Zeroizing::new(vec![0u8; 32]);
        getrandom_fill(&mut key)?;
        Self::keyed(&key)
    }

    /// The fingerprint of `value` as found by a rule for `entity`.
    pub fn fingerprint(&self, entity: Entity, value: &[u8]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(entity.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(&normalise(entity, value));
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

fn getrandom_fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Key(format!("random source: {e}")))
}

/// The form two spellings of one value share: digits only for numbers, upper case for IBANs,
/// lower case for emails.
fn normalise(entity: Entity, value: &[u8]) -> Vec<u8> {
    match entity {
        Entity::Card | Entity::Ssn | Entity::Itin | Entity::Phone | Entity::Npi | Entity::Cvv => {
            digits(value).into_iter().map(|d| d + b'0').collect()
        }
        Entity::Iban => value
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(u8::to_ascii_uppercase)
            .collect(),
        Entity::Email => value.to_ascii_lowercase(),
        Entity::Mrn | Entity::Dob | Entity::Dea | Entity::Ip | Entity::Secret | Entity::Crypto => {
            value.to_vec()
        }
        // National and health identifiers: `AB 12 34 56 C` and `ab123456c` are one value.
        _ => value
            .iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_uppercase)
            .collect(),
    }
}

/// Masks every character of `value` in `class` except the ones whose index (among those
/// characters) `keep` says, given their count.
fn mask_class(value: &str, class: fn(&u8) -> bool, keep: impl Fn(usize, usize) -> bool) -> String {
    let total = value.bytes().filter(class).count();
    let mut index = 0;
    value
        .chars()
        .map(|c| match u8::try_from(c) {
            Ok(b) if class(&b) => {
                let shown = keep(index, total);
                index += 1;
                if shown {
                    c
                } else {
                    '*'
                }
            }
            _ => c,
        })
        .collect()
}

/// Masks every ASCII digit of `value` except the ones whose index (among digits) `keep` says.
fn mask_digits(value: &str, keep: impl Fn(usize, usize) -> bool) -> String {
    mask_class(value, u8::is_ascii_digit, keep)
}

/// Masks every ASCII letter and digit of `value` but the last four, and all of them when there
/// are seven or fewer: `AB 12 34 56 C` becomes `** ** *4 56 C`.
fn mask_identifier(value: &str) -> String {
    mask_class(value, u8::is_ascii_alphanumeric, |i, total| {
        total > 7 && i + 4 >= total
    })
}

/// The printable, non-revealing form of a value.
pub fn mask(entity: Entity, value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    match entity {
        Entity::Card => {
            let d: String = text.chars().filter(char::is_ascii_digit).collect();
            // PCI DSS 3.4.1: at most the BIN (first 6) and last 4 may be displayed.
            let (head, tail) = if d.len() >= 16 { (6, 4) } else { (4, 4) };
            let hidden = d.len().saturating_sub(head + tail);
            format!(
                "{}{}{}",
                &d[..head.min(d.len())],
                "*".repeat(hidden),
                &d[d.len().saturating_sub(tail).max(head.min(d.len()))..]
            )
        }
        Entity::Ssn | Entity::Itin | Entity::Phone | Entity::Npi | Entity::Mrn => {
            mask_digits(&text, |i, total| i + 4 >= total && total > 6)
        }
        Entity::Cvv | Entity::Dob => mask_digits(&text, |_, _| false),
        Entity::Iban => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let n = compact.len();
            if n <= 8 {
                "*".repeat(n)
            } else {
                format!(
                    "{}{}{}",
                    &compact[..4],
                    "*".repeat(n - 8),
                    &compact[n - 4..]
                )
            }
        }
        Entity::Email => match text.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        },
        Entity::Dea => {
            let visible: String = text.chars().take(2).collect();
            format!("{visible}*******")
        }
        Entity::Ip => {
            if text.contains(':') {
                let first = text.split(':').next().unwrap_or_default();
                format!("{first}:****")
            } else {
                let first = text.split('.').next().unwrap_or_default();
                format!("{first}.*.*.*")
            }
        }
        Entity::Crypto => {
            let n = text.chars().count();
            let head: String = text.chars().take(4).collect();
            let tail: String = text.chars().skip(n.saturating_sub(4).max(4)).collect();
            format!("{head}{}{tail}", "*".repeat(n.saturating_sub(8).min(12)))
        }
        Entity::Secret => {
            if let Some(header) = text.lines().next().filter(|l| l.starts_with("-----BEGIN")) {
                return format!("{header}…");
            }
            let n = text.chars().count();
            let shown = (n / 5).min(4);
            let head: String = text.chars().take(shown).collect();
            format!("{head}{}", "*".repeat((n - shown).clamp(4, 12)))
        }
        _ => mask_identifier(&text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_masks_keep_at_most_first_six_last_four() {
        assert_eq!(
            mask(Entity::Card, b"4111 1111 1111 1111"),
            "411111******1111"
        );
        assert_eq!(mask(Entity::Card, b"378282246310005"), "3782*******0005");
        assert_eq!(mask(Entity::Ssn, b"123-45-6789"), "***-**-6789");
        assert_eq!(
            mask(Entity::Iban, b"DE89 3704 0044 0532 0130 00"),
            "DE89**************3000"
        );
        assert_eq!(
            mask(Entity::Email, b"jane.doe@example.com"),
            "j***@example.com"
        );
        assert_eq!(mask(Entity::Cvv, b"123"), "***");
        assert_eq!(mask(Entity::UkNino, b"AB 12 34 56 C"), "** ** *4 56 C");
        assert_eq!(mask(Entity::UkNhs, b"943 476 5919"), "*** *** 5919");
        assert_eq!(mask(Entity::EsNif, b"1234Z"), "*****");
        assert_eq!(
            mask(Entity::Crypto, b"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            "1BvB************NVN2"
        );
        let secret = mask(Entity::Secret, b"ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP");
        assert_eq!(secret, "ghp_************");
        assert!(
            mask(Entity::Secret, b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")
                .starts_with("-----BEGIN RSA")
        );
    }

    #[test]
    fn fingerprints_are_keyed_and_normalised() {
        let a = Fingerprinter::new(&[1; 32]).unwrap();
        let b = Fingerprinter::new(&[2; 32]).unwrap();
        let one = a.fingerprint(Entity::Card, b"4111 1111 1111 1111");
        assert_eq!(one, a.fingerprint(Entity::Card, b"4111-1111-1111-1111"));
        assert_ne!(one, b.fingerprint(Entity::Card, b"4111111111111111"));
        assert_ne!(one, a.fingerprint(Entity::Phone, b"4111111111111111"));
        assert_eq!(
            a.fingerprint(Entity::UkNino, b"AB 12 34 56 C"),
            a.fingerprint(Entity::UkNino, b"ab123456c")
        );
        assert_eq!(one.len(), 32);
        assert!(Fingerprinter::new(b"short").is_err());
        assert!(!format!("{a:?}").contains("1, 1"));
    }
}
