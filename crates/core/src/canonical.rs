//! RFC 8785 (JCS) canonical JSON, written straight into a byte buffer.
//!
//! `serde_jcs` is correct but re-serialises through its own value tree; every entry of the
//! ledger is encoded here, on the hot path of appends, so this writer sorts keys by UTF-16
//! code units and escapes strings in one pass with no intermediate tree. Non-integer numbers,
//! which need ECMAScript number formatting, are delegated to `serde_jcs`. The property test
//! below checks this writer against `serde_jcs` on arbitrary values.

use serde_json::{Map, Value};

/// The canonical encoding of `value`.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            // Integers up to 2^53 print exactly; anything else is an IEEE double to JCS.
            const EXACT: i64 = 1 << 53;
            if let Some(i) = n.as_i64().filter(|i| (-EXACT..=EXACT).contains(i)) {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                match serde_jcs::to_string(n) {
                    Ok(s) => out.extend_from_slice(s.as_bytes()),
                    Err(_) => out.extend_from_slice(b"null"),
                }
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out),
    }
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    // For ASCII keys byte order is UTF-16 order, and serde_json's default map is already
    // sorted by bytes; the check keeps this right if a dependency turns on `preserve_order`.
    let ascii_sorted =
        entries.iter().all(|(k, _)| k.is_ascii()) && entries.windows(2).all(|w| w[0].0 < w[1].0);
    if !ascii_sorted {
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    }
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(key, out);
        out.push(b':');
        write(value, out);
    }
    out.push(b'}');
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e30f64..1e30).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f\u{e000}\u{1f600}é]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z\u{e000}\u{1f600}é_]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn matches_serde_jcs(value in arb_json()) {
            prop_assert_eq!(to_vec(&value), serde_jcs::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn rfc8785_examples() {
        #[allow(clippy::excessive_precision, reason = "the RFC 8785 example, verbatim")]
        let v = json!({"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                       "string": "\u{20ac}$\u{000F}\u{000a}A'B\"\\\\\"/", "literals": [null, true, false]});
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        let sorted = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh", "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis"});
        let text = String::from_utf8(to_vec(&sorted)).unwrap();
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small",
            "Euro Sign",
            "Emoji",
            "Hebrew",
        ]
        .to_vec();
        let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}
