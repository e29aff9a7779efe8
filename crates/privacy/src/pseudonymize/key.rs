//! One domain's pseudonymizer: the domain's name and the keyring key it maps to
//! (`pseudonym.<domain>`), the two keys derived from one version of it (HMAC and FF1), and
//! the keyed-hash pseudonyms themselves (`ps1.v<N>.<base64url>`).

use aes::Aes256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use fpe::ff1::FF1;
use ring::hmac;
use zeroize::Zeroizing;

use super::alphabet::Alphabet;
use super::normalize::Normalization;
use evident_core::{Error, Result};
use evident_crypto::keyring::Keyring;

/// The scheme tag every keyed-hash pseudonym starts with: a later scheme (another length,
/// another hash) gets `ps2`, so the two never mix silently.
pub const SCHEME: &str = "ps1";
/// Bytes of HMAC-SHA-256 a pseudonym keeps: 128 bits, 22 base64url characters. Among 10⁹
/// distinct values the chance that any two share a pseudonym is below n²/2¹²⁹ ≈ 1.5 × 10⁻²¹.
pub const TAG_BYTES: usize = 16;
/// What every pseudonymization key's name starts with.
pub const KEY_PREFIX: &str = "pseudonym.";
/// The longest domain name (a key name holds 64 characters, the prefix 10).
pub const MAX_DOMAIN: usize = 54;

/// The keyring key of `domain`: `pseudonym.<domain>`, after checking the domain's name.
pub fn key_name(domain: &str) -> Result<String> {
    check_domain(domain)?;
    Ok(format!("{KEY_PREFIX}{domain}"))
}

/// A domain is 1–54 characters of `a-z`, `0-9`, `-`, `_` (e.g. `patients`, `crm-customers`).
pub fn check_domain(domain: &str) -> Result<()> {
    let ok = !domain.is_empty()
        && domain.len() <= MAX_DOMAIN
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "domain {:?}: 1–{MAX_DOMAIN} characters of a-z, 0-9, `-`, `_`",
            domain.chars().take(60).collect::<String>()
        )))
    }
}

/// The key version a keyed-hash pseudonym was made under, if `text` is one
/// (`ps1.v3.…` → 3): pseudonyms made before a rotation stay recognisable.
pub fn pseudonym_version(text: &str) -> Option<u32> {
    let rest = text.strip_prefix(SCHEME)?.strip_prefix(".v")?;
    let (version, tag) = rest.split_once('.')?;
    let decoded = B64URL.decode(tag).ok()?;
    (decoded.len() == TAG_BYTES && !version.starts_with('0'))
        .then(|| version.parse().ok())
        .flatten()
}

/// How [`Pseudonymizer::open`] finds its key.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// a version to reproduce older pseudonyms with (default: the active one)
    pub version: Option<u32>,
    /// create the domain's key when it does not exist (logged as a key creation)
    pub create: bool,
}

/// Pseudonyms for one domain under one version of its key. Cheap to share between threads.
pub struct Pseudonymizer {
    domain: String,
    version: u32,
    mac: hmac::Key,
    /// one FF1 instance per alphabet, in [`Alphabet::ALL`] order
    ff1: Vec<FF1<Aes256>>,
    prefix: String,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("domain", &self.domain)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The label the HMAC key of `domain` is derived under.
fn hmac_label(domain: &str) -> String {
    format!("pseudonym.hmac|{domain}")
}

/// The label the FF1 key of `domain` is derived under.
fn ff1_label(domain: &str) -> String {
    format!("pseudonym.ff1|{domain}")
}

impl Pseudonymizer {
    /// The pseudonymizer of `domain` over the keyring's key `pseudonym.<domain>` (its active
    /// version, or `options.version`). A missing key is created only when `options.create`
    /// says so (by `actor`, logged); otherwise the error names how to create it.
    pub fn open(
        keyring: &Keyring<'_>,
        domain: &str,
        options: &OpenOptions,
        actor: &str,
    ) -> Result<Pseudonymizer> {
        let name = key_name(domain)?;
        let derive = |label: &str| keyring.derive_key(&name, options.version, label);
        let (version, mac_key) = match derive(&hmac_label(domain)) {
            Ok(found) => found,
            Err(Error::NotFound(_)) if options.create && options.version.is_none() => {
                match keyring.create(&name, actor) {
                    // another caller made it meanwhile
                    Ok(_) | Err(Error::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
                derive(&hmac_label(domain))?
            }
            Err(Error::NotFound(message)) => {
                return Err(Error::NotFound(format!(
                    "{message}: the domain `{domain}` has no pseudonymization key{} — create it \
                     with `evident pseudonymize --domain {domain} --create-key …` or \
                     `evident keys create {name}` (HTTP: `POST /v1/keys` as an admin)",
                    options
                        .version
                        .map(|v| format!(" version {v}"))
                        .unwrap_or_default()
                )))
            }
            Err(e) => return Err(e),
        };
        // Same version as the HMAC key: a rotation between the two calls must not mix them.
        let (_, ff1_key) = keyring.derive_key(&name, Some(version), &ff1_label(domain))?;
        Pseudonymizer::from_keys(domain, version, &mac_key, &ff1_key)
    }

    /// A pseudonymizer from keys already derived (tests, benchmarks, other key sources):
    /// `mac_key` keys HMAC-SHA-256, `ff1_key` keys FF1 (AES-256).
    pub fn from_keys(
        domain: &str,
        version: u32,
        mac_key: &[u8; 32],
        ff1_key: &[u8; 32],
    ) -> Result<Pseudonymizer> {
        check_domain(domain)?;
        let ff1 = Alphabet::ALL
            .iter()
            .map(|a| {
                FF1::<Aes256>::new(ff1_key, a.radix())
                    .map_err(|_| Error::Crypto(format!("FF1 refused radix {}", a.radix())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Pseudonymizer {
            domain: domain.to_owned(),
            version,
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac_key),
            ff1,
            prefix: format!("{SCHEME}.v{version}."),
        })
    }

    /// The domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The key version in use.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The keyed-hash pseudonym of `value` after `normalization`:
    /// `ps1.v<N>.<22 base64url characters>`.
    pub fn pseudonym(&self, value: &str, normalization: Normalization) -> String {
        let mut out = String::with_capacity(self.prefix.len() + 22);
        self.pseudonym_into(value, normalization, &mut out);
        out
    }

    /// [`Pseudonymizer::pseudonym`], appended to `out` (no allocation when it has room).
    pub fn pseudonym_into(&self, value: &str, normalization: Normalization, out: &mut String) {
        let normalized = normalization.apply(value);
        let tag = hmac::sign(&self.mac, normalized.as_bytes());
        out.push_str(&self.prefix);
        B64URL.encode_string(&tag.as_ref()[..TAG_BYTES], out);
    }

    /// The FF1 token of `value` after `normalization`: the same length, every character
    /// still in `alphabet`. Refuses a value outside the alphabet or too short for FF1 (see
    /// [`Alphabet`]), without echoing it.
    pub fn fpe(
        &self,
        value: &str,
        alphabet: Alphabet,
        normalization: Normalization,
    ) -> Result<String> {
        let normalized = Zeroizing::new(normalization.apply(value).into_owned());
        let ff1 = self
            .ff1
            .get(alphabet.index())
            .ok_or_else(|| Error::Crypto("no FF1 instance for the alphabet".into()))?;
        alphabet.encrypt(ff1, &normalized)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    fn key(first: u8) -> [u8; 32] {
        std::array::from_fn(|i| first.wrapping_add(i as u8))
    }

    fn ps(domain: &str, version: u32, first: u8) -> Pseudonymizer {
        Pseudonymizer::from_keys(domain, version, &key(first), &key(first ^ 0x80)).unwrap()
    }

    /// HMAC-SHA-256 with key 00 01 … 1f, computed independently with Python:
    /// `hmac.new(bytes(range(32)), b"alice@example.com", hashlib.sha256).digest()[:16]` is
    /// a59fc578d4cb46faab1d6eb348e7c74b, base64url `pZ_FeNTLRvqrHW6zSOfHSw`.
    #[test]
    fn matches_an_independent_hmac_vector() {
        let p = ps("patients", 3, 0);
        assert_eq!(
            p.pseudonym("alice@example.com", Normalization::NONE),
            "ps1.v3.pZ_FeNTLRvqrHW6zSOfHSw"
        );
        // the empty message: d38b42096d80f45f826b44a9d5607de7
        assert_eq!(
            p.pseudonym("", Normalization::NONE),
            "ps1.v3.04tCCW2A9F-Ca0Sp1WB95w"
        );
    }

    #[test]
    fn deterministic_and_separated_by_key_and_version() {
        let a = ps("patients", 1, 0);
        let again = ps("patients", 1, 0);
        let other_key = ps("customers", 1, 7);
        let v2 = ps("patients", 2, 9);
        let x = a.pseudonym("4711", Normalization::NONE);
        assert_eq!(x, again.pseudonym("4711", Normalization::NONE));
        assert_ne!(x, a.pseudonym("4712", Normalization::NONE));
        let tag = |s: &str| s.rsplit('.').next().unwrap().to_owned();
        assert_ne!(
            tag(&x),
            tag(&other_key.pseudonym("4711", Normalization::NONE))
        );
        let rotated = v2.pseudonym("4711", Normalization::NONE);
        assert!(rotated.starts_with("ps1.v2."), "{rotated}");
        assert_eq!(pseudonym_version(&x), Some(1));
        assert_eq!(pseudonym_version(&rotated), Some(2));
    }

    #[test]
    fn normalization_is_explicit() {
        let p = ps("customers", 1, 0);
        let plain = p.pseudonym("alice@example.com", Normalization::NONE);
        assert_ne!(
            plain,
            p.pseudonym(" Alice@Example.com ", Normalization::NONE)
        );
        assert_eq!(
            plain,
            p.pseudonym(" Alice@Example.com ", Normalization::EMAIL)
        );
    }

    #[test]
    fn version_parsing_refuses_what_is_not_a_pseudonym() {
        for bad in [
            "",
            "ps1.v.pZ_FeNTLRvqrHW6zSOfHSw",
            "ps1.v03.pZ_FeNTLRvqrHW6zSOfHSw",
            "ps2.v3.pZ_FeNTLRvqrHW6zSOfHSw",
            "ps1.v3.short",
            "ps1.v3.pZ_FeNTLRvqrHW6zSOfHSw.x",
            "ps1.vx.pZ_FeNTLRvqrHW6zSOfHSw",
        ] {
            assert_eq!(pseudonym_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn domains_are_checked() {
        assert_eq!(key_name("patients").unwrap(), "pseudonym.patients");
        for bad in ["", "Patients", "a.b", "a b", &"x".repeat(55), "ü"] {
            assert!(key_name(bad).is_err(), "{bad:?}");
        }
        assert!(key_name(&"x".repeat(54)).is_ok());
    }
}
