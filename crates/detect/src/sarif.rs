//! SARIF 2.1.0 output, the format code-scanning dashboards ingest.

use serde_json::{json, Value};

use crate::detector::Detector;
use crate::finding::Finding;

/// The SARIF schema URI written into every log.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// A SARIF log with one run: every rule of `detector` and every finding.
///
/// Regions carry lines and byte offsets; each result has a partial fingerprint (the keyed
/// HMAC) so dashboards can track a finding across commits without seeing the value.
pub fn log(detector: &Detector, findings: &[Finding], tool_version: &str) -> Value {
    let rules: Vec<Value> = detector
        .rules()
        .iter()
        .map(|r| {
            json!({
                "id": r.spec.id,
                "name": r.spec.id,
                "shortDescription": { "text": if r.spec.description.is_empty() { &r.spec.id } else { &r.spec.description } },
                "defaultConfiguration": { "level": "error" },
                "properties": { "tags": ["security", r.spec.entity.as_str()] }
            })
        })
        .collect();
    let rule_index = |id: &str| detector.rules().iter().position(|r| r.spec.id == id);
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": "error",
                "message": { "text": format!("{} found: {}", f.entity, f.masked) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.path) },
                        "region": {
                            "startLine": f.line,
                            "byteOffset": f.start,
                            "byteLength": f.end - f.start
                        }
                    }
                }],
                "partialFingerprints": { "evident/hmac/v1": f.fingerprint },
                "properties": { "entity": f.entity.as_str(), "score": f.score }
            });
            if let Some(index) = rule_index(&f.rule) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "evident",
                    "semanticVersion": tool_version,
                    "informationUri": "https://example.invalid/evident",
                    "rules": rules
                }
            },
            "results": results
        }]
    })
}

/// A relative URI reference for a path: forward slashes, percent-encoding what a URI cannot
/// hold.
fn uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b'\\' {
            out.push('/');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("./src/my file.rs"), "src/my%20file.rs");
        assert_eq!(uri("a\\b#c"), "a/b%23c");
    }
}
