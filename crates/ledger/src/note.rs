//! C2SP `signed-note` with Ed25519 keys: signing, verifying, and the key string formats
//! shared with Go's `golang.org/x/mod/sumdb/note` (`name+hex8+base64` verifier keys and
//! `PRIVATE+KEY+name+hex8+base64` signing keys).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, NoteError};

/// The signature type byte of Ed25519 in signed notes.
const ALG_ED25519: u8 = 0x01;
/// The largest note this crate parses; checkpoints are a few hundred bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// The most signature lines a note may carry.
pub const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c.is_control())
    {
        return Err(NoteError::BadName(name.to_string()));
    }
    Ok(())
}

/// The 4-byte key id: the first bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Holds an Ed25519 signing key and its name. The key is wiped from memory on drop.
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, Error> {
        check_name(name)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Parses `PRIVATE+KEY+name+hex8+base64(0x01‖seed)`.
    pub fn from_key_string(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadSigningKey(why.to_string());
        let rest = text
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("missing `PRIVATE+KEY+` prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+hex8+base64"));
        };
        check_name(name)?;
        let raw = Zeroizing::new(B64.decode(key).map_err(|_| bad("key is not base64"))?);
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&raw[1..]);
        let signer = Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        };
        if hex::encode(signer.key_id()) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(signer)
    }

    /// The key in `PRIVATE+KEY+name+hex8+base64` form, for storing at rest.
    pub fn to_key_string(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(Vec::with_capacity(33));
        raw.push(ALG_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(&*raw)
        ))
    }

    /// The key name (for a log, its origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.key.verifying_key().as_bytes())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text (which must end in a newline) and returns the signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.key_id());
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    let bad = |why: &str| NoteError::Malformed(why.to_string());
    if text.len() > MAX_NOTE_BYTES {
        return Err(bad("note is too large"));
    }
    if !text.ends_with('\n') {
        return Err(bad("note text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad("note text holds a control character"));
    }
    Ok(())
}

/// A public key that checks signed notes: parsed from `name+hex8+base64(0x01‖key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// the signer's key name
    pub name: String,
    /// the 4-byte key id
    pub key_id: [u8; 4],
    /// the signature bytes after the key id
    pub signature: Vec<u8>,
}

/// A note split into its text and signatures (signatures not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// the signed text, ending in a newline
    pub text: String,
    /// every signature line, in order
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Splits a signed note at its last blank line and parses the signature lines.
    pub fn parse(msg: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Malformed(why.to_string());
        if msg.len() > MAX_NOTE_BYTES {
            return Err(bad("note is too large"));
        }
        let split = msg
            .rfind("\n\n")
            .ok_or_else(|| bad("no blank line before the signatures"))?;
        let text = &msg[..=split];
        let sigs = &msg[split + 2..];
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(bad("signature block must end with a newline"));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(bad("too many signatures"));
            }
            let body = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| bad("signature line must start with an em dash and a space"))?;
            let (name, b64) = body
                .split_once(' ')
                .ok_or_else(|| bad("signature line must be `— name signature`"))?;
            check_name(name)?;
            let blob = B64
                .decode(b64)
                .map_err(|_| bad("signature is not base64"))?;
            if blob.len() < 5 {
                return Err(bad("signature is too short"));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: [blob[0], blob[1], blob[2], blob[3]],
                signature: blob[4..].to_vec(),
            });
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }
}

impl NoteVerifier {
    /// Parses a verifier key string.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadVerifierKey(why.to_string());
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+hex8+base64"));
        };
        check_name(name)?;
        if id.len() != 8 {
            return Err(bad("key id must be 8 hex digits"));
        }
        let raw = B64.decode(key).map_err(|_| bad("key is not base64"))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not a valid Ed25519 point"))?;
        let verifier = Self {
            name: name.to_string(),
            key,
        };
        if hex::encode(verifier.key_id()) != id.to_ascii_lowercase() {
            return Err(bad("key id does not match the key"));
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.key.as_bytes())
    }

    /// The verifier key string `name+hex8+base64(0x01‖key)`.
    pub fn to_key_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(raw)
        )
    }

    /// Verifies a signed note and returns its text. Signatures by other keys are ignored;
    /// at least one must be by this key, and every one by this key must verify.
    pub fn verify(&self, msg: &str) -> Result<String, NoteError> {
        let note = Note::parse(msg)?;
        let id = self.key_id();
        let mut found = false;
        for sig in note
            .signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == id)
        {
            let signature = ed25519_dalek::Signature::from_slice(&sig.signature)
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            self.key
                .verify(note.text.as_bytes(), &signature)
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            found = true;
        }
        if !found {
            return Err(NoteError::UnknownKey(self.name.clone()));
        }
        Ok(note.text)
    }

    /// Verifies a signed checkpoint and parses its body; the origin must be the key name.
    pub fn verify_checkpoint(&self, msg: &str) -> Result<crate::checkpoint::Checkpoint, NoteError> {
        let text = self.verify(msg)?;
        let checkpoint = crate::checkpoint::Checkpoint::parse(&text)?;
        if checkpoint.origin != self.name {
            return Err(NoteError::BadCheckpoint(format!(
                "origin `{}` is not the key name `{}`",
                checkpoint.origin, self.name
            )));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_round_trip_and_key_strings() {
        let signer = Signer::generate("example.com/log").unwrap();
        let again = Signer::from_key_string(&signer.to_key_string()).unwrap();
        assert_eq!(again.key_id(), signer.key_id());
        let vkey = signer.verifier().to_key_string();
        let verifier = NoteVerifier::parse(&vkey).unwrap();
        let signed = signer.sign("hello\nworld\n").unwrap();
        assert_eq!(verifier.verify(&signed).unwrap(), "hello\nworld\n");
        assert!(format!("{signer:?}").contains("redacted"));
    }

    #[test]
    fn go_note_reference_vector() {
        // From golang.org/x/mod/sumdb/note's documentation (PeterNeumann key).
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let msg = "If you think cryptography is the answer to your problem,\n\
                   then you don't know what your problem is.\n\
                   \n\
                   \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let verifier = NoteVerifier::parse(vkey).unwrap();
        assert!(verifier.verify(msg).unwrap().starts_with("If you think"));
        let signer = Signer::from_key_string(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        )
        .unwrap();
        assert_eq!(signer.verifier().to_key_string(), vkey);
        let text = verifier.verify(msg).unwrap();
        assert_eq!(signer.sign(&text).unwrap(), msg, "Ed25519 is deterministic");
        let tampered = msg.replacen("answer", "answeR", 1);
        assert_eq!(
            verifier.verify(&tampered),
            Err(NoteError::BadSignature("PeterNeumann".into()))
        );
    }

    #[test]
    fn hostile_notes_are_refused() {
        let signer = Signer::generate("log").unwrap();
        let verifier = signer.verifier();
        let signed = signer.sign("text\n").unwrap();
        for bad in [
            "",
            "text\n",
            "text\n\n",
            "text\n\n\u{2014} log\n",
            "text\n\n\u{2014} log !!!\n",
            "text\n\n- log AAAA\n",
            &signed[..signed.len() - 1],
            &signed.replace("text", "t\u{7}xt"),
        ] {
            assert!(verifier.verify(bad).is_err(), "accepted {bad:?}");
        }
        let other = Signer::generate("other").unwrap().sign("text\n").unwrap();
        assert_eq!(
            verifier.verify(&other),
            Err(NoteError::UnknownKey("log".into()))
        );
        assert!(Signer::generate("bad name").is_err());
        assert!(NoteVerifier::parse("log+00000000+AAAA").is_err());
        assert!(Signer::from_key_string("PRIVATE+KEY+log+00+AAAA").is_err());
    }
}
