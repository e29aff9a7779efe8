//! TLS: TLS 1.3 and 1.2 served, older refused by construction, certificates reloaded,
//! broken files refused with the file named, client certificates enforced when configured.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::sync::Arc;

use evident::Engine;
use evident_server::tls::{ReloadingConfig, TlsFiles};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pair {
    cert_pem: String,
    key_pem: String,
}

fn self_signed() -> Pair {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    Pair {
        cert_pem: c.cert.pem(),
        key_pem: c.key_pair.serialize_pem(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn client_config(
    trusted: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
    identity: Option<&Pair>,
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(trusted.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots);
    match identity {
        None => builder.with_no_client_auth(),
        Some(pair) => {
            let certs: Vec<CertificateDer<'static>> =
                rustls::pki_types::pem::PemObject::pem_slice_iter(pair.cert_pem.as_bytes())
                    .map(Result::unwrap)
                    .collect();
            let key = <PrivateKeyDer as rustls::pki_types::pem::PemObject>::from_pem_slice(
                pair.key_pem.as_bytes(),
            )
            .unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
    }
}

/// GET /healthz over TLS; the status line, or the error.
async fn healthz(
    addr: std::net::SocketAddr,
    config: rustls::ClientConfig,
) -> Result<String, String> {
    get(addr, config, "/healthz", "").await
}

/// GET `path` over TLS with extra `headers` (each ending in CRLF); the status line, or the
/// error.
async fn get(
    addr: std::net::SocketAddr,
    config: rustls::ClientConfig,
    path: &str,
    headers: &str,
) -> Result<String, String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    tls.read_to_string(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let (_, negotiated) = tls.get_ref();
    let version = format!("{:?}", negotiated.protocol_version());
    response
        .lines()
        .next()
        .map(|l| format!("{version} {l}"))
        .ok_or_else(|| "empty response".into())
}

struct Served {
    addr: std::net::SocketAddr,
    config: ReloadingConfig,
    engine: Arc<Engine>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(dir: &Path, files: TlsFiles) -> Served {
    let engine = Arc::new(Engine::open(&dir.join("data"), true).unwrap());
    let config = ReloadingConfig::load(files).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(evident_server::serve_tls(
        evident_server::AppState::new(engine.clone()),
        listener,
        config.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Served {
        addr,
        config,
        engine,
        _stop: stop,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_tls_13_and_12_and_reloads_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let first = self_signed();
    let cert = write(dir.path(), "cert.pem", &first.cert_pem);
    let key = write(dir.path(), "key.pem", &first.key_pem);
    let s = serve(
        dir.path(),
        TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
        },
    )
    .await;

    let v13 = healthz(
        s.addr,
        client_config(&first.cert_pem, &[&rustls::version::TLS13], None),
    )
    .await
    .unwrap();
    assert_eq!(v13, "Some(TLSv1_3) HTTP/1.1 200 OK");
    let v12 = healthz(
        s.addr,
        client_config(&first.cert_pem, &[&rustls::version::TLS12], None),
    )
    .await
    .unwrap();
    assert_eq!(v12, "Some(TLSv1_2) HTTP/1.1 200 OK");

    // A broken replacement is refused and the running certificate kept.
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    assert!(!s.config.reload(true));
    healthz(
        s.addr,
        client_config(&first.cert_pem, &[&rustls::version::TLS13], None),
    )
    .await
    .unwrap();

    // A new pair is picked up without a restart.
    let second = self_signed();
    std::fs::write(&cert, &second.cert_pem).unwrap();
    std::fs::write(&key, &second.key_pem).unwrap();
    assert!(s.config.reload(true));
    let old_trust = healthz(
        s.addr,
        client_config(&first.cert_pem, &[&rustls::version::TLS13], None),
    )
    .await;
    assert!(
        old_trust.is_err(),
        "the old certificate is no longer served"
    );
    healthz(
        s.addr,
        client_config(&second.cert_pem, &[&rustls::version::TLS13], None),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_enforced_when_a_client_ca_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let server = self_signed();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["svc-billing".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let client = Pair {
        cert_pem: client_cert.pem(),
        key_pem: client_key.serialize_pem(),
    };
    let stranger = self_signed();

    let files = TlsFiles {
        cert: write(dir.path(), "cert.pem", &server.cert_pem),
        key: write(dir.path(), "key.pem", &server.key_pem),
        client_ca: Some(write(dir.path(), "ca.pem", &ca.pem())),
    };
    let s = serve(dir.path(), files).await;
    let with_cert = healthz(
        s.addr,
        client_config(&server.cert_pem, &[&rustls::version::TLS13], Some(&client)),
    )
    .await;
    assert_eq!(with_cert.unwrap(), "Some(TLSv1_3) HTTP/1.1 200 OK");
    let without = healthz(
        s.addr,
        client_config(&server.cert_pem, &[&rustls::version::TLS13], None),
    )
    .await;
    assert!(without.is_err(), "no client certificate: {without:?}");
    let wrong = healthz(
        s.addr,
        client_config(
            &server.cert_pem,
            &[&rustls::version::TLS12],
            Some(&stranger),
        ),
    )
    .await;
    assert!(
        wrong.is_err(),
        "a certificate from another issuer: {wrong:?}"
    );
}

#[test]
fn unusable_files_are_named_and_keys_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let pair = self_signed();
    let cert = write(dir.path(), "cert.pem", &pair.cert_pem);
    let key = write(dir.path(), "key.pem", &pair.key_pem);
    let missing = TlsFiles {
        cert: cert.clone(),
        key: dir.path().join("nope.pem"),
        client_ca: None,
    };
    let err = evident_server::tls::server_config(&missing)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("nope.pem"), "{err}");
    let swapped = TlsFiles {
        cert: key.clone(),
        key: cert.clone(),
        client_ca: None,
    };
    let err = evident_server::tls::server_config(&swapped)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("key.pem") || err.contains("cert.pem"), "{err}");
    assert!(
        !err.contains(pair.key_pem.lines().nth(1).unwrap()),
        "the key is not in the message"
    );
    let other = self_signed();
    let mismatched = TlsFiles {
        cert,
        key: write(dir.path(), "other.pem", &other.key_pem),
        client_ca: None,
    };
    assert!(
        evident_server::tls::server_config(&mismatched).is_err(),
        "a key that does not match the certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_over_tls_is_recorded_with_the_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let pair = self_signed();
    let files = TlsFiles {
        cert: write(dir.path(), "cert.pem", &pair.cert_pem),
        key: write(dir.path(), "key.pem", &pair.key_pem),
        client_ca: None,
    };
    let s = serve(dir.path(), files).await;
    let config = client_config(&pair.cert_pem, &[&rustls::version::TLS13], None);
    let status = get(
        s.addr,
        config,
        "/v1/checkpoint",
        "Authorization: Bearer evk_0123456789ab_wrong\r\n",
    )
    .await
    .unwrap();
    assert_eq!(status, "Some(TLSv1_3) HTTP/1.1 401 Unauthorized");
    // the refusal is appended in the background; its address is a personal value
    let query = evident::store::EventQuery {
        action: Some("auth.login.failed".into()),
        limit: 10,
        ..Default::default()
    };
    for _ in 0..100 {
        if let Some(record) = s.engine.query(&query).unwrap().events.first() {
            let revealed = s.engine.event(record.index, true).unwrap().revealed;
            let ip = revealed.iter().find(|p| p.path == "/actor/ip").unwrap();
            assert_eq!(ip.value, "\"127.0.0.1\"");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the failed login was not recorded");
}
