//! What several of the server's integration tests share: the API on a loopback port over a
//! fresh data directory, API keys for it, and a client that reads any status as an answer.

use std::sync::Arc;

use evident::{Engine, Role};
use evident_server::lockout::LockoutPolicy;
use evident_server::{LoopbackServer, ServerOptions};

/// The API running over its own data directory; stopped when dropped.
pub struct Running {
    /// the data directory, removed when dropped
    #[allow(dead_code, reason = "every test keeps it; only some read it")]
    pub dir: tempfile::TempDir,
    /// the engine the server serves
    pub engine: Arc<Engine>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// a client that answers every status rather than failing on 4xx and 5xx
    #[allow(dead_code, reason = "some tests bring their own client")]
    pub agent: ureq::Agent,
    server: Option<LoopbackServer>,
}

impl Running {
    /// A new data directory and the API over it, without the login lockout: these tests
    /// send hundreds of bad credentials from one address on purpose, and the lockout has
    /// tests of its own (`lockout.rs`).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = Arc::new(Engine::open(dir.path(), true).expect("a new engine"));
        let options = ServerOptions {
            lockout: LockoutPolicy::danger_disabled(),
            ..ServerOptions::default()
        };
        let server = LoopbackServer::start_with(engine.clone(), options)
            .expect("the API on a loopback port");
        Self {
            dir,
            engine,
            base: server.base.clone(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            server: Some(server),
        }
    }

    /// A new API key with `role`, as its bearer token.
    pub fn key(&self, role: Role) -> String {
        self.engine
            .create_api_key(role, None, "test")
            .expect("an API key")
            .token
            .to_string()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            if let Err(e) = server.stop() {
                eprintln!("the test server did not stop cleanly: {e}");
            }
        }
    }
}
