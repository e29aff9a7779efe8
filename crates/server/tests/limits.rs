//! The server's limits against a real server on a loopback port, with raw sockets: a client
//! too slow with its headers is disconnected, one too slow with its body gets 408, a full
//! connection table makes room for a newcomer, the body-memory budget answers 503, and an
//! oversized head gets 431. (`scripts/resource-limits.py` runs the same attacks at scale.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use evident::Engine;
use evident_server::{Limits, LoopbackServer, ServerOptions, MAX_BODY_BYTES, MAX_HEADER_BYTES};

fn start(limits: Limits) -> (tempfile::TempDir, LoopbackServer) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let options = ServerOptions {
        limits,
        ..ServerOptions::default()
    };
    let server = LoopbackServer::start_with(engine, options).unwrap();
    (dir, server)
}

fn connect(server: &LoopbackServer) -> TcpStream {
    let stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection (or 20 s pass).
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status line of one answer on a fresh connection.
fn status_of(server: &LoopbackServer, request: &[u8]) -> String {
    let mut stream = connect(server);
    stream.write_all(request).unwrap();
    let answer = read_to_close(&mut stream);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_client_too_slow_with_its_headers_is_disconnected() {
    let (_dir, server) = start(Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    });
    let mut slow = connect(&server);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        .unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut slow);
    let took = started.elapsed();
    assert!(answer.is_empty(), "{answer}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // An idle keep-alive connection ends the same way, after its answer.
    let mut idle = connect(&server);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let answer = read_to_close(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_client_too_slow_with_its_body_gets_408() {
    let (_dir, server) = start(Limits {
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    });
    let mut slow = connect(&server);
    slow.write_all(
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n[",
    )
    .unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut slow);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_full_connection_table_makes_room_for_a_newcomer() {
    let (_dir, server) = start(Limits {
        max_connections: 2,
        ..Limits::default()
    });
    // Two clients take every place and say nothing.
    let mut idle: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = status_of(
        &server,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The oldest idle connection made room: the server closed it.
    let answer = read_to_close(&mut idle[0]);
    assert!(answer.is_empty(), "{answer}");
}

#[test]
fn request_bodies_past_the_memory_budget_get_503() {
    // The smallest budget: one body of the largest size.
    let (_dir, server) = start(Limits {
        body_memory: MAX_BODY_BYTES,
        ..Limits::default()
    });
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {MAX_BODY_BYTES}\r\n\r\n["
    );
    let mut first = connect(&server);
    first.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut second = connect(&server);
    second.write_all(head.as_bytes()).unwrap();
    let answer = read_to_close(&mut second);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    drop(first);
    // With the first body gone, its share of the budget is back.
    std::thread::sleep(Duration::from_millis(300));
    let status = status_of(
        &server,
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
}

#[test]
fn an_oversized_head_gets_431() {
    let (_dir, server) = start(Limits::default());
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(MAX_HEADER_BYTES)
    );
    assert_eq!(
        status_of(&server, big.as_bytes()),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
}
