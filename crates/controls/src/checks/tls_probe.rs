//! `tls.protocols`: the live endpoint is in force as TLS — it completes a TLS 1.3 (and, if
//! allowed, 1.2) handshake, and refuses TLS 1.0, TLS 1.1 and TLS 1.2 offered with only
//! non-AEAD (CBC, static-RSA) suites. The modern handshakes use rustls; the old ones are
//! ClientHellos written here byte by byte, since no maintained TLS library still sends them,
//! and the answer is read: a ServerHello is acceptance, an alert or a closed connection
//! refusal. Certificates are not judged here (`tls.certificate` does that).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::checks::context::{normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// `host:port` of the TLS endpoint (`evident serve`'s listen address)
    endpoint: String,
    /// the lowest version that may be accepted: `1.2` or `1.3`
    min_version: String,
    /// how long each connection may take, in seconds
    timeout_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: "127.0.0.1:8470".into(),
            min_version: "1.2".into(),
            timeout_seconds: 5,
        }
    }
}

/// The check.
pub const PROTOCOLS: CheckDef = CheckDef {
    name: "tls.protocols",
    revision: 1,
    summary:
        "the endpoint completes TLS 1.3 handshakes and refuses TLS 1.0, 1.1 and non-AEAD suites",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

/// A probe's answer.
enum Answer {
    /// the server agreed: the version and suite it chose
    Accepted(String, String),
    /// an alert, a reset or a closed connection
    Refused(String),
}

/// Accepts any certificate: this probe judges protocols, not trust.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// A handshake with rustls offering only `version`.
fn modern(
    addr: SocketAddr,
    host: &str,
    version: &'static rustls::SupportedProtocolVersion,
    timeout: Duration,
) -> Result<Answer, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = connect(addr, timeout).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            return Ok(Answer::Refused(e.to_string()));
        }
    }
    let version = conn
        .protocol_version()
        .map_or("?".to_string(), |v| format!("{v:?}"));
    let suite = conn
        .negotiated_cipher_suite()
        .map_or("?".to_string(), |s| format!("{:?}", s.suite()));
    Ok(Answer::Accepted(version, suite))
}

/// A ClientHello of `version` offering only `suites`, without extensions, as old clients
/// sent it.
fn legacy_hello(version: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(version.to_be_bytes());
    body.extend([0x5a; 32]); // client random
    body.push(0); // no session id
    body.extend(u16::try_from(suites.len() * 2).unwrap_or(0).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // compression: null only
    let mut handshake = vec![1]; // client_hello
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend(u16::try_from(handshake.len()).unwrap_or(0).to_be_bytes());
    record.extend(handshake);
    record
}

/// Sends a legacy ClientHello and reads whether the server answers with a ServerHello.
fn legacy(
    addr: SocketAddr,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> Result<Answer, String> {
    let mut sock = connect(addr, timeout).map_err(|e| e.to_string())?;
    sock.write_all(&legacy_hello(version, suites))
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 11];
    let mut read = 0;
    while read < head.len() {
        match sock.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if read == 0 => return Ok(Answer::Refused(format!("connection closed ({e})"))),
            Err(_) => break,
        }
    }
    Ok(match (read, head[0]) {
        (0, _) => Answer::Refused("connection closed".into()),
        (_, 0x15) => Answer::Refused(format!("alert {}", head.get(6).copied().unwrap_or(0))),
        (11, 0x16) if head[5] == 2 => Answer::Accepted(
            format!("0x{:02x}{:02x}", head[9], head[10]),
            "legacy".into(),
        ),
        _ => Answer::Refused(format!("unexpected answer (record type {})", head[0])),
    })
}

/// Old suites: static-RSA and CBC, none AEAD.
const LEGACY_SUITES: &[u16] = &[
    0x002f, 0x0035, 0x000a, 0xc013, 0xc014, 0xc009, 0xc00a, 0x003c,
];

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let _ = cx;
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let timeout = Duration::from_secs(s.timeout_seconds.clamp(1, 60));
    if !matches!(s.min_version.as_str(), "1.2" | "1.3") {
        return Outcome::error(format!("min_version `{}` is not 1.2 or 1.3", s.min_version));
    }
    let addr = match s.endpoint.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        _ => return Outcome::error(format!("the endpoint `{}` does not resolve", s.endpoint)),
    };
    let host = s
        .endpoint
        .rsplit_once(':')
        .map_or("localhost", |(h, _)| h)
        .trim_matches(['[', ']']);
    let mut observed = serde_json::Map::new();
    let mut wrong = Vec::new();
    let mut modern_ok = Vec::new();
    let probes: [(&str, bool); 2] = [("TLSv1.3", true), ("TLSv1.2", s.min_version == "1.2")];
    for (name, allowed) in probes {
        let version = if name == "TLSv1.3" {
            &rustls::version::TLS13
        } else {
            &rustls::version::TLS12
        };
        match modern(addr, host, version, timeout) {
            Ok(Answer::Accepted(v, suite)) => {
                observed.insert(name.into(), json!({"accepted": true, "version": v, "suite": suite}));
                if allowed {
                    modern_ok.push(name);
                } else {
                    wrong.push(format!("{name} is accepted below the minimum {}", s.min_version));
                }
            }
            Ok(Answer::Refused(why)) => {
                observed.insert(name.into(), json!({"accepted": false, "answer": why}));
            }
            Err(e) => {
                return Outcome::error(format!(
                    "cannot reach {} ({e}): is `evident serve` running there? set this control's `endpoint`",
                    s.endpoint
                ))
            }
        }
    }
    for (name, version, suites) in [
        ("TLSv1.0", 0x0301u16, LEGACY_SUITES),
        ("TLSv1.1", 0x0302, LEGACY_SUITES),
        ("TLSv1.2 without AEAD", 0x0303, LEGACY_SUITES),
    ] {
        match legacy(addr, version, suites, timeout) {
            Ok(Answer::Accepted(v, _)) => {
                observed.insert(name.into(), json!({"accepted": true, "version": v}));
                wrong.push(format!("{name} is accepted"));
            }
            Ok(Answer::Refused(why)) => {
                observed.insert(name.into(), json!({"accepted": false, "answer": why}));
            }
            Err(e) => return Outcome::error(format!("probing {name} at {}: {e}", s.endpoint)),
        }
    }
    let o = if !wrong.is_empty() {
        Outcome::fail(
            format!("{}: {}", s.endpoint, wrong.join("; ")),
            "serve only TLS 1.2+ with AEAD suites: put `evident serve` (which offers nothing older) or a proxy configured so in front of this endpoint",
        )
    } else if modern_ok.is_empty() {
        Outcome::fail(
            format!(
                "{} completed no TLS handshake: it is not serving TLS",
                s.endpoint
            ),
            "serve over TLS: `evident serve --tls-cert … --tls-key …` (or `evident init --tls`)",
        )
    } else {
        Outcome::pass(format!(
            "{} speaks {} and refuses TLS 1.0, 1.1 and non-AEAD suites",
            s.endpoint,
            modern_ok.join(" and ")
        ))
    };
    let mut o = o;
    o.observed = observed;
    o.with("endpoint", s.endpoint)
        .with("min_version", s.min_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hellos_are_well_formed() {
        let hello = legacy_hello(0x0301, &[0x002f, 0x0035]);
        let record_len = u16::from_be_bytes([hello[3], hello[4]]) as usize;
        assert_eq!(hello.len(), 5 + record_len);
        assert_eq!(hello[5], 1);
        let body_len = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
        assert_eq!(record_len, 4 + body_len);
        assert_eq!(&hello[9..11], &[0x03, 0x01]);
        // version, random, session id, suites length and two suites, compression
        assert_eq!(body_len, 2 + 32 + 1 + 2 + 4 + 2);
    }
}
