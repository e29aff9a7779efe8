//! The retention scheduler of `evident serve`: off by default; when asked for, it purges the
//! active data map's rows past their period without any request, as `evident-scheduler`,
//! each system's purge an `evident.privacy.retention.purged` event with counts and no value.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use evident::crypto::local::LocalProvider;
use evident::privacy::datamap::store::MapStore;
use evident::store::EventQuery;
use evident::Engine;
use evident_server::lockout::LockoutPolicy;
use evident_server::{LoopbackServer, ServerOptions, SCHEDULER_ACTOR};

fn engine_with_map(dir: &std::path::Path) -> Arc<Engine> {
    let db = dir.join("shop.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, created_at TEXT);
             INSERT INTO users VALUES (1, 'old@example.org', '2000-01-01'), (2, 'new@example.org', '2999-01-01');",
        )
        .unwrap();
    let map = format!(
        r#"[[systems]]
name = "shop"
connection = "sqlite:{}"
purpose = "orders"
lawful_basis = "contract"
retention = "1y"
[[systems.tables]]
name = "users"
primary_key = "id"
identity = "id"
retention_from = "created_at"
erasure = "delete_row"
fields = [{{ name = "email", categories = ["user.contact.email"], erasure = "null" }}]
"#,
        db.display()
    );
    let store = MapStore::new(dir);
    let staged = store.stage(&map).unwrap();
    store.activate(&staged).unwrap();
    let engine = Engine::open(dir, true).unwrap();
    let provider =
        LocalProvider::with_passphrase(dir, b"correct horse battery staple", true).unwrap();
    engine.set_key_provider(Arc::new(provider));
    Arc::new(engine)
}

fn purges(engine: &Engine) -> Vec<serde_json::Value> {
    let query = EventQuery {
        action: Some("evident.privacy.retention.purged".into()),
        limit: 100,
        ..EventQuery::default()
    };
    engine
        .query(&query)
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.entry)
        .collect()
}

fn users(dir: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("shop.db")).unwrap();
    let mut stmt = conn.prepare("SELECT email FROM users ORDER BY id").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_scheduled_purge_runs_without_a_request_and_logs_counts_only() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_map(dir.path());
    let options = ServerOptions {
        lockout: LockoutPolicy::danger_disabled(),
        retention_schedule: Some(Duration::from_millis(100)),
        ..ServerOptions::default()
    };
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while purges(&engine).is_empty() {
        assert!(Instant::now() < deadline, "no scheduled purge within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop().unwrap();
    let first = &purges(&engine)[0];
    assert_eq!(first["actor"]["id"], SCHEDULER_ACTOR);
    assert_eq!(first["metadata"]["system"], "shop");
    assert_eq!(first["metadata"]["tables"][0]["changed"], 1);
    let text = first.to_string();
    assert!(!text.contains("old@example.org"), "{text}");
    assert_eq!(users(dir.path()), ["new@example.org"]);
}

#[test]
fn without_the_option_nothing_is_purged() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_map(dir.path());
    let options = ServerOptions {
        lockout: LockoutPolicy::danger_disabled(),
        controls_schedule: Some(Duration::from_millis(50)),
        ..ServerOptions::default()
    };
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    server.stop().unwrap();
    assert!(purges(&engine).is_empty());
    assert_eq!(users(dir.path()), ["old@example.org", "new@example.org"]);
}
