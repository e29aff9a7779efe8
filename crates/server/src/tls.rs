//! TLS for `evident serve`, by rustls: TLS 1.3 and 1.2 only, forward-secret AEAD suites only
//! (rustls offers nothing else), certificates from PEM files, reloaded when the files change
//! or on SIGHUP, and optional client-certificate authentication for services.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::connections::{accept, Accept, Admission, Gate};

/// How long a client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the certificate files are checked for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(5);

/// Where the server's certificate, key and (optionally) client CA live.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1)
    pub key: PathBuf,
    /// PEM CA certificates; when set, every client must present a certificate they issued
    pub client_ca: Option<PathBuf>,
}

/// Why TLS could not be set up; names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{path}: {message}")]
    File {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
    /// rustls refused the configuration (key does not match the certificate, …).
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Builds the rustls configuration from the files.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error(&files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(&files.cert, e))?;
    if certs.is_empty() {
        return Err(file_error(&files.cert, "no CERTIFICATE block"));
    }
    // The key's contents never reach an error message: only the file name and the kind of
    // failure.
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        file_error(
            &files.key,
            format!("no usable private key ({})", pem_error_kind(&e)),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).map_err(|e| file_error(ca, e))? {
                roots
                    .add(cert.map_err(|e| file_error(ca, e))?)
                    .map_err(|e| file_error(ca, e))?;
            }
            if roots.is_empty() {
                return Err(file_error(ca, "no CERTIFICATE block"));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn pem_error_kind(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no PRIVATE KEY block",
        Error::Io(_) => "unreadable",
        _ => "malformed PEM",
    }
}

/// The current configuration, swapped when the files change.
#[derive(Clone)]
pub struct ReloadingConfig {
    files: TlsFiles,
    current: Arc<RwLock<Arc<ServerConfig>>>,
    stamp: Arc<RwLock<Vec<Option<SystemTime>>>>,
}

impl ReloadingConfig {
    /// Loads the files once; fails if they are unusable.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let config = server_config(&files)?;
        let stamp = stamps(&files);
        Ok(ReloadingConfig {
            files,
            current: Arc::new(RwLock::new(Arc::new(config))),
            stamp: Arc::new(RwLock::new(stamp)),
        })
    }

    fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        TlsAcceptor::from(config)
    }

    /// Reloads if the files changed since the last load (or when `force`); a broken new
    /// set of files is logged and the running configuration kept.
    pub fn reload(&self, force: bool) -> bool {
        let now = stamps(&self.files);
        let changed = self.stamp.read().map(|s| *s != now).unwrap_or(true);
        if !changed && !force {
            return false;
        }
        match server_config(&self.files) {
            Ok(config) => {
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(config);
                }
                if let Ok(mut stamp) = self.stamp.write() {
                    *stamp = now;
                }
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "TLS files changed but cannot be used; keeping the previous certificate");
                if let Ok(mut stamp) = self.stamp.write() {
                    *stamp = now;
                }
                false
            }
        }
    }
}

fn stamps(files: &TlsFiles) -> Vec<Option<SystemTime>> {
    [
        Some(&files.cert),
        Some(&files.key),
        files.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    .collect()
}

/// A listener that completes TLS handshakes off the accept path, each connection admitted
/// by the server's connection gate before its handshake.
pub(crate) struct TlsListener {
    accepted: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr, Admission)>,
}

impl TlsListener {
    /// Accepts on `tcp`, handshaking with the current configuration, and watches the files.
    pub(crate) fn new(
        tcp: TcpListener,
        config: ReloadingConfig,
        gate: Arc<Gate>,
    ) -> std::io::Result<Self> {
        let (tx, accepted) = tokio::sync::mpsc::channel(256);
        let watcher = config.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hangup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(RELOAD_CHECK);
            loop {
                #[cfg(unix)]
                let forced = match hangup.as_mut() {
                    Some(h) => tokio::select! {
                        _ = tick.tick() => false,
                        _ = h.recv() => true,
                    },
                    None => {
                        tick.tick().await;
                        false
                    }
                };
                #[cfg(not(unix))]
                let forced = {
                    tick.tick().await;
                    false
                };
                watcher.reload(forced);
            }
        });
        tokio::spawn(async move {
            loop {
                let (stream, peer) = accept(&tcp).await;
                let admission = gate.admit().await;
                let acceptor = config.acceptor();
                let sender = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer, admission)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake refused"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(TlsListener { accepted })
    }
}

impl Accept for TlsListener {
    type Io = TlsStream<TcpStream>;

    async fn next(&mut self) -> Option<(Self::Io, SocketAddr, Admission)> {
        self.accepted.recv().await
    }
}
