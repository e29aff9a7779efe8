//! The state every handler shares: the engine, the metrics, the OIDC verifier, the login
//! lockout table, the budget of request-body memory, the turn of control-check runs and the
//! server's options.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use evident::Engine;

use crate::budget::BodyBudget;
use crate::error::LOG_TARGET;
use crate::limits::Limits;
use crate::lockout::{self, LockoutPolicy, LockoutTable};
use crate::metrics::Metrics;
use crate::oidc::{OidcConfig, OidcVerifier};

/// The extractor handlers take the shared state with.
pub(crate) type Shared = State<Arc<AppState>>;

/// State shared by every handler.
pub struct AppState {
    /// the engine
    pub engine: Arc<Engine>,
    /// request, append, decision and login-failure counters served at `/metrics`
    pub(crate) metrics: Metrics,
    /// the OIDC verifier, when an issuer is configured
    pub(crate) oidc: Option<Arc<OidcVerifier>>,
    /// failed-login counters, pauses and locks
    pub(crate) lockout: LockoutTable,
    /// the memory request bodies may take at once, over all requests
    pub(crate) body_budget: BodyBudget,
    /// held while control checks run: one run at a time over the server (the scheduler waits
    /// its turn; a request that finds a run in progress is told so)
    pub(crate) check_runs: Arc<tokio::sync::Mutex<()>>,
    options: ServerOptions,
}

/// What a server is configured with beyond its engine.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// accept OIDC bearer tokens from this issuer (API keys keep working)
    pub oidc: Option<OidcConfig>,
    /// the URL clients reach this server at (AuthZEN discovery); from `Host` when absent
    pub public_url: Option<String>,
    /// whether the server speaks TLS (for discovery URLs)
    pub tls: bool,
    /// the login lockout (default: PCI DSS 8.3.4's 10 attempts and 30 minutes)
    pub lockout: LockoutPolicy,
    /// connections, header and body timeouts, body memory
    pub limits: Limits,
    /// how often the server runs the control checks that are due (`None`: never by itself;
    /// `evident serve` asks for every 60 s)
    pub controls_schedule: Option<Duration>,
    /// how often the server purges the data map's rows past their retention period (`None`,
    /// the default: never by itself)
    pub retention_schedule: Option<Duration>,
}

impl AppState {
    /// Wraps an engine, with no OIDC issuer.
    pub fn new(engine: Arc<Engine>) -> Arc<Self> {
        Self::with_options(engine, ServerOptions::default())
    }

    /// Wraps an engine with options, putting back the login locks an earlier run recorded
    /// in the ledger that are still in force.
    pub fn with_options(engine: Arc<Engine>, options: ServerOptions) -> Arc<Self> {
        let metrics = Metrics::new();
        let lockout = LockoutTable::new(options.lockout.clone(), metrics.lockout_tracked.clone());
        match lockout::restore(&engine, &lockout) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: LOG_TARGET, locks = n, "login lockouts restored from the ledger")
            }
            Err(e) => {
                tracing::warn!(target: LOG_TARGET, error = %e, "login lockouts could not be read back from the ledger")
            }
        }
        Arc::new(Self {
            engine,
            metrics,
            oidc: options.oidc.clone().map(|c| Arc::new(OidcVerifier::new(c))),
            lockout,
            body_budget: BodyBudget::new(options.limits.body_memory),
            check_runs: Arc::default(),
            options,
        })
    }

    /// The OIDC verifier, if an issuer is configured.
    pub fn oidc(&self) -> Option<&OidcVerifier> {
        self.oidc.as_deref()
    }

    /// The server's limits on connections and request bodies.
    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    /// How often the due control checks run, if the server runs them.
    pub fn controls_schedule(&self) -> Option<Duration> {
        self.options.controls_schedule
    }

    /// How often retention purges run, if the server runs them.
    pub fn retention_schedule(&self) -> Option<Duration> {
        self.options.retention_schedule
    }

    /// The URL clients reach this server at, when configured.
    pub(crate) fn public_url(&self) -> Option<String> {
        self.options.public_url.clone()
    }

    /// `https` when the server speaks TLS, else `http`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.options.tls {
            "https"
        } else {
            "http"
        }
    }
}
