//! The login lockout against a real server on a loopback port, with clients on several
//! loopback addresses (127.0.0.0/8 is all local on Linux): failures slow, then lock, one
//! credential and not its neighbours; the right secret is refused while locked, except from
//! where it is known to work; an administrator's unlock and the locks themselves are ledger
//! events that verify; locks end, survive a restart, and the table stays bounded however
//! many addresses an attacker has.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use evident::{Engine, Query, Role};
use evident_server::lockout::LockoutPolicy;
use evident_server::{LoopbackServer, ServerOptions};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Reply {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

struct Server {
    engine: Arc<Engine>,
    admin: String,
    writer: String,
    reader: String,
    server: Option<LoopbackServer>,
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// The loopback address `127.0.<n / 256>.<n % 256 + 1>`: a client of its own.
fn client(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, (n / 256) as u8, (n % 256 + 1) as u8))
}

fn start(policy: LockoutPolicy) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let key = |role| {
        engine
            .create_api_key(role, None, "test")
            .unwrap()
            .token
            .to_string()
    };
    let (admin, writer, reader) = (key(Role::Admin), key(Role::Writer), key(Role::Reader));
    let mut s = Server {
        engine,
        admin,
        writer,
        reader,
        server: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        _dir: dir,
    };
    s.restart(policy);
    s
}

impl Server {
    /// Stops the server (if running) and starts a new one over the same engine.
    fn restart(&mut self, policy: LockoutPolicy) {
        if let Some(old) = self.server.take() {
            old.stop().unwrap();
        }
        let options = ServerOptions {
            lockout: policy,
            ..Default::default()
        };
        let server = LoopbackServer::start_with(self.engine.clone(), options).unwrap();
        self.addr = server.base.trim_start_matches("http://").parse().unwrap();
        self.server = Some(server);
    }

    /// One HTTP/1.0 request from the loopback address `from`.
    fn call(&self, from: IpAddr, method: &str, path: &str, token: Option<&str>) -> Reply {
        self.runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(from, 0)).unwrap();
            let mut stream = socket.connect(self.addr).await.unwrap();
            let auth = token
                .map(|t| format!("Authorization: Bearer {t}\r\n"))
                .unwrap_or_default();
            let request = format!(
                "{method} {path} HTTP/1.0\r\nHost: evident\r\n{auth}Content-Length: 0\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.unwrap();
            let text = String::from_utf8(raw).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let status = head[9..12].parse().unwrap();
            let retry_after = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after:")
                    .map(|v| v.trim().parse().unwrap())
            });
            Reply {
                status,
                retry_after,
                body: body.to_string(),
            }
        })
    }

    fn get(&self, from: IpAddr, path: &str, token: &str) -> Reply {
        self.call(from, "GET", path, Some(token))
    }

    /// Fails with `token` from `from` until `n` failures were counted (401s), waiting out
    /// pauses (429s, which count nothing); the 401s.
    fn fail(&self, from: IpAddr, token: &str, n: usize) -> Vec<Reply> {
        let mut counted = Vec::new();
        while counted.len() < n {
            let r = self.get(from, "/v1/checkpoint", token);
            match r.status {
                401 => counted.push(r),
                429 => std::thread::sleep(Duration::from_millis(5)),
                other => panic!("a wrong key got {other}: {}", r.body),
            }
        }
        counted
    }

    fn lockouts(&self) -> Vec<Value> {
        let r = self.get(client(0), "/v1/auth/lockouts", &self.admin);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["lockouts"].as_array().unwrap().clone()
    }

    /// The ledger's events with `action`, waiting up to 5 s for `at_least` of them (failed
    /// logins and locks are appended in the background).
    fn events(&self, action: &str, at_least: usize) -> Vec<Value> {
        self.events_where(action, at_least, |_| true)
    }

    /// The same, counting only the events `wanted` accepts.
    fn events_where(
        &self,
        action: &str,
        at_least: usize,
        wanted: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        for _ in 0..100 {
            let page = self
                .engine
                .query(&Query {
                    action: Some(action.into()),
                    limit: 1000,
                    ..Default::default()
                })
                .unwrap();
            let events: Vec<Value> = page.events.into_iter().map(|e| e.entry).collect();
            if events.iter().filter(|e| wanted(e)).count() >= at_least {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("fewer than {at_least} such `{action}` events in the ledger");
    }
}

fn key_id(token: &str) -> &str {
    &token[4..16]
}

/// The writer's token with its secret replaced.
fn wrong(token: &str) -> String {
    format!("evk_{}_not-the-secret", key_id(token))
}

/// PCI's limits, with pauses short enough for a test.
fn pci_fast() -> LockoutPolicy {
    LockoutPolicy::default().with_backoff(Duration::from_millis(2))
}

#[test]
fn ten_failures_lock_the_key_and_nothing_else_until_an_admin_unlocks() {
    let s = start(pci_fast());
    let (here, elsewhere) = (client(1), client(2));
    let wrong_writer = wrong(&s.writer);
    let failures = s.fail(here, &wrong_writer, 10);
    // slowed from the sixth failure, locked at the tenth for 30 minutes
    assert!(failures[..5].iter().all(|r| r.retry_after.is_none()));
    assert!(failures[5..9].iter().all(|r| r.retry_after == Some(1)));
    assert_eq!(failures[9].retry_after, Some(1800));
    assert_eq!(failures[9].json()["error"]["code"], "unauthorized");

    // the right secret is refused too, here and from anywhere: that is what a lock means
    for from in [here, elsewhere] {
        let r = s.get(from, "/v1/checkpoint", &s.writer);
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], "too_many_attempts");
        let wait = r.retry_after.unwrap();
        assert!((1700..=1800).contains(&wait), "Retry-After {wait}");
        assert!(!r.body.contains(&s.writer[16..]), "the secret is echoed");
    }
    // other keys, from the same address, are not affected
    assert_eq!(s.get(here, "/v1/checkpoint", &s.reader).status, 200);
    assert_eq!(s.get(here, "/v1/checkpoint", &s.admin).status, 200);

    // the administrator sees two locks: the key at this address, and the key
    let locks = s.lockouts();
    let mut scopes: Vec<(&str, &str)> = locks
        .iter()
        .map(|l| {
            assert_eq!(l["credential"], format!("apikey:{}", key_id(&s.writer)));
            assert_eq!(l["failures"], 10);
            (
                l["scope"].as_str().unwrap(),
                l["address"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    scopes.sort_unstable();
    assert_eq!(
        scopes,
        [("credential", "-"), ("credential_at_address", "127.0.0.2")]
    );
    // only an administrator may
    assert_eq!(s.get(here, "/v1/auth/lockouts", &s.reader).status, 403);
    assert_eq!(
        s.call(
            here,
            "DELETE",
            &format!("/v1/auth/lockouts/{}", locks[0]["id"].as_str().unwrap()),
            Some(&s.writer)
        )
        .status,
        429
    );

    // each lock is a ledger event naming the key, never its secret
    let locked = s.events("auth.lockout.locked", 2);
    assert_eq!(locked.len(), 2);
    for event in &locked {
        assert_eq!(
            event["metadata"]["credential"],
            format!("apikey:{}", key_id(&s.writer))
        );
        assert_eq!(event["severity"], "high");
        assert!(!event.to_string().contains("not-the-secret"));
    }
    // as is every refusal, naming the key tried, and the lockout that refused it if one did
    s.events_where("auth.login.failed", 12, |e| {
        e["metadata"]["key_id"] == key_id(&s.writer)
    });
    s.events_where("auth.login.failed", 2, |e| {
        e["metadata"]["lockout"].is_string()
    });

    // an administrator lifts both locks: each lift is a ledger event naming who lifted it
    for lock in &locks {
        let id = lock["id"].as_str().unwrap();
        let path = format!("/v1/auth/lockouts/{id}");
        assert_eq!(s.call(here, "DELETE", &path, Some(&s.admin)).status, 204);
        assert_eq!(s.call(here, "DELETE", &path, Some(&s.admin)).status, 404);
    }
    assert!(s.lockouts().is_empty());
    assert_eq!(s.get(here, "/v1/checkpoint", &s.writer).status, 200);
    let unlocked = s.events("auth.lockout.unlocked", 2);
    assert_eq!(
        unlocked[0]["metadata"]["unlocked_by"],
        format!("apikey:{}", key_id(&s.admin))
    );
    // and the counter starts again from zero
    assert!(s
        .fail(here, &wrong_writer, 5)
        .iter()
        .all(|r| r.retry_after.is_none()));

    // the lockout events are in the log and the log verifies: 10 + 5 failures counted,
    // 3 refused by a lock
    s.events("auth.login.failed", 18);
    let size = s.engine.size();
    let report = s.engine.verify(|_| {}).unwrap();
    assert!(report.entries >= size, "{report:?}");
    assert!(
        report.personal > 0,
        "the addresses' commitments: {report:?}"
    );
}

#[test]
fn a_service_keeps_working_from_where_it_is_known_while_an_attacker_locks_its_key() {
    let s = start(pci_fast());
    let (service, attacker, newcomer) = (client(10), client(66), client(11));
    assert_eq!(s.get(service, "/v1/checkpoint", &s.writer).status, 200);
    s.fail(attacker, &wrong(&s.writer), 10);
    // the key is locked for anyone new, even with the right secret ...
    assert_eq!(s.get(newcomer, "/v1/checkpoint", &s.writer).status, 429);
    assert_eq!(s.get(attacker, "/v1/checkpoint", &s.writer).status, 429);
    // ... but the service it belongs to, from where it authenticated before, carries on
    assert_eq!(s.get(service, "/v1/checkpoint", &s.writer).status, 200);
    // the attacker's address is not locked for the keys it did not attack
    assert_eq!(s.get(attacker, "/v1/checkpoint", &s.reader).status, 200);
}

#[test]
fn an_address_that_sprays_keys_is_slowed_then_locked_but_known_keys_there_still_work() {
    let policy = pci_fast().with_address_max_attempts(20);
    let s = start(policy);
    let nat = client(30);
    assert_eq!(s.get(nat, "/v1/checkpoint", &s.reader).status, 200);
    // twenty different made-up key ids: no credential reaches its limit, the address does
    for i in 0..20u32 {
        let token = format!("evk_{i:012x}_guess");
        loop {
            let r = s.get(nat, "/v1/checkpoint", &token);
            if r.status == 401 {
                break;
            }
            assert_eq!(r.status, 429);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let locks = s.lockouts();
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0]["scope"], "address");
    assert_eq!(locks[0]["address"], "127.0.0.31");
    assert_eq!(
        s.get(nat, "/v1/checkpoint", "evk_0000000000ff_guess")
            .status,
        429
    );
    // a key never used from there is refused; the key that worked there before is not
    assert_eq!(s.get(nat, "/v1/checkpoint", &s.writer).status, 429);
    assert_eq!(s.get(nat, "/v1/checkpoint", &s.reader).status, 200);
    // and other addresses are untouched
    assert_eq!(s.get(client(31), "/v1/checkpoint", &s.writer).status, 200);
}

#[test]
fn failures_are_slowed_before_the_lock() {
    // the real pause: 1 s after the sixth failure
    let s = start(LockoutPolicy::default());
    let here = client(40);
    let counted = s.fail(here, &wrong(&s.writer), 6);
    assert_eq!(counted[5].retry_after, Some(1));
    let paused = s.get(here, "/v1/checkpoint", &s.writer);
    assert_eq!((paused.status, paused.retry_after), (429, Some(1)));
    assert!(paused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("try again in 1 s"));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.get(here, "/v1/checkpoint", &s.writer).status, 200);
    assert!(s.lockouts().is_empty());
}

#[test]
fn a_lock_ends_by_itself_after_its_duration() {
    let policy = LockoutPolicy::danger_weaker_than_pci(3, Duration::from_secs(2))
        .with_backoff(Duration::from_millis(2));
    let s = start(policy);
    let here = client(50);
    s.fail(here, &wrong(&s.writer), 3);
    let r = s.get(here, "/v1/checkpoint", &s.writer);
    assert_eq!(r.status, 429);
    assert!(r.retry_after.unwrap() <= 2);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(s.get(here, "/v1/checkpoint", &s.writer).status, 200);
    assert!(s.lockouts().is_empty());
}

#[test]
fn locks_survive_a_restart_and_lifted_ones_stay_lifted() {
    let mut s = start(pci_fast());
    let (here, elsewhere) = (client(60), client(61));
    s.fail(here, &wrong(&s.writer), 10);
    s.events("auth.lockout.locked", 2);
    let locks = s.lockouts();
    let global = locks.iter().find(|l| l["scope"] == "credential").unwrap();
    let at_here = locks.iter().find(|l| l["scope"] != "credential").unwrap();
    let path = format!("/v1/auth/lockouts/{}", global["id"].as_str().unwrap());
    assert_eq!(s.call(here, "DELETE", &path, Some(&s.admin)).status, 204);

    s.restart(pci_fast());
    // the lock at this address is back, with its id, its address read back from the
    // ledger's personal values; the lifted one is not
    let restored = s.lockouts();
    assert_eq!(restored.len(), 1, "{restored:?}");
    assert_eq!(restored[0]["id"], at_here["id"]);
    assert_eq!(restored[0]["address"], "127.0.0.61");
    assert_eq!(restored[0]["locked_until"], at_here["locked_until"]);
    assert_eq!(s.get(here, "/v1/checkpoint", &s.writer).status, 429);
    assert_eq!(s.get(elsewhere, "/v1/checkpoint", &s.writer).status, 200);
}

#[test]
fn the_table_stays_bounded_under_many_addresses_and_keeps_its_locks() {
    let s = start(pci_fast().with_max_tracked(100));
    s.fail(client(1), &wrong(&s.writer), 10);
    for n in 100..1100 {
        let r = s.get(client(n), "/v1/checkpoint", &format!("evk_{n:012x}_guess"));
        assert_eq!(r.status, 401);
    }
    let metrics = s.get(client(0), "/metrics", &s.admin).body;
    let tracked: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("evident_login_lockout_tracked "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((50..=100).contains(&tracked), "{tracked} entries tracked");
    // 3,000 counters came and went; the key's locks stayed
    assert_eq!(s.lockouts().len(), 2);
    assert_eq!(s.get(client(3), "/v1/checkpoint", &s.writer).status, 429);
    assert!(
        metrics.contains("evident_login_lockouts_total 2"),
        "{metrics}"
    );
}

#[test]
fn the_openapi_document_describes_lockouts_wherever_a_login_can_fail() {
    let s = start(LockoutPolicy::default());
    let doc = s.call(client(0), "GET", "/openapi.json", None).json();
    let lockouts = &doc["paths"]["/v1/auth/lockouts"];
    assert!(lockouts["get"]["responses"]["200"].is_object());
    assert!(doc["paths"]["/v1/auth/lockouts/{id}"]["delete"]["responses"]["204"].is_object());
    let codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
        ["enum"]
        .as_array()
        .unwrap();
    assert!(codes.contains(&Value::from("too_many_attempts")));
    // every operation that can answer 401 can answer 429 too
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = &operation["responses"];
            if responses.get("401").is_some() {
                assert!(responses.get("429").is_some(), "{method} {path} lacks 429");
            }
        }
    }
}
