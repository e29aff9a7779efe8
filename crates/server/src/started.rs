//! The `evident.serve.started` event: a server records the security settings it runs with
//! each time it starts (TLS, the OIDC issuer and the longest token lifetime it accepts, the
//! login lockout, connection limits). The ledger then holds the history of the server's
//! configuration, and the controls part's checks read what is in force from it rather than
//! from flags they cannot see.

use std::net::SocketAddr;

use evident::event::system_event;
use evident::AuditEvent;
use serde_json::{json, Value};

use crate::state::ServerOptions;

/// The action of the event.
pub const STARTED_ACTION: &str = "evident.serve.started";

/// The settings `options` give, as the event records them.
pub fn configuration(options: &ServerOptions) -> Value {
    let oidc = options.oidc.as_ref().map(|o| {
        json!({
            "issuer": o.issuer,
            "audience": o.audience,
            "max_token_lifetime_seconds": o.max_token_lifetime.map(|d| d.as_secs()),
            "leeway_seconds": o.leeway_seconds,
        })
    });
    json!({
        "tls": options.tls,
        "oidc": oidc,
        "lockout": {
            "max_attempts": options.lockout.max_attempts(),
            "duration_seconds": options.lockout.duration().as_secs(),
            "address_max_attempts": options.lockout.address_max_attempts(),
        },
        "limits": {
            "max_connections": options.limits.effective_max_connections(),
            "header_timeout_seconds": options.limits.header_timeout.as_secs(),
            "body_timeout_seconds": options.limits.body_timeout.as_secs(),
        },
    })
}

/// The event of a server that has started listening on `address` with `configuration`.
pub fn started_event(configuration: Value, address: SocketAddr) -> AuditEvent {
    let mut metadata = configuration;
    metadata["address"] = json!(address.to_string());
    metadata["version"] = json!(env!("CARGO_PKG_VERSION"));
    system_event(
        STARTED_ACTION,
        "server",
        Some(&address.to_string()),
        metadata,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use crate::oidc::OidcConfig;

    #[test]
    fn the_event_records_what_a_check_needs() {
        let mut oidc = OidcConfig::new("https://idp.example", "evident-api");
        oidc.max_token_lifetime = Some(std::time::Duration::from_secs(900));
        let options = ServerOptions {
            oidc: Some(oidc),
            tls: true,
            ..ServerOptions::default()
        };
        let event = started_event(configuration(&options), "127.0.0.1:8470".parse().unwrap());
        assert_eq!(event.action, STARTED_ACTION);
        let m = serde_json::Value::Object(event.metadata.clone().unwrap());
        assert_eq!(m["oidc"]["max_token_lifetime_seconds"], 900);
        assert_eq!(m["tls"], true);
        assert_eq!(m["address"], "127.0.0.1:8470");
        assert!(m["lockout"]["max_attempts"].as_u64().unwrap() > 0);
    }
}
