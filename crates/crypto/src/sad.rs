//! Sensitive authentication data (PCI DSS 3.3.1): card verification codes, PIN blocks and
//! magnetic-stripe track data may never be stored after authorization, so requests that carry
//! them are refused whole, naming the rule, before anything is kept.
//!
//! Fields are recognised by name (`cvv`, `cvc2`, `cid`, `pin_block`, `track2`, …, compared
//! without case or separators) and track data also by shape anywhere in a string value
//! (`%B<PAN>^NAME^YYMM…` for track 1, `;<PAN>=YYMM…` for track 2), so a swiped stripe pasted
//! into a card-number field is caught too.

use serde_json::Value;

/// One refused item: which rule and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SadViolation {
    /// `pci.sad.cvv`, `pci.sad.pin` or `pci.sad.track`
    pub rule: &'static str,
    /// the JSON path of the field (`$.card.cvv`), or `input` for a bare value
    pub path: String,
}

impl std::fmt::Display for SadViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.rule {
            "pci.sad.cvv" => "a card verification code (CVV/CVC/CID)",
            "pci.sad.pin" => "a PIN or PIN block",
            _ => "magnetic-stripe track data",
        };
        write!(
            f,
            "{} holds {what}, which is never stored (rule {}, PCI DSS 3.3.1); remove it and send only the card number",
            self.path, self.rule
        )
    }
}

const CVV_NAMES: &[&str] = &[
    "cvv",
    "cvv2",
    "cvc",
    "cvc2",
    "cid",
    "cav2",
    "cvn",
    "cvn2",
    "csc",
    "cardsecuritycode",
    "securitycode",
    "cardverificationcode",
    "cardverificationvalue",
    "cardcode",
];
const PIN_NAMES: &[&str] = &[
    "pin",
    "pinblock",
    "encryptedpin",
    "encryptedpinblock",
    "pinoffset",
    "pvv",
    "pindata",
];
const TRACK_NAMES: &[&str] = &[
    "track",
    "track1",
    "track2",
    "track3",
    "trackdata",
    "track1data",
    "track2data",
    "magstripe",
    "magneticstripe",
    "stripedata",
    "swipe",
    "swipedata",
];

fn normalised(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The rule a field name falls under, if any.
pub fn rule_for_field(name: &str) -> Option<&'static str> {
    let name = normalised(name);
    if CVV_NAMES.contains(&name.as_str()) {
        Some("pci.sad.cvv")
    } else if PIN_NAMES.contains(&name.as_str()) {
        Some("pci.sad.pin")
    } else if TRACK_NAMES.contains(&name.as_str()) {
        Some("pci.sad.track")
    } else {
        None
    }
}

fn digit_run(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Whether `text` holds something shaped like track 1 (`%B` PAN `^` name `^` YYMM) or
/// track 2 (PAN `=` YYMM) data.
pub fn looks_like_track_data(text: &str) -> bool {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            // Track 2: 12–19 digits, '=', then expiry (4 digits) and service code.
            b'=' => {
                let before = bytes[..i]
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if (12..=19).contains(&before) && digit_run(bytes, i + 1) >= 4 {
                    return true;
                }
            }
            // Track 1: 'B', 12–19 digits, '^', a name of 2–26 characters, '^', 4 digits.
            b'B' | b'b' => {
                let pan = digit_run(bytes, i + 1);
                let caret = i + 1 + pan;
                if (12..=19).contains(&pan) && bytes.get(caret) == Some(&b'^') {
                    if let Some(name_len) =
                        bytes[caret + 1..].iter().take(27).position(|&b| b == b'^')
                    {
                        if name_len >= 2 && digit_run(bytes, caret + 2 + name_len) >= 4 {
                            return true;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// The first piece of sensitive authentication data in a JSON request, if any.
pub fn find_in_json(value: &Value) -> Option<SadViolation> {
    fn walk(value: &Value, path: &mut String) -> Option<SadViolation> {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    if let Some(rule) = rule_for_field(key) {
                        // An empty or null field carries nothing.
                        let empty = match child {
                            Value::Null => true,
                            Value::String(s) => s.trim().is_empty(),
                            _ => false,
                        };
                        if !empty {
                            return Some(SadViolation {
                                rule,
                                path: path.clone(),
                            });
                        }
                    }
                    if let Some(found) = walk(child, path) {
                        return Some(found);
                    }
                    path.truncate(len);
                }
                None
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if let Some(found) = walk(child, path) {
                        return Some(found);
                    }
                    path.truncate(len);
                }
                None
            }
            Value::String(text) if looks_like_track_data(text) => Some(SadViolation {
                rule: "pci.sad.track",
                path: path.clone(),
            }),
            _ => None,
        }
    }
    walk(value, &mut "$".to_string())
}

/// Refuses a JSON request that carries sensitive authentication data.
pub fn refuse_in_json(value: &Value) -> evident_core::Result<()> {
    match find_in_json(value) {
        Some(found) => Err(evident_core::Error::SensitiveAuthenticationData(
            found.to_string(),
        )),
        None => Ok(()),
    }
}

/// Refuses a bare value (a card number read from standard input) shaped like track data.
pub fn refuse_in_text(text: &str, path: &str) -> evident_core::Result<()> {
    if looks_like_track_data(text) {
        return Err(evident_core::Error::SensitiveAuthenticationData(
            SadViolation {
                rule: "pci.sad.track",
                path: path.into(),
            }
            .to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_recognised_by_name_in_any_spelling() {
        for (name, rule) in [
            ("cvv", "pci.sad.cvv"),
            ("CVV2", "pci.sad.cvv"),
            ("card_security_code", "pci.sad.cvv"),
            ("cid", "pci.sad.cvv"),
            ("pin_block", "pci.sad.pin"),
            ("PinBlock", "pci.sad.pin"),
            ("track-2", "pci.sad.track"),
            ("magStripe", "pci.sad.track"),
        ] {
            assert_eq!(rule_for_field(name), Some(rule), "{name}");
        }
        for name in [
            "pan",
            "card_number",
            "expiry",
            "pinned",
            "tracking_id",
            "cardholder",
        ] {
            assert_eq!(rule_for_field(name), None, "{name}");
        }
    }

    #[test]
    fn nested_fields_are_found_with_their_path() {
        let v = json!({"pan": "4111111111111111", "card": {"meta": [{"cvc2": "123"}]}});
        let found = find_in_json(&v).unwrap();
        assert_eq!(found.rule, "pci.sad.cvv");
        assert_eq!(found.path, "$.card.meta[0].cvc2");
        assert!(found.to_string().contains("pci.sad.cvv"));
        assert!(!found.to_string().contains("123"), "never echoes the value");
        // present but empty carries nothing
        assert!(find_in_json(&json!({"pan": "4111111111111111", "cvv": ""})).is_none());
        assert!(find_in_json(&json!({"pan": "4111111111111111", "cvv": null})).is_none());
    }

    #[test]
    fn track_data_is_found_by_shape() {
        assert!(looks_like_track_data(
            "%B4111111111111111^DOE/JOHN^2812101000000000000?"
        ));
        assert!(looks_like_track_data(
            ";4111111111111111=28121010000000000?"
        ));
        assert!(looks_like_track_data("4111111111111111=2812101"));
        assert!(!looks_like_track_data("4111111111111111"));
        assert!(!looks_like_track_data("a=b; x=12345678"));
        assert!(!looks_like_track_data("Bob^Alice^1234"));
        assert!(!looks_like_track_data("B"));
        assert!(!looks_like_track_data("=1234"));
        let found = find_in_json(&json!({"pan": ";4111111111111111=28121010000000000?"})).unwrap();
        assert_eq!(
            (found.rule, found.path.as_str()),
            ("pci.sad.track", "$.pan")
        );
        assert!(refuse_in_text("%B4111111111111111^DOE/J^2812", "input").is_err());
        assert!(refuse_in_text("4111 1111 1111 1111", "input").is_ok());
    }
}
