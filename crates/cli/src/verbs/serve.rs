//! `evident serve`: the HTTP API over the data directory, with TLS (and optionally mutual TLS)
//! or plain HTTP on loopback, API keys and OIDC bearer tokens, and the login lockout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use evident_server::lockout::{format_duration, LockoutPolicy};
use evident_server::tls::TlsFiles;
use evident_server::Limits;

use crate::data_dir::{open_or_create, DataDir};
use crate::tls;

/// Run the HTTP API (creates the data directory on first start).
///
/// Binds to 127.0.0.1:8470 by default. Endpoints are listed at /openapi.json and in
/// docs/api.md; everything but /healthz, /openapi.json, AuthZEN discovery
/// (/.well-known/authzen-configuration) and the public log under /log/ needs
/// `Authorization: Bearer <API key>` (see `evident apikey create`).
/// Repeated failed logins are slowed, then locked out (--lockout-*; PCI DSS 8.3.4).
/// Every minute (--controls-interval) the control checks that are due on their cadence run
/// and are recorded in the ledger; --no-controls-schedule turns that off.
/// With --retention-interval, the active data map's rows past their retention period are
/// purged on that schedule (off by default; see `evident retention --help`).
///
/// Examples:
///   evident serve --data-dir /var/lib/evident
///   evident serve --listen 0.0.0.0:8470 --tls-cert cert.pem --tls-key key.pem
///   evident serve --controls-interval 5m
///   evident serve --retention-interval 1d
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// Address to listen on.
    #[arg(
        long,
        env = "EVIDENT_LISTEN",
        default_value = "127.0.0.1:8470",
        value_name = "HOST:PORT"
    )]
    pub listen: SocketAddr,
    /// Allow listening on a non-loopback address without TLS. API keys and events then
    /// cross the network in clear text: only for a trusted network or a TLS proxy.
    #[arg(long, env = "EVIDENT_DANGER_PLAINTEXT_NETWORK")]
    pub danger_plaintext_network: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub oidc: OidcArgs,
    #[command(flatten)]
    pub lockout: LockoutArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub controls: ControlsScheduleArgs,
    /// Purge the active data map's rows past their retention period every DURATION (`12h`,
    /// `1d`, or seconds; 1 minute to 31 days), as `evident retention run` does, each purge
    /// logged as `evident.privacy.retention.*`. Off by default.
    #[arg(
        long,
        env = "EVIDENT_RETENTION_INTERVAL",
        value_parser = parse_retention_interval,
        value_name = "DURATION"
    )]
    pub retention_interval: Option<Duration>,
}

/// The control-check scheduler: how often `serve` wakes to run the checks that are due (each
/// control has its own cadence; only controls whose last check is older run).
#[derive(Debug, Clone, Args)]
pub struct ControlsScheduleArgs {
    /// How often to look for due control checks: `30s`, `5m`, `1h` or seconds (1 s to 1 day).
    #[arg(
        long,
        env = "EVIDENT_CONTROLS_INTERVAL",
        default_value = "60",
        value_parser = parse_interval,
        value_name = "DURATION"
    )]
    pub controls_interval: Duration,
    /// Do not run control checks on their cadence (run `evident controls check` or
    /// POST /v1/controls/check yourself).
    #[arg(long, env = "EVIDENT_NO_CONTROLS_SCHEDULE")]
    pub no_controls_schedule: bool,
}

impl ControlsScheduleArgs {
    /// The scheduler's period, or `None` when it is off.
    fn schedule(&self) -> Option<Duration> {
        (!self.no_controls_schedule).then_some(self.controls_interval)
    }
}

/// A scheduler interval: `30s`, `5m`, `1h` or seconds, from 1 s to a day (a longer one would
/// let daily controls lapse between looks).
fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = evident_server::lockout::parse_duration(text)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&interval) {
        return Err(format!("`{text}`: the interval must be from 1 s to 1 day"));
    }
    Ok(interval)
}

/// A retention interval: `12h`, `1d` or seconds, from a minute to 31 days.
fn parse_retention_interval(text: &str) -> Result<Duration, String> {
    let interval = evident_server::lockout::parse_duration(text)?;
    if !(Duration::from_secs(60)..=Duration::from_secs(31 * 86_400)).contains(&interval) {
        return Err(format!(
            "`{text}`: the retention interval must be from 1 minute to 31 days"
        ));
    }
    Ok(interval)
}

/// The login lockout (PCI DSS 8.3.4, NIST AC-7): failed logins are counted per API key or
/// OIDC subject, per credential at one client address, and per address; past half a limit
/// they are slowed (429 with Retry-After), at the limit locked until the lock ends or an
/// administrator lifts it (DELETE /v1/auth/lockouts/ID).
#[derive(Debug, Clone, Args)]
pub struct LockoutArgs {
    /// Failed logins of one API key or OIDC subject (and of one at one address) before it
    /// is locked. PCI DSS 8.3.4 allows at most 10.
    #[arg(
        long,
        env = "EVIDENT_LOCKOUT_MAX_ATTEMPTS",
        default_value_t = evident_server::lockout::PCI_MAX_ATTEMPTS,
        value_name = "N"
    )]
    pub lockout_max_attempts: u32,
    /// How long a lock lasts unless an administrator lifts it first: `30m`, `2h`, `1d` or
    /// seconds. PCI DSS 8.3.4 asks for at least 30 minutes.
    #[arg(
        long,
        env = "EVIDENT_LOCKOUT_DURATION",
        default_value = "30m",
        value_parser = evident_server::lockout::parse_duration,
        value_name = "DURATION"
    )]
    pub lockout_duration: Duration,
    /// Failed logins from one client address (an IPv6 /64), whatever it presents, before
    /// the address is locked for new credentials; 0 turns this off (behind a proxy every
    /// client has the proxy's address).
    #[arg(
        long,
        env = "EVIDENT_LOCKOUT_ADDRESS_MAX_ATTEMPTS",
        default_value_t = evident_server::lockout::DEFAULT_ADDRESS_MAX_ATTEMPTS,
        value_name = "N"
    )]
    pub lockout_address_max_attempts: u32,
    /// Credentials and addresses the lockout tracks at most (a few hundred bytes each); past
    /// it the least recently seen are forgotten first, locks last.
    #[arg(
        long,
        env = "EVIDENT_LOCKOUT_MAX_TRACKED",
        default_value_t = evident_server::lockout::DEFAULT_MAX_TRACKED,
        value_name = "N"
    )]
    pub lockout_max_tracked: usize,
    /// Accept a lockout weaker than PCI DSS 8.3.4: more than 10 attempts, under 30 minutes,
    /// or --lockout-max-attempts 0 (no credential lockout at all).
    #[arg(long, env = "EVIDENT_DANGER_WEAK_LOCKOUT")]
    pub danger_weak_lockout: bool,
}

impl LockoutArgs {
    /// The policy these settings make; an error for one weaker than PCI DSS 8.3.4 unless
    /// --danger-weak-lockout.
    pub fn policy(&self) -> Result<LockoutPolicy> {
        let policy = if self.danger_weak_lockout {
            LockoutPolicy::danger_weaker_than_pci(self.lockout_max_attempts, self.lockout_duration)
        } else {
            LockoutPolicy::new(self.lockout_max_attempts, self.lockout_duration).map_err(|e| {
                anyhow::anyhow!(
                    "{e}; pass --danger-weak-lockout (or `danger_weaker_than_pci = true` \
                         under [lockout] in the configuration file) to run with it anyway"
                )
            })?
        };
        Ok(policy
            .with_address_max_attempts(self.lockout_address_max_attempts)
            .with_max_tracked(self.lockout_max_tracked))
    }
}

/// Limits that keep the server answering well-behaved clients when others are slow, idle or
/// send too much (docs/hardening.md).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// The most connections held open at once; at most half the file-descriptor limit is
    /// used. When all are taken, a new client takes the place of the oldest connection with
    /// no request in progress.
    #[arg(
        long,
        env = "EVIDENT_MAX_CONNECTIONS",
        default_value_t = Limits::default().max_connections as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "N"
    )]
    pub max_connections: u64,
    /// Seconds a client has to send a request's headers; also how long a keep-alive
    /// connection may stay idle.
    #[arg(
        long,
        env = "EVIDENT_HEADER_TIMEOUT",
        default_value_t = Limits::default().header_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "SECONDS"
    )]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body (408 after that).
    #[arg(
        long,
        env = "EVIDENT_BODY_TIMEOUT",
        default_value_t = Limits::default().body_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "SECONDS"
    )]
    pub body_timeout: u64,
    /// MiB of request bodies held in memory at once, over all requests (503 with
    /// Retry-After past it).
    #[arg(
        long,
        env = "EVIDENT_BODY_MEMORY_MIB",
        default_value_t = (Limits::default().body_memory >> 20) as u64,
        value_parser = clap::value_parser!(u64).range(16..=1 << 20),
        value_name = "MIB"
    )]
    pub body_memory_mib: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            body_memory: usize::try_from(self.body_memory_mib << 20).unwrap_or(usize::MAX),
        }
    }
}

/// TLS for `serve`. Without --tls-cert/--tls-key, a pair written by `init --tls` in the data
/// directory is used if present; otherwise the server speaks plain HTTP (loopback only).
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// PEM certificate chain (leaf first). Reloaded when the file changes or on SIGHUP.
    #[arg(
        long,
        env = "EVIDENT_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(
        long,
        env = "EVIDENT_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: every client must then present a certificate they issued
    /// (mutual TLS for services, on top of API keys).
    #[arg(long, env = "EVIDENT_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
}

/// OpenID Connect bearer tokens for the API, beside API keys.
#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// Accept tokens from this issuer (Keycloak: https://HOST/realms/REALM). Its keys are
    /// found by OIDC discovery unless --oidc-jwks-url is given, cached, and refreshed.
    #[arg(
        long,
        env = "EVIDENT_OIDC_ISSUER",
        value_name = "URL",
        requires = "oidc_audience"
    )]
    pub oidc_issuer: Option<String>,
    /// The audience (`aud`) tokens must carry, e.g. the Keycloak client id.
    #[arg(long, env = "EVIDENT_OIDC_AUDIENCE", value_name = "AUD")]
    pub oidc_audience: Option<String>,
    /// The JWKS URL, when discovery is not available.
    #[arg(long, env = "EVIDENT_OIDC_JWKS_URL", value_name = "URL")]
    pub oidc_jwks_url: Option<String>,
    /// The claim holding Evident roles (admin, writer, reader, auditor; an `evident:` or `evident-`
    /// prefix is allowed). Keycloak's realm and client roles are read too.
    #[arg(
        long,
        env = "EVIDENT_OIDC_ROLES_CLAIM",
        default_value = "roles",
        value_name = "PATH"
    )]
    pub oidc_roles_claim: String,
    /// The longest lifetime (`exp` − `iat`) of a token this server accepts, e.g. `15m`
    /// (PCI DSS 8.2.8, HIPAA automatic logoff); longer-lived tokens and tokens without `iat`
    /// are refused. Default: whatever the issuer grants (the `access.session_lifetime`
    /// check then fails).
    #[arg(long, env = "EVIDENT_OIDC_MAX_TOKEN_LIFETIME", value_name = "DURATION", value_parser = evident_server::lockout::parse_duration)]
    pub oidc_max_token_lifetime: Option<Duration>,
    /// The URL clients reach this server at, for AuthZEN discovery
    /// (/.well-known/authzen-configuration). Default: from the request's Host header.
    #[arg(long, env = "EVIDENT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

/// Serves the HTTP API until ctrl-c or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    let ServeArgs {
        dir,
        listen,
        danger_plaintext_network,
        tls,
        oidc,
        lockout,
        limits,
        controls,
        retention_interval,
    } = args;
    let lockout = lockout.policy()?;
    let dir = dir.data_dir.as_path();
    let tls_files = which_tls_files(dir, &tls)?;
    if tls_files.is_none() && !listen.ip().is_loopback() && !danger_plaintext_network {
        bail!(
            "refusing to listen on {listen} without TLS: API keys and events would cross the network \
             in clear text. Listen on a loopback address behind a TLS proxy, or pass \
             --danger-plaintext-network if the network is trusted"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let engine = std::sync::Arc::new(open_or_create(dir)?);
        let tls = match &tls_files {
            Some(files) => Some(
                evident_server::tls::ReloadingConfig::load(files.clone())
                    .context("setting up TLS")?,
            ),
            None => None,
        };
        let options = evident_server::ServerOptions {
            oidc: oidc.oidc_issuer.as_ref().map(|issuer| {
                let mut config = evident_server::oidc::OidcConfig::new(
                    issuer.clone(),
                    oidc.oidc_audience.clone().unwrap_or_default(),
                );
                config.jwks_url = oidc.oidc_jwks_url.clone();
                config.roles_claim = oidc.oidc_roles_claim.clone();
                config.max_token_lifetime = oidc.oidc_max_token_lifetime;
                config
            }),
            public_url: oidc.public_url.clone(),
            tls: tls.is_some(),
            lockout: lockout.clone(),
            limits: limits.limits(),
            controls_schedule: controls.schedule(),
            retention_schedule: retention_interval,
        };
        if lockout.is_weaker_than_pci() {
            tracing::warn!(
                max_attempts = lockout.max_attempts(),
                duration = %format_duration(lockout.duration()),
                "the login lockout is weaker than PCI DSS 8.3.4 (--danger-weak-lockout)"
            );
        }
        let configuration = evident_server::started::configuration(&options);
        let state = evident_server::AppState::with_options(engine.clone(), options);
        if let Some(verifier) = state.oidc() {
            // Fetch the issuer's keys now so a wrong issuer or URL shows at startup.
            let verifier_issuer = verifier.config().issuer.clone();
            match tokio::task::block_in_place(|| verifier.refresh()) {
                Ok(n) => tracing::info!(issuer = %verifier_issuer, keys = n, "OIDC issuer keys loaded"),
                Err(e) => tracing::warn!(issuer = %verifier_issuer, error = %e, "OIDC keys not loaded yet; will retry on the first token"),
            }
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        if tls.is_none() && !local.ip().is_loopback() {
            tracing::warn!("serving plaintext HTTP on a non-loopback address ({local})");
        }
        let limits = state.limits();
        tracing::info!(
            max_connections = limits.effective_max_connections(),
            header_timeout_s = limits.header_timeout.as_secs(),
            body_timeout_s = limits.body_timeout.as_secs(),
            body_memory_mib = limits.body_memory >> 20,
            "connection limits"
        );
        // The settings in force are evidence: the controls' checks read them from here. A
        // server that cannot record them (a full disk) still serves reads and answers writes
        // with 507, as it does for every append; the check then reads the previous start.
        if let Err(e) = engine
            .append(vec![evident_server::started::started_event(configuration, local)])
            .await
        {
            tracing::error!(
                error = %e,
                "could not record this start's settings in the ledger (evident.serve.started); \
                 the access.session_lifetime check reads the previous start's"
            );
        }
        tracing::info!(
            address = %local,
            origin = engine.origin(),
            size = engine.size(),
            vkey = %engine.verifier_key(),
            "evident is serving"
        );
        match tls {
            Some(tls) => {
                println!("listening on https://{local}");
                evident_server::serve_tls(state, listener, tls, shutdown_signal()).await?;
            }
            None => {
                println!("listening on http://{local}");
                evident_server::serve(state, listener, shutdown_signal()).await?;
            }
        }
        engine.shutdown();
        tracing::info!("stopped");
        Ok(())
    })
}

/// The files `serve` should use: the flags, else the pair `init --tls` wrote, else none.
fn which_tls_files(dir: &Path, args: &TlsArgs) -> Result<Option<TlsFiles>> {
    let (cert, key) = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ => {
            let (cert, key) = tls::default_pair(dir);
            if !(cert.exists() && key.exists()) {
                if let Some(ca) = &args.tls_client_ca {
                    bail!(
                        "--tls-client-ca {} needs TLS: give --tls-cert and --tls-key, or run `evident init --tls`",
                        ca.display()
                    );
                }
                return Ok(None);
            }
            (cert, key)
        }
    };
    Ok(Some(TlsFiles {
        cert,
        key,
        client_ca: args.tls_client_ca.clone(),
    }))
}

/// Resolves on ctrl-c or (on Unix) SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
