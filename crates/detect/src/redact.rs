//! Redaction: the same detector, with every finding replaced in the text — by its mask, by a
//! keyed pseudonym (stable, so logs stay joinable) or by a marker.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::detector::Detector;
use crate::finding::{mask, Finding, Fingerprinter};
use crate::stream::Scanner;
use crate::Entity;

/// What a redacted value becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    /// the masked form (`411111******1111`, `***-**-6789`)
    #[default]
    Mask,
    /// `[card:1f3a9c0b7d2e]`: the first 12 hex digits of the keyed fingerprint, so the same
    /// value gets the same pseudonym everywhere the key is the same
    Pseudonym,
    /// `[REDACTED:card]`: nothing of the value is left
    Remove,
}

impl RedactMode {
    /// Parses `mask`, `pseudonym` (or `hmac`) and `remove`.
    pub fn parse(name: &str) -> Option<RedactMode> {
        match name {
            "mask" => Some(RedactMode::Mask),
            "pseudonym" | "hmac" => Some(RedactMode::Pseudonym),
            "remove" => Some(RedactMode::Remove),
            _ => None,
        }
    }
}

/// Rewrites text and JSON with findings replaced.
#[derive(Clone)]
pub struct Redactor {
    detector: Arc<Detector>,
    fingerprints: Fingerprinter,
    mode: RedactMode,
    entities: Option<Vec<Entity>>,
}

impl Redactor {
    /// Redacts every entity the detector finds.
    pub fn new(detector: Arc<Detector>, fingerprints: Fingerprinter, mode: RedactMode) -> Redactor {
        Redactor {
            detector,
            fingerprints,
            mode,
            entities: None,
        }
    }

    /// Only redacts these entities (others are left as they are).
    pub fn only(mut self, entities: &[Entity]) -> Redactor {
        self.entities = Some(entities.to_vec());
        self
    }

    /// The same redactor with another mode.
    pub fn with_mode(mut self, mode: RedactMode) -> Redactor {
        self.mode = mode;
        self
    }

    fn wanted(&self, entity: Entity) -> bool {
        self.entities
            .as_ref()
            .is_none_or(|only| only.contains(&entity))
    }

    fn replacement(&self, finding: &Finding) -> String {
        match self.mode {
            RedactMode::Mask => finding.masked.clone(),
            RedactMode::Pseudonym => format!("[{}:{}]", finding.entity, &finding.fingerprint[..12]),
            RedactMode::Remove => format!("[REDACTED:{}]", finding.entity),
        }
    }

    /// Redacts `input`; answers the new bytes and what was replaced (offsets into `input`).
    pub fn redact_bytes(&self, input: &[u8]) -> (Vec<u8>, Vec<Finding>) {
        let mut findings = Vec::new();
        // Binary-looking input is still redacted: a log line may hold a stray NUL.
        let mut scanner = Scanner::new(&self.detector, &self.fingerprints).skip_binary(false);
        if let Some(only) = &self.entities {
            scanner = scanner.only(only);
        }
        scanner.scan_bytes(input, "-", &mut |f| {
            if self.wanted(f.entity) {
                findings.push(f);
            }
        });
        if findings.is_empty() {
            return (input.to_vec(), findings);
        }
        let mut out = Vec::with_capacity(input.len());
        let mut at = 0usize;
        for f in &findings {
            let (start, end) = (f.start as usize, f.end as usize);
            out.extend_from_slice(&input[at..start]);
            out.extend_from_slice(self.replacement(f).as_bytes());
            at = end;
        }
        out.extend_from_slice(&input[at..]);
        (out, findings)
    }

    /// Redacts a string; invalid UTF-8 cannot arise since replacements are ASCII and cuts fall
    /// on ASCII matches.
    pub fn redact_str(&self, input: &str) -> (String, Vec<Finding>) {
        let (bytes, findings) = self.redact_bytes(input.as_bytes());
        (String::from_utf8_lossy(&bytes).into_owned(), findings)
    }

    /// Redacts every string (and object key) inside a JSON value in place; answers how many
    /// values were replaced.
    pub fn redact_json(&self, value: &mut serde_json::Value) -> usize {
        match value {
            serde_json::Value::String(s) => {
                let (redacted, findings) = self.redact_str(s);
                if !findings.is_empty() {
                    *s = redacted;
                }
                findings.len()
            }
            serde_json::Value::Array(items) => items.iter_mut().map(|v| self.redact_json(v)).sum(),
            serde_json::Value::Object(map) => {
                let mut count = 0;
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    let (key, found) = self.redact_str(&key);
                    count += found.len() + self.redact_json(&mut v);
                    map.insert(key, v);
                }
                count
            }
            _ => 0,
        }
    }

    /// The mask of a value as this redactor would print it (for callers holding one value).
    pub fn mask_value(entity: Entity, value: &[u8]) -> String {
        mask(entity, value)
    }
}

/// A line-at-a-time redactor for log pipelines that also removes multi-line private key
/// blocks, which no single line holds whole.
pub struct LineRedactor {
    redactor: Redactor,
    in_key_block: bool,
}

impl LineRedactor {
    /// Wraps a redactor.
    pub fn new(redactor: Redactor) -> LineRedactor {
        LineRedactor {
            redactor,
            in_key_block: false,
        }
    }

    /// Redacts one line (with or without its newline); answers the bytes to write and how
    /// many values were replaced.
    pub fn line(&mut self, line: &[u8]) -> (Vec<u8>, usize) {
        let (out, entities) = self.line_with_findings(line);
        (out, entities.len())
    }

    /// Like [`LineRedactor::line`], answering the entity of each replaced value.
    pub fn line_with_findings(&mut self, line: &[u8]) -> (Vec<u8>, Vec<Entity>) {
        let newline: &[u8] = if line.ends_with(b"\n") { b"\n" } else { b"" };
        if self.in_key_block {
            if memchr::memmem::find(line, b"-----END").is_some() {
                self.in_key_block = false;
            }
            return (Vec::new(), Vec::new());
        }
        let (mut out, findings) = self.redactor.redact_bytes(line);
        let mut entities: Vec<Entity> = findings.iter().map(|f| f.entity).collect();
        if let Some(begin) = memchr::memmem::find(&out, b"-----BEGIN") {
            let rest = &out[begin..];
            if memchr::memmem::find(rest, b"PRIVATE KEY").is_some()
                && memchr::memmem::find(rest, b"-----END").is_none()
            {
                self.in_key_block = true;
                let marker = match self.redactor.mode {
                    RedactMode::Remove | RedactMode::Mask => "[REDACTED:secret]".to_owned(),
                    RedactMode::Pseudonym => "[secret:private-key]".to_owned(),
                };
                out.truncate(begin);
                out.extend_from_slice(marker.as_bytes());
                out.extend_from_slice(newline);
                entities.push(Entity::Secret);
            }
        }
        (out, entities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(mode: RedactMode) -> Redactor {
        Redactor::new(
            Arc::new(Detector::builtin().unwrap()),
            Fingerprinter::new(&[9; 32]).unwrap(),
            mode,
        )
    }

    #[test]
    fn modes() {
        let line = "paid 4111 1111 1111 1111 ssn 123-45-6789 ok";
        assert_eq!(
            redactor(RedactMode::Mask).redact_str(line).0,
            "paid 411111******1111 ssn ***-**-6789 ok"
        );
        assert_eq!(
            redactor(RedactMode::Remove).redact_str(line).0,
            "paid [REDACTED:card] ssn [REDACTED:ssn] ok"
        );
        let pseudo = redactor(RedactMode::Pseudonym).redact_str(line).0;
        assert!(
            pseudo.starts_with("paid [card:") && !pseudo.contains("4111"),
            "{pseudo}"
        );
        let again = redactor(RedactMode::Pseudonym)
            .redact_str("4111-1111-1111-1111")
            .0;
        assert!(
            pseudo.contains(&again),
            "same value, same pseudonym: {pseudo} / {again}"
        );
    }

    #[test]
    fn json_strings_and_keys() {
        let mut v = serde_json::json!({"note": "card 4111111111111111", "list": ["ssn 123-45-6789", 5], "4111111111111111": true});
        let n = redactor(RedactMode::Remove).redact_json(&mut v);
        assert_eq!(n, 3);
        let text = v.to_string();
        assert!(
            !text.contains("4111111111111111") && !text.contains("123-45-6789"),
            "{text}"
        );
    }

    #[test]
    fn only_some_entities() {
        let r = redactor(RedactMode::Remove).only(&[Entity::Card]);
        assert_eq!(
            r.redact_str("a@example.com 4111111111111111").0,
            "a@example.com [REDACTED:card]"
        );
    }

    #[test]
    fn key_blocks_across_lines() {
        let mut lines = LineRedactor::new(redactor(RedactMode::Remove));
        let input = [
            "log start\n",
            "key -----BEGIN RSA PRIVATE KEY-----\n",
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n",
            "-----END RSA PRIVATE KEY-----\n",
            "after\n",
        ];
        let out: Vec<u8> = input
            .iter()
            .flat_map(|l| lines.line(l.as_bytes()).0)
            .collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "log start\nkey [REDACTED:secret]\nafter\n"
        );
    }
}
