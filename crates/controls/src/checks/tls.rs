//! `tls.certificate`: the certificate `evident serve` presents (by default the pair in the
//! data directory's `tls/`, which `evident init --tls` writes and `serve` picks up) is
//! readable, valid now, valid beyond the expiry horizon, signed with a strong algorithm and
//! holds a strong key. The protocol floor (TLS 1.2, forward-secret AEAD suites only) is
//! fixed in the server's code (rustls offers nothing weaker); this check reads what an
//! operator can get wrong: the certificate.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Decode;
use x509_cert::Certificate;

use crate::checks::context::{days, in_days, normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the PEM certificate chain, leaf first; relative paths are inside the data directory
    cert: String,
    /// the certificate must stay valid at least this many days from now
    expiry_horizon_days: u64,
    /// the smallest RSA modulus accepted, in bits
    min_rsa_bits: u64,
    /// whether a self-signed certificate is accepted (a development pair)
    allow_self_signed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cert: "tls/cert.pem".into(),
            expiry_horizon_days: 30,
            min_rsa_bits: 2048,
            allow_self_signed: true,
        }
    }
}

/// The check.
pub const CERTIFICATE: CheckDef = CheckDef {
    name: "tls.certificate",
    revision: 1,
    summary: "the server's TLS certificate is valid now and for expiry_horizon_days, with a strong key and signature",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
/// md5WithRSA, sha1WithRSA, ecdsa-with-SHA1, dsa-with-sha1.
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10040.4.3", "dsa-with-sha1"),
];

/// The key's algorithm and strength: (name, strong enough).
fn key_strength(cert: &Certificate, min_rsa_bits: u64) -> (String, bool) {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let oid = spki.algorithm.oid;
    if oid == RSA {
        let bits = rsa_modulus_bits(spki.subject_public_key.raw_bytes()).unwrap_or(0);
        (format!("RSA {bits} bits"), bits >= min_rsa_bits)
    } else if oid == EC {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match curve {
            Some(c) if c == P256 => ("ECDSA P-256".into(), true),
            Some(c) if c == P384 => ("ECDSA P-384".into(), true),
            Some(c) if c == P521 => ("ECDSA P-521".into(), true),
            Some(c) => (format!("EC curve {c}"), false),
            None => ("EC without a named curve".into(), false),
        }
    } else if oid == ED25519 {
        ("Ed25519".into(), true)
    } else {
        (format!("key algorithm {oid}"), false)
    }
}

/// The bit length of the modulus of a DER RSAPublicKey (`SEQUENCE { INTEGER n, INTEGER e }`).
fn rsa_modulus_bits(der: &[u8]) -> Option<u64> {
    fn header(bytes: &[u8], tag: u8) -> Option<(usize, usize)> {
        if *bytes.first()? != tag {
            return None;
        }
        let first = *bytes.get(1)? as usize;
        if first < 0x80 {
            return Some((2, first));
        }
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in bytes.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        Some((2 + n, len))
    }
    let (seq_head, _) = header(der, 0x30)?;
    let rest = der.get(seq_head..)?;
    let (int_head, len) = header(rest, 0x02)?;
    let modulus = rest.get(int_head..int_head + len)?;
    let significant: &[u8] = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => return Some(0),
    };
    let lead = significant[0];
    Some((significant.len() as u64 - 1) * 8 + u64::from(8 - lead.leading_zeros()))
}

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let path = {
        let p = PathBuf::from(&s.cert);
        if p.is_absolute() {
            p
        } else {
            cx.recorder.dir().join(p)
        }
    };
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Outcome::fail(
                format!("there is no certificate at {shown}: the server is not set up for TLS from it"),
                "give `evident serve` a certificate (`--tls-cert`/`--tls-key`, or `evident init --tls` for a development pair) and point this control's `cert` setting at it",
            )
            .with("cert", shown)
        }
        Err(e) => return Outcome::error(format!("cannot read {shown}: {e}")).with("cert", shown),
    };
    let chain: Vec<CertificateDer<'static>> = match CertificateDer::pem_slice_iter(&bytes).collect()
    {
        Ok(c) => c,
        Err(e) => {
            return Outcome::fail(
                format!("{shown} is not a PEM certificate chain: {e}"),
                "replace it with the PEM chain the CA issued, leaf first",
            )
        }
    };
    let Some(leaf) = chain.first() else {
        return Outcome::fail(
            format!("{shown} holds no CERTIFICATE block"),
            "replace it with the PEM chain the CA issued, leaf first",
        );
    };
    let cert = match Certificate::from_der(leaf.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            return Outcome::fail(
                format!("the first certificate in {shown} does not parse as X.509: {e}"),
                "replace it with the PEM chain the CA issued, leaf first",
            )
        }
    };
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before.to_unix_duration().as_micros() as i64;
    let not_after = tbs.validity.not_after.to_unix_duration().as_micros() as i64;
    let subject = tbs.subject.to_string();
    let issuer = tbs.issuer.to_string();
    let self_signed = subject == issuer;
    let (key, strong_key) = key_strength(&cert, s.min_rsa_bits);
    let signature = cert.signature_algorithm.oid.to_string();
    let weak_signature = WEAK_SIGNATURES
        .iter()
        .find(|(oid, _)| *oid == signature)
        .map(|(_, name)| *name);
    let remaining = not_after - cx.now_us;
    let mut problems = Vec::new();
    if cx.now_us < not_before {
        problems.push("it is not valid yet".to_string());
    }
    if remaining <= 0 {
        problems.push("it has expired".to_string());
    } else if remaining < days(s.expiry_horizon_days) {
        problems.push(format!(
            "it expires in {} days, within the {}-day horizon",
            in_days(remaining),
            s.expiry_horizon_days
        ));
    }
    if !strong_key {
        problems.push(format!("its key ({key}) is too weak"));
    }
    if let Some(name) = weak_signature {
        problems.push(format!("it is signed with {name}"));
    }
    if self_signed && !s.allow_self_signed {
        problems.push("it is self-signed".to_string());
    }
    let o = if problems.is_empty() {
        Outcome::pass(format!(
            "the certificate for {subject} is valid for {} more days, {key}",
            in_days(remaining)
        ))
    } else {
        Outcome::fail(
            format!("the certificate at {shown}: {}", problems.join("; ")),
            "have the CA issue a new certificate (RSA ≥ 2048 bits or ECDSA P-256+, SHA-256 signature) and replace the files; `evident serve` reloads them without a restart",
        )
    };
    o.with("cert", shown)
        .with("subject", subject)
        .with("issuer", issuer)
        .with("self_signed", self_signed)
        .with("not_before", evident_core::event::format_time(not_before))
        .with("not_after", evident_core::event::format_time(not_after))
        .with("days_left", in_days(remaining))
        .with("expiry_horizon_days", s.expiry_horizon_days)
        .with("key", key)
        .with("signature_algorithm", signature)
        .with("chain_length", chain.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_modulus_lengths_are_read_from_der() {
        // SEQUENCE { INTEGER 0x00 0x80 … (256 bytes: 2048 bits), INTEGER 65537 }
        let mut modulus = vec![0x00, 0x80];
        modulus.extend(std::iter::repeat_n(0x11, 255));
        let mut der = vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01];
        der.extend(&modulus);
        der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(rsa_modulus_bits(&der), Some(2048));
        assert_eq!(rsa_modulus_bits(&[0x30, 0x03, 0x02, 0x01, 0x05]), Some(3));
        assert_eq!(rsa_modulus_bits(&[0x31]), None);
    }
}
