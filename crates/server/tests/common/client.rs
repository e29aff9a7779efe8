//! An HTTP client for tests that drive any operation of the API by its method: any headers,
//! including values no HTTP client sends (bytes that are not text, written by hand), and an
//! answer whatever its status. Shared by the authorization matrix (`crates/server/tests`)
//! and the canary test (`crates/cli/tests`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers; not every test uses each"
)]

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;
use ureq::http::HeaderValue;

/// An answer.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client to `base` (`http://127.0.0.1:PORT`) that reports every status as an answer.
pub struct Client {
    pub base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            base: base.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        }
    }

    /// `method path` with `headers` and, for a method that has one, a JSON `body`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
    ) -> Reply {
        if headers.iter().any(|(_, v)| std::str::from_utf8(v).is_err()) {
            return self.send_by_hand(method, path, headers, body);
        }
        let url = format!("{}{path}", self.base);
        let header = |v: &[u8]| HeaderValue::from_bytes(v).unwrap();
        let mut response = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (k, v) in headers {
                    r = r.header(*k, header(v));
                }
                r.call()
            }
            _ => {
                let mut r = match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    "PATCH" => self.agent.patch(&url),
                    other => panic!("no client for {other}"),
                }
                .content_type("application/json");
                for (k, v) in headers {
                    r = r.header(*k, header(v));
                }
                r.send(body.unwrap_or(b"{}"))
            }
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// One request written by hand, for a header no HTTP client will send; the answer must
    /// carry a `Content-Length`.
    fn send_by_hand(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
    ) -> Reply {
        let host = self.base.trim_start_matches("http://");
        let body = body.unwrap_or_default();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
        for (k, v) in headers {
            request.extend_from_slice(format!("{k}: ").as_bytes());
            request.extend_from_slice(v);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        request.extend_from_slice(body);
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.write_all(&request).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
        };
        let length: usize = header("content-length").unwrap().parse().unwrap();
        Reply {
            status,
            content_type: header("content-type").unwrap_or_default(),
            body: answer[split + 4..split + 4 + length].to_vec(),
        }
    }
}
