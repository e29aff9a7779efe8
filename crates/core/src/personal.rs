//! Personal data beside the tree: salted commitments in the leaf, values in a separate
//! table that erasure can empty without touching any proof.
//!
//! The leaf holds `sha256:hex(SHA-256("evident/personal/v1" 0x00 path 0x00 salt value))`
//! where `value` is the RFC 8785 encoding of the field. The 32-byte random salt makes the
//! commitment unguessable even for low-entropy values such as IP addresses; erasing the salt
//! and value leaves the commitment as an opaque, unlinkable hash.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A personal value removed from an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalField {
    /// the RFC 6901 JSON pointer it was removed from
    pub path: String,
    /// the person it is about (for erasure)
    pub subject: String,
    /// the random salt
    pub salt: [u8; 32],
    /// the RFC 8785 encoding of the value
    pub value: String,
}

impl PersonalField {
    /// The commitment written into the leaf.
    pub fn commitment(&self) -> [u8; 32] {
        commit(&self.path, &self.salt, self.value.as_bytes())
    }

    /// `sha256:<hex>`.
    pub fn commitment_string(&self) -> String {
        format!("sha256:{}", hex::encode(self.commitment()))
    }
}

fn commit(path: &str, salt: &[u8], value: &[u8]) -> [u8; 32] {
    let mut body = Vec::with_capacity(path.len() + salt.len() + value.len() + 1);
    commitment_body(&mut body, path, salt, value);
    let mut h = Sha256::new();
    h.update(COMMITMENT_PREFIX);
    h.update(&body);
    h.finalize().into()
}

/// What every commitment's hash starts with: the domain, then a zero byte.
const COMMITMENT_PREFIX: &[u8] = b"evident/personal/v1\0";

/// Appends what a commitment hashes after [`COMMITMENT_PREFIX`] to `out`: the one definition
/// of its layout.
fn commitment_body(out: &mut Vec<u8>, path: &str, salt: &[u8], value: &[u8]) {
    out.extend_from_slice(path.as_bytes());
    out.push(0);
    out.extend_from_slice(salt);
    out.extend_from_slice(value);
}

/// Values checked against their commitments many at a time (multi-buffer SHA-256), as a
/// full-log verification does: [`CommitmentBatch::push`] queues, and the mismatches are found
/// when the batch is hashed, by a full `push` or by [`CommitmentBatch::flush`].
#[derive(Debug, Default)]
pub struct CommitmentBatch {
    /// the queued messages after the common prefix, end to end
    messages: Vec<u8>,
    queued: Vec<QueuedCommitment>,
    digests: Vec<[u8; 32]>,
}

#[derive(Debug)]
struct QueuedCommitment {
    index: u64,
    /// where the path is in `messages`
    path: std::ops::Range<usize>,
    /// where the message is in `messages`
    message: std::ops::Range<usize>,
    /// the commitment's hex digits, as the entry holds them
    expected: [u8; 64],
}

impl CommitmentBatch {
    const SIZE: usize = 128;

    /// Queues the check of the value of entry `index` at `path` (canonical, as stored) against
    /// `commitment` (`sha256:` and 64 hex digits, as the entry holds it). A malformed
    /// commitment is an error at once; a mismatch is an error when the batch is hashed,
    /// perhaps in this call (naming the first mismatched value queued).
    pub fn push(
        &mut self,
        index: u64,
        path: &str,
        salt: &[u8],
        canonical: &[u8],
        commitment: &str,
    ) -> Result<()> {
        let expected: [u8; 64] = commitment
            .strip_prefix("sha256:")
            .and_then(|hex| hex.as_bytes().try_into().ok())
            .ok_or_else(|| {
                Error::BadRequest("a commitment is `sha256:` and 64 hex digits".into())
            })?;
        let start = self.messages.len();
        commitment_body(&mut self.messages, path, salt, canonical);
        self.queued.push(QueuedCommitment {
            index,
            path: start..start + path.len(),
            message: start..self.messages.len(),
            expected,
        });
        if self.queued.len() == Self::SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Hashes what is queued; names the first value that does not match its commitment.
    pub fn flush(&mut self) -> Result<()> {
        let messages: Vec<&[u8]> = self
            .queued
            .iter()
            .map(|q| &self.messages[q.message.clone()])
            .collect();
        self.digests.clear();
        self.digests.resize(messages.len(), [0; 32]);
        tape_sha256::hash_many_prefixed(COMMITMENT_PREFIX, &messages, &mut self.digests);
        let mismatch = self.queued.iter().zip(&self.digests).find(|(q, digest)| {
            // Encoding ours is cheaper than decoding theirs, and commitments are lowercase.
            let mut ours = [0u8; 64];
            hex::encode_to_slice(digest, &mut ours).is_err() || ours != q.expected
        });
        let result = match mismatch {
            Some((q, _)) => Err(Error::Integrity(format!(
                "personal value `{}` of entry {}: it does not match the commitment in the entry",
                String::from_utf8_lossy(&self.messages[q.path.clone()]),
                q.index
            ))),
            None => Ok(()),
        };
        self.messages.clear();
        self.queued.clear();
        result
    }
}

/// Checks a revealed value against a commitment string from an entry. `value` is JSON; it is
/// canonicalised before hashing, so any spelling of the same JSON value matches.
pub fn verify_reveal(commitment: &str, path: &str, salt: &[u8], value: &Value) -> Result<bool> {
    verify_canonical(commitment, path, salt, &crate::canonical::to_vec(value))
}

/// [`verify_reveal`] for a value already in canonical form (as stored beside the tree).
pub fn verify_canonical(
    commitment: &str,
    path: &str,
    salt: &[u8],
    canonical: &[u8],
) -> Result<bool> {
    let hex_part = commitment
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64)
        .ok_or_else(|| Error::BadRequest("a commitment is `sha256:` and 64 hex digits".into()))?;
    // Encoding ours is cheaper than decoding theirs, and commitments are written lowercase.
    let mut ours = [0u8; 64];
    hex::encode_to_slice(commit(path, salt, canonical), &mut ours)
        .map_err(|_| Error::BadRequest("hex encoding failed".into()))?;
    Ok(ours.as_slice() == hex_part.as_bytes())
}

/// Removes the field at `path` from `event` and returns it with a fresh salt.
pub fn extract(event: &mut Value, path: &str, subject: &str) -> Result<PersonalField> {
    let fail = |why: &str| Error::InvalidEvent(format!("personal field `{path}`: {why}"));
    if !path.starts_with('/') || path.len() > 256 {
        return Err(fail("must be a JSON pointer such as `/actor/ip`"));
    }
    if matches!(
        path,
        "/v" | "/time" | "/received_at" | "/action" | "/outcome" | "/personal"
    ) || path.starts_with("/resource/type")
    {
        return Err(fail("this field cannot be personal"));
    }
    let (parent_path, key) = path.rsplit_once('/').ok_or_else(|| fail("not a pointer"))?;
    let key = key.replace("~1", "/").replace("~0", "~");
    let parent = if parent_path.is_empty() {
        Some(&mut *event)
    } else {
        event.pointer_mut(parent_path)
    };
    let removed = match parent {
        Some(Value::Object(map)) => map.remove(&key),
        _ => None,
    };
    let removed = removed.ok_or_else(|| fail("no such field in the event"))?;
    let value = String::from_utf8(crate::canonical::to_vec(&removed))
        .map_err(|e| Error::InvalidEvent(e.to_string()))?;
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| Error::InvalidEvent(format!("random source: {e}")))?;
    Ok(PersonalField {
        path: path.to_string(),
        subject: subject.to_string(),
        salt,
        value,
    })
}

/// A stored personal value sealed with the directory's personal-data key begins with this
/// (a plain value is canonical JSON, which never does).
pub const SEALED_VALUE_PREFIX: &str = "evident-sealed:v1:";

/// Whether a stored personal value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_VALUE_PREFIX)
}

/// The directory's personal-data key, which seals the personal values stored beside the tree
/// once the directory's keys are sealed (`evident keys seal`). It is wrapped by the root key
/// (meta `personal.key`); each value is AES-256-GCM-sealed, bound to its path and salt.
pub struct PersonalSeal {
    key: zeroize::Zeroizing<[u8; 32]>,
}

impl PersonalSeal {
    /// A seal over a 32-byte key.
    pub fn new(key: &[u8]) -> Result<PersonalSeal> {
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| Error::Crypto("the personal-data key is damaged".into()))?;
        Ok(PersonalSeal {
            key: zeroize::Zeroizing::new(key),
        })
    }

    fn aad(path: &str, salt: &[u8]) -> Vec<u8> {
        let mut aad = b"evident personal v1\0".to_vec();
        aad.extend_from_slice(path.as_bytes());
        aad.push(0);
        aad.extend_from_slice(salt);
        aad
    }

    /// Seals a canonical value for storage.
    pub fn seal(&self, path: &str, salt: &[u8], value: &str) -> Result<String> {
        use base64::Engine as _;
        let sealed =
            crate::aead::seal(self.key.as_ref(), &Self::aad(path, salt), value.as_bytes())?;
        Ok(format!(
            "{SEALED_VALUE_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// The canonical value of a stored one (sealed or not).
    pub fn open(
        &self,
        path: &str,
        salt: &[u8],
        stored: &str,
    ) -> Result<zeroize::Zeroizing<String>> {
        use base64::Engine as _;
        let Some(body) = stored.strip_prefix(SEALED_VALUE_PREFIX) else {
            return Ok(zeroize::Zeroizing::new(stored.to_string()));
        };
        let bad = || Error::Integrity(format!("the sealed personal value `{path}` does not open"));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad())?;
        let plain = crate::aead::open(self.key.as_ref(), &Self::aad(path, salt), &bytes)
            .map_err(|_| bad())?;
        Ok(zeroize::Zeroizing::new(
            String::from_utf8(plain.to_vec()).map_err(|_| bad())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch finds what one check at a time finds, and names the first mismatch.
    #[test]
    fn a_commitment_batch_agrees_with_one_check_at_a_time() {
        let values: Vec<(String, [u8; 32], String)> = (0..300)
            .map(|i| {
                (
                    format!("/actor/ip{i}"),
                    [i as u8; 32],
                    format!("\"10.0.0.{i}\""),
                )
            })
            .collect();
        let commitment = |(path, salt, value): &(String, [u8; 32], String)| {
            format!(
                "sha256:{}",
                hex::encode(commit(path, salt, value.as_bytes()))
            )
        };
        let mut batch = CommitmentBatch::default();
        for (i, v) in values.iter().enumerate() {
            batch
                .push(i as u64, &v.0, &v.1, v.2.as_bytes(), &commitment(v))
                .unwrap();
        }
        batch.flush().unwrap();
        for bad in [0, 127, 128, 250] {
            let mut batch = CommitmentBatch::default();
            let mut first_error = None;
            for (i, v) in values.iter().enumerate() {
                let value = if i == bad || i == 299 {
                    "\"changed\""
                } else {
                    v.2.as_str()
                };
                if let Err(e) = batch.push(i as u64, &v.0, &v.1, value.as_bytes(), &commitment(v)) {
                    first_error.get_or_insert(e.to_string());
                }
            }
            if let Err(e) = batch.flush() {
                first_error.get_or_insert(e.to_string());
            }
            let error = first_error.expect("a changed value is found");
            assert!(
                error.contains(&format!("`/actor/ip{bad}` of entry {bad}:")),
                "{error}"
            );
            assert!(!verify_canonical(
                &commitment(&values[bad]),
                &values[bad].0,
                &values[bad].1,
                b"\"changed\""
            )
            .unwrap());
        }
        assert!(CommitmentBatch::default()
            .push(0, "/a", &[0; 32], b"1", "sha256:00")
            .is_err());
    }
    use serde_json::json;

    #[test]
    fn reveal_matches_only_the_committed_value() {
        let mut event =
            json!({"actor": {"id": "u", "ip": "10.0.0.1"}, "m": {"a/b": {"y": 1, "x": 2}}});
        let ip = extract(&mut event, "/actor/ip", "u").unwrap();
        let nested = extract(&mut event, "/m/a~1b", "u").unwrap();
        assert_eq!(event, json!({"actor": {"id": "u"}, "m": {}}));
        let c = ip.commitment_string();
        assert!(verify_reveal(&c, "/actor/ip", &ip.salt, &json!("10.0.0.1")).unwrap());
        assert!(!verify_reveal(&c, "/actor/ip", &ip.salt, &json!("10.0.0.2")).unwrap());
        assert!(!verify_reveal(&c, "/actor/id", &ip.salt, &json!("10.0.0.1")).unwrap());
        assert!(!verify_reveal(&c, "/actor/ip", &[0; 32], &json!("10.0.0.1")).unwrap());
        // Key order does not matter: values are canonicalised.
        let c = nested.commitment_string();
        assert!(verify_reveal(&c, "/m/a~1b", &nested.salt, &json!({"x": 2, "y": 1})).unwrap());
        assert!(verify_reveal("md5:00", "/x", &[], &json!(1)).is_err());
    }

    #[test]
    fn bad_pointers_are_refused() {
        let mut event = json!({"action": "a", "actor": {"id": "u"}});
        for bad in [
            "",
            "actor",
            "/action",
            "/actor/missing",
            "/nothing/here",
            "/personal",
        ] {
            assert!(extract(&mut event, bad, "u").is_err(), "{bad}");
        }
    }
}
