//! The HTTP floor: what answering `POST /access/v1/evaluation` costs on this host when nothing
//! but HTTP happens. The same tokio runtime, axum and hyper as the real server read the whole
//! body and answer a fixed AuthZEN decision, with no authentication, no decision and nothing
//! logged. `evident bench access` offers it the same load as the real endpoint in the same run,
//! so the real endpoint's latency stands next to the latency of HTTP alone on the same cores.
//!
//! It is a measuring instrument, never a server to deploy: it answers every request alike.

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

use crate::serve::LoopbackServer;

/// A decision shaped as the real endpoint's: the decision and its context.
const FIXED_ANSWER: &str = r#"{"decision":false,"context":{"id":"00000000-0000-0000-0000-000000000000","reason_admin":{"en":"the HTTP floor answers every request alike"}}}"#;

/// The floor's routes: `POST /access/v1/evaluation` only.
pub fn router() -> axum::Router {
    axum::Router::new().route("/access/v1/evaluation", post(answer))
}

async fn answer(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body);
    ([(header::CONTENT_TYPE, "application/json")], FIXED_ANSWER)
}

// The floor's constructor lives here rather than in `serve.rs`, so the loopback server
// knows nothing of the floor and the floor's test can start it without a module cycle.
impl LoopbackServer {
    /// Starts serving the HTTP floor (see [`crate::floor`]) on `127.0.0.1:0`: the same runtime
    /// and HTTP stack as [`LoopbackServer::start`], answering a fixed decision and doing
    /// nothing else.
    pub fn start_http_floor() -> std::io::Result<Self> {
        Self::start_router(router(), crate::limits::Limits::default())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use crate::LoopbackServer;

    fn exchange(base: &str, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        // The server may answer and close before an oversized body is all written; the answer
        // is what the test reads.
        let _ = stream.write_all(request.as_bytes());
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    }

    #[test]
    fn answers_a_fixed_decision_and_nothing_else() {
        let server = LoopbackServer::start_http_floor().unwrap();
        let body = r#"{"subject":{"type":"User","id":"alice"}}"#;
        let ok = exchange(
            &server.base,
            &format!(
                "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        let answer: serde_json::Value =
            serde_json::from_str(ok.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(answer["decision"], false);
        let elsewhere = exchange(
            &server.base,
            "GET /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(elsewhere.starts_with("HTTP/1.1 404"), "{elsewhere}");
        // a body past axum's default limit is refused, as on the real server
        let oversized = "x".repeat(3 << 20);
        let refused = exchange(
            &server.base,
            &format!(
                "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{oversized}",
                oversized.len()
            ),
        );
        assert!(
            refused.starts_with("HTTP/1.1 413"),
            "{}",
            &refused[..refused.len().min(200)]
        );
        server.stop().unwrap();
    }
}
