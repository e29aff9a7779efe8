//! Checked values between random neighbours: the cases behind the property tests that pin
//! that a card, SSN, ITIN or IBAN is found and masked whatever is written around it — an
//! expiry date, a CVV, other numbers, dates, words glued on, other entities.
//!
//! A candidate that runs on into what follows it (`4539 1488 0343 6467 12/29` first matches
//! as 18 digits) once hid the card inside it, and the engine stored it raw. Every spelling the
//! rules accept is drawn here, so a rule change that brings that back fails the tests of
//! `scan`, `redact` and the engine's event redaction alike.
//!
//! National, health-plan and financial identifiers are drawn too ([`identifier_embedded`]):
//! each after one of its labels, between words, dates, emails, IPs and other checked values
//! kept apart by punctuation, as they stand in records and prose.
//!
//! What stays out, because the text is ambiguous rather than the detector wrong: a value
//! touching another digit (`x41111111111111111` is a 17-digit number), a bare four-digit
//! group written before a card grouped in fours with the same separator (it may be the
//! card's own first group), letters glued to an IBAN (its country code is letters), and
//! another checked value closer than a punctuation mark (two numbers that run together).

use crate::corpus::{group, iban, luhn_check_digit, ssn, Rng};
use crate::Entity;

/// A text holding one checked value at a known place.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// the whole text
    pub text: String,
    /// what the value is
    pub entity: Entity,
    /// byte offset of the value
    pub start: usize,
    /// byte offset just past the value
    pub end: usize,
}

impl Embedded {
    /// The value as planted.
    pub fn value(&self) -> &str {
        &self.text[self.start..self.end]
    }

    /// The value's digits and letters alone (`4111111111111111` for `4111 1111 1111 1111`):
    /// a second spelling that must not survive redaction either.
    pub fn compact(&self) -> String {
        self.value()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }
}

/// A valid card in any length and grouping the built-in rule accepts: 13, 15, 16 and 19
/// digits, contiguous, in groups of four, or Amex's 4-6-5, with spaces or dashes.
pub fn card_any(rng: &mut Rng) -> String {
    let (prefix, len) = match rng.below(9) {
        0 => ("4".to_owned(), 16),
        1 => ("4".to_owned(), 13),
        2 => ("4".to_owned(), 19),
        3 => (rng.range(51, 55).to_string(), 16),
        4 => (rng.range(2221, 2720).to_string(), 16),
        5 => (pick(rng, &["34", "37"]).to_owned(), 15),
        6 => ("6011".to_owned(), rng.range(16, 19) as usize),
        7 => (rng.range(3528, 3589).to_string(), 16),
        _ => (rng.range(622126, 622925).to_string(), 16),
    };
    let number = loop {
        let mut payload = prefix.clone();
        payload.push_str(&rng.digits(len - 1 - prefix.len()));
        let number = format!("{payload}{}", luhn_check_digit(&payload));
        if number.bytes().any(|b| b != number.as_bytes()[0]) {
            break number;
        }
    };
    let sizes: Vec<usize> = if len == 15 {
        vec![4, 6, 5]
    } else {
        let mut sizes = vec![4; len / 4];
        if len % 4 != 0 {
            sizes.push(len % 4);
        }
        sizes
    };
    match rng.below(3) {
        0 => number,
        1 => group(&number, &sizes, ' '),
        _ => group(&number, &sizes, '-'),
    }
}

/// A valid ITIN: area 9xx and a group the IRS assigns.
pub fn itin(rng: &mut Rng) -> String {
    let group = *rng.pick(&[50, 57, 65, 70, 78, 88, 90, 92, 94, 99]);
    let (area, serial) = (rng.range(900, 999), rng.range(0, 9999));
    let sep = if rng.chance(80) { '-' } else { ' ' };
    format!("{area}{sep}{group:02}{sep}{serial:04}")
}

/// What may stand beside a value, and whether it is itself a checked value (which then
/// needs punctuation between the two).
fn neighbour(rng: &mut Rng, after: bool) -> (String, bool) {
    const WORDS: &[&str] = &[
        "exp", "cvv", "ref", "card", "pan", "amount", "ok", "Visa", "id",
    ];
    const DATES: &[&str] = &[
        "12/29",
        "03/28",
        "1/27",
        "2029-12-07",
        "07.12.2026",
        "12:30:45",
        "2026-12-07T08:00:00Z",
    ];
    match rng.below(10) {
        // Runs of digits; four digits only after the value (an expiry `1229`).
        0 | 1 => {
            let lengths: &[usize] = if after {
                &[1, 2, 3, 4, 5, 6]
            } else {
                &[1, 2, 3, 5, 6]
            };
            let length = *rng.pick(lengths);
            (rng.digits(length), false)
        }
        2 | 3 => ((*rng.pick(DATES)).to_owned(), false),
        4 | 5 => ((*rng.pick(WORDS)).to_owned(), false),
        6 => (crate::corpus::email(rng), false),
        7 => (crate::corpus::ipv4(rng), false),
        8 => (card_any(rng), true),
        _ => (ssn(rng), true),
    }
}

/// Separators between tokens of plain text.
const SEPARATORS: &[&str] = &[
    " ", "  ", "\t", "\n", ", ", "; ", ": ", "=", "/", "|", " (", ") ", "\"", "'",
];
/// Separators that keep two checked values apart.
const PUNCTUATION: &[&str] = &[", ", "; ", " | ", "\n", "\", \""];

fn pick(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    items[rng.below(items.len() as u64) as usize]
}

fn separator(rng: &mut Rng, between_checked_values: bool) -> &'static str {
    pick(
        rng,
        if between_checked_values {
            PUNCTUATION
        } else {
            SEPARATORS
        },
    )
}

/// One text: up to three neighbours on each side of one checked value.
pub fn embedded(rng: &mut Rng) -> Embedded {
    let (entity, value) = match rng.below(7) {
        0..=2 => (Entity::Card, card_any(rng)),
        3 | 4 => (Entity::Ssn, ssn(rng)),
        5 => (Entity::Itin, itin(rng)),
        _ => (Entity::Iban, iban(rng)),
    };
    let mut text = String::new();
    neighbours(rng, &mut text, false, separator);
    // A label glued on: letters right before the value, for the all-digit entities.
    let glue_ok = entity != Entity::Iban;
    if glue_ok && rng.chance(15) {
        text.push_str(pick(rng, &["pan", "ssn", "x", "Card"]));
    }
    let start = text.len();
    text.push_str(&value);
    let end = text.len();
    if glue_ok && rng.chance(15) {
        text.push_str(pick(rng, &["exp", "x", "EOL"]));
    }
    neighbours(rng, &mut text, true, separator);
    Embedded {
        text,
        entity,
        start,
        end,
    }
}

/// Up to three neighbours written to `text`, before the value or `after` it, each with the
/// separator `sep` picks (given whether the neighbour is a checked value).
fn neighbours(
    rng: &mut Rng,
    text: &mut String,
    after: bool,
    sep: fn(&mut Rng, bool) -> &'static str,
) {
    for _ in 0..rng.below(4) {
        let (token, checked) = neighbour(rng, after);
        let sep = sep(rng, checked);
        if after {
            text.push_str(sep);
            text.push_str(&token);
        } else {
            text.push_str(&token);
            text.push_str(sep);
        }
    }
}

/// Punctuation that ends one field of a record and starts the next.
const FIELD_BREAKS: &[&str] = &[", ", "; ", " | ", "\n", "\", \"", " - ", ". "];

/// One text: an identifier after its label, up to three neighbours on each side, each kept
/// apart from it by punctuation.
pub fn identifier_embedded(rng: &mut Rng) -> Embedded {
    let (entity, label, value) = crate::corpus::identifier(rng);
    let field_break = |rng: &mut Rng, _| pick(rng, FIELD_BREAKS);
    let mut text = String::new();
    neighbours(rng, &mut text, false, field_break);
    text.push_str(label);
    if !label.is_empty() && !label.ends_with(['=', ':']) {
        text.push(' ');
    }
    let start = text.len();
    text.push_str(&value);
    let end = text.len();
    neighbours(rng, &mut text, true, field_break);
    Embedded {
        text,
        entity,
        start,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn every_drawn_value_passes_its_own_check() {
        let mut rng = Rng::new(7);
        for _ in 0..2_000 {
            let case = embedded(&mut rng);
            let value = case.value().as_bytes();
            let digits = validate::digits(value);
            let ok = match case.entity {
                Entity::Card => validate::card(value),
                Entity::Ssn => validate::ssn(&digits),
                Entity::Itin => validate::itin(&digits),
                Entity::Iban => validate::iban(value),
                other => panic!("unexpected {other:?}"),
            };
            assert!(ok, "{:?} {:?}", case.entity, case.value());
        }
    }
}
