//! The `evident` binary as users and scripts meet it: exit codes, messages, files, and the
//! crash test (acknowledged appends survive `kill -9`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;

fn evident(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_VKEY")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = evident(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], code: i32, needle: &str) {
    let out = evident(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} should mention {needle:?}"
    );
}

fn event(i: u64) -> Value {
    json!({
        "actor": {"id": format!("user-{}", i % 4), "ip": "203.0.113.9"},
        "action": "record.read",
        "resource": {"type": "patient_record", "id": format!("pr-{i}")},
        "outcome": "success"
    })
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) {
    let mut f = std::fs::File::create(path).unwrap();
    for line in lines {
        writeln!(f, "{line}").unwrap();
    }
}

fn data_dir() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data").to_str().unwrap().to_string();
    ok(&["init", "--data-dir", &dir, "--origin", "test.example/log"]);
    (tmp, dir)
}

#[test]
fn init_is_idempotent_and_keeps_the_key_private() {
    let (_tmp, dir) = data_dir();
    let vkey = ok(&["log", "vkey", "--data-dir", &dir]);
    assert!(vkey.starts_with("test.example/log+"));
    let again = ok(&["init", "--data-dir", &dir]);
    assert!(again.contains("found log `test.example/log`") && again.contains(vkey.trim()));
    fails(
        &["init", "--data-dir", &dir, "--origin", "other/log"],
        2,
        "cannot be renamed",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(Path::new(&dir).join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    fails(
        &["log", "verify", "--data-dir", "/nonexistent/evident"],
        2,
        "evident init",
    );
}

#[test]
fn append_query_prove_and_verify_offline() {
    let (tmp, dir) = data_dir();
    let bad = tmp.path().join("bad.jsonl");
    write_lines(
        &bad,
        (0..5).map(|i| {
            if i == 2 {
                "{\"actor\": ".to_string()
            } else {
                event(i).to_string()
            }
        }),
    );
    fails(
        &["log", "append", "--data-dir", &dir, bad.to_str().unwrap()],
        2,
        "line 3",
    );
    let unknown = tmp.path().join("unknown.jsonl");
    write_lines(&unknown, std::iter::once(json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "r"}, "outcome": "success", "who": 1}).to_string()));
    fails(
        &[
            "log",
            "append",
            "--data-dir",
            &dir,
            unknown.to_str().unwrap(),
        ],
        2,
        "who",
    );
    let forged = tmp.path().join("forged.jsonl");
    write_lines(&forged, std::iter::once(json!({"actor": {"id": "u"}, "action": "controls.check", "resource": {"type": "control", "id": "EV-AC-01"}, "outcome": "success"}).to_string()));
    fails(
        &[
            "log",
            "append",
            "--data-dir",
            &dir,
            forged.to_str().unwrap(),
        ],
        2,
        "written by Evident itself",
    );
    fails(&["log", "checkpoint", "--data-dir", &dir], 2, "empty");

    let good = tmp.path().join("good.jsonl");
    write_lines(&good, (0..500).map(|i| event(i).to_string()));
    ok(&[
        "log",
        "append",
        "--data-dir",
        &dir,
        good.to_str().unwrap(),
        "--batch",
        "64",
    ]);
    let rows = ok(&[
        "log",
        "query",
        "--data-dir",
        &dir,
        "--actor",
        "user-1",
        "--limit",
        "0",
    ]);
    assert_eq!(rows.lines().count(), 125);
    let tail = ok(&["log", "tail", "--data-dir", &dir, "-n", "3"]);
    let indexes: Vec<u64> = tail
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(indexes, [497, 498, 499]);

    let proof = tmp.path().join("e.tlog-proof");
    let entry = tmp.path().join("e.json");
    let (p, e) = (proof.to_str().unwrap(), entry.to_str().unwrap());
    ok(&[
        "log",
        "prove",
        "--data-dir",
        &dir,
        "123",
        "--out",
        p,
        "--entry-out",
        e,
    ]);
    let vkey = ok(&["log", "vkey", "--data-dir", &dir]).trim().to_string();
    assert!(ok(&["verify", p, "--vkey", &vkey, "--entry", e]).starts_with("ok: entry 123"));
    let checkpoint = tmp.path().join("checkpoint");
    std::fs::write(&checkpoint, ok(&["log", "checkpoint", "--data-dir", &dir])).unwrap();
    assert!(ok(&["verify", checkpoint.to_str().unwrap(), "--vkey", &vkey]).contains("size 500"));

    let original = std::fs::read(&entry).unwrap();
    std::fs::write(
        &entry,
        String::from_utf8(original.clone())
            .unwrap()
            .replace("pr-123", "pr-124"),
    )
    .unwrap();
    fails(
        &["verify", p, "--vkey", &vkey, "--entry", e],
        1,
        "does not lead to the expected root",
    );
    std::fs::write(&entry, &original).unwrap();
    let (_other_tmp, other) = data_dir();
    let other_vkey = ok(&["log", "vkey", "--data-dir", &other])
        .trim()
        .to_string();
    fails(
        &["verify", p, "--vkey", &other_vkey, "--entry", e],
        1,
        "no signature by `test.example/log`",
    );
    std::fs::write(&proof, "c2sp.org/tlog-proof@v1\nindex x\n\nlog\n").unwrap();
    fails(&["verify", p, "--vkey", &vkey, "--entry", e], 1, "index");
    fails(&["verify", "/nonexistent", "--vkey", &vkey], 2, "opening");
    fails(
        &["verify", p, "--vkey", "garbage", "--entry", e],
        2,
        "--vkey",
    );

    let shown: Value =
        serde_json::from_str(&ok(&["log", "show", "--data-dir", &dir, "7", "--reveal"])).unwrap();
    let commitment = shown["event"]["personal"]["/actor/ip"]
        .as_str()
        .unwrap()
        .to_string();
    let salt = shown["personal"][0]["salt"].as_str().unwrap().to_string();
    ok(&[
        "verify",
        "--commitment",
        &commitment,
        "--path",
        "/actor/ip",
        "--salt",
        &salt,
        "--value",
        "\"203.0.113.9\"",
    ]);
    fails(
        &[
            "verify",
            "--commitment",
            &commitment,
            "--path",
            "/actor/ip",
            "--salt",
            &salt,
            "--value",
            "\"203.0.113.8\"",
        ],
        1,
        "does not match",
    );

    assert!(ok(&["log", "verify", "--data-dir", &dir]).starts_with("ok: 500 entries"));
    fails(
        &["log", "verify", "--data-dir", &dir, "--vkey", &other_vkey],
        1,
        "not validly signed",
    );
    let erased = ok(&["log", "erase", "--data-dir", &dir, "--subject", "user-2"]);
    assert!(erased.contains("destroyed 125 personal values"), "{erased}");
    assert!(ok(&["log", "verify", "--data-dir", &dir]).contains("501 entries"));

    let conn = rusqlite::Connection::open(Path::new(&dir).join("evident.db")).unwrap();
    conn.execute("UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'pr-300\"', 'pr-301\"') AS BLOB) WHERE idx = 300", []).unwrap();
    drop(conn);
    fails(
        &["log", "verify", "--data-dir", &dir],
        1,
        "entry 300 was modified",
    );

    // Recomputing the leaf hash too does not help: the signed checkpoints name the range,
    // and the engine refuses to append on top of the forked log.
    let conn = rusqlite::Connection::open(Path::new(&dir).join("evident.db")).unwrap();
    let data: Vec<u8> = conn
        .query_row("SELECT data FROM entries WHERE idx = 300", [], |r| r.get(0))
        .unwrap();
    let leaf = evident_ledger::hash::leaf_hash(&data);
    conn.execute("UPDATE entries SET leaf = ?1 WHERE idx = 300", [&leaf[..]])
        .unwrap();
    drop(conn);
    fails(&["log", "verify", "--data-dir", &dir], 1, "an entry in");
    fails(
        &["log", "erase", "--data-dir", &dir, "--subject", "user-1"],
        2,
        "log integrity failure",
    );
}

#[test]
fn a_config_file_supplies_defaults_that_env_and_flags_override() {
    let (tmp, dir) = data_dir();
    let config = tmp.path().join("evident.toml");
    std::fs::write(&config, format!("data_dir = {dir:?}\nlog = \"warn\"\n")).unwrap();
    let c = config.to_str().unwrap();
    let vkey = ok(&["log", "vkey", "--data-dir", &dir]);
    assert_eq!(ok(&["log", "vkey", "--config", c]), vkey);
    fails(
        &["log", "vkey", "--config", c, "--data-dir", "/nonexistent/x"],
        2,
        "signing key",
    );
    std::fs::write(&config, "data_dir = 5\n").unwrap();
    fails(&["log", "vkey", "--config", c], 2, "configuration file");
    std::fs::write(&config, "datadir = \"x\"\n").unwrap();
    fails(&["log", "vkey", "--config", c], 2, "unknown field");
    fails(
        &["log", "vkey", "--config", "/nonexistent/evident.toml"],
        2,
        "reading the configuration file",
    );
}

#[test]
fn api_keys_and_serve_safety() {
    let (_tmp, dir) = data_dir();
    let token = ok(&[
        "apikey",
        "create",
        "--data-dir",
        &dir,
        "--role",
        "writer",
        "--label",
        "ingest",
    ]);
    assert!(token.trim().starts_with("evk_"));
    let id = token.trim()[4..16].to_string();
    let list = ok(&["apikey", "list", "--data-dir", &dir]);
    assert!(list.contains(&id) && list.contains("writer") && !list.contains(token.trim()));
    ok(&["apikey", "revoke", "--data-dir", &dir, &id]);
    fails(
        &["apikey", "revoke", "--data-dir", &dir, &id],
        2,
        "no active API key",
    );
    fails(
        &["apikey", "create", "--data-dir", &dir, "--role", "root"],
        2,
        "invalid value",
    );
    let events = ok(&["log", "query", "--data-dir", &dir]);
    assert!(events.contains("evident.apikey.created") && events.contains("evident.apikey.revoked"));
    fails(
        &["serve", "--data-dir", &dir, "--listen", "0.0.0.0:0"],
        2,
        "--danger-plaintext-network",
    );
}

struct Served {
    child: Child,
    base: String,
}

fn serve(dir: &str) -> Served {
    let (child, base) = common::spawn_serve(common::quiet_evident(), dir);
    Served { child, base }
}

fn pseudo_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Invariant 1: an acknowledged append is durable. Appends under load from two clients while
/// the server is killed with SIGKILL at random moments, 22 times; then every acknowledged
/// entry must be stored with its acknowledged leaf hash, and the whole log must verify.
#[test]
fn acknowledged_appends_survive_kill_9() {
    let (_tmp, dir) = data_dir();
    let token = ok(&["apikey", "create", "--data-dir", &dir, "--role", "writer"])
        .trim()
        .to_string();
    let acked: Arc<Mutex<BTreeMap<u64, String>>> = Arc::default();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64 ^ u64::from(std::process::id());
    let mut next_id = 0u64;
    for round in 0..22 {
        let mut server = serve(&dir);
        let clients: Vec<_> = (0..2)
            .map(|c| {
                let (base, token, acked) = (server.base.clone(), token.clone(), acked.clone());
                let first = next_id + c * 1_000_000;
                std::thread::spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .timeout_global(Some(Duration::from_secs(5)))
                        .build()
                        .into();
                    let mut i = first;
                    loop {
                        let n = 1 + i % 40;
                        let batch: Vec<Value> = (i..i + n).map(event).collect();
                        i += n;
                        let Ok(mut reply) = agent
                            .post(format!("{base}/v1/events"))
                            .header("Authorization", format!("Bearer {token}"))
                            .send_json(&batch)
                        else {
                            return;
                        };
                        let Ok(body) = reply.body_mut().read_json::<Value>() else {
                            return;
                        };
                        let mut acked = acked.lock().unwrap();
                        for e in body["events"].as_array().unwrap() {
                            acked.insert(
                                e["index"].as_u64().unwrap(),
                                e["leaf_hash"].as_str().unwrap().to_string(),
                            );
                        }
                    }
                })
            })
            .collect();
        next_id += 10_000_000;
        std::thread::sleep(Duration::from_millis(20 + pseudo_random(&mut seed) % 200));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        assert!(
            round < 3 || !acked.lock().unwrap().is_empty(),
            "no append was acknowledged"
        );
    }
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() > 100,
        "only {} appends acknowledged",
        acked.len()
    );

    // Restart once more: the server must come up on the recovered log and keep appending.
    let mut server = serve(&dir);
    let started = Instant::now();
    let agent = ureq::Agent::new_with_defaults();
    let reply: Value = agent
        .post(format!("{}/v1/events", server.base))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(event(1))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert!(reply["events"][0]["index"].as_u64().unwrap() > *acked.keys().last().unwrap());
    assert!(started.elapsed() < Duration::from_secs(30));
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let conn = rusqlite::Connection::open(PathBuf::from(&dir).join("evident.db")).unwrap();
    for (index, leaf) in acked.iter() {
        let stored: Vec<u8> = conn
            .query_row(
                "SELECT leaf FROM entries WHERE idx = ?1",
                [*index as i64],
                |r| r.get(0),
            )
            .unwrap_or_else(|_| panic!("acknowledged entry {index} was lost"));
        assert_eq!(
            &hex_lower(&stored),
            leaf,
            "entry {index} differs from what was acknowledged"
        );
    }
    drop(conn);
    let verified = ok(&["log", "verify", "--data-dir", &dir]);
    assert!(verified.starts_with("ok: "), "{verified}");
    println!(
        "{} acknowledged appends across 22 kills all survived; {verified}",
        acked.len()
    );
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
