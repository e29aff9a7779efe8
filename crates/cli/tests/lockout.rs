//! `evident serve`'s login lockout settings: flags, environment and the `[lockout]` table of
//! the configuration file reach the server; settings weaker than PCI DSS 8.3.4 are refused
//! unless `--danger-weak-lockout` says so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::process::{Child, Command};

use serde_json::Value;

mod common;

fn evident() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evident"));
    for (name, _) in std::env::vars() {
        if name.starts_with("EVIDENT_") {
            c.env_remove(name);
        }
    }
    c
}

/// `serve` with `extra` must refuse to start, exit 2, and say `needle`.
fn refuses(dir: &str, extra: &[&str], config: Option<&str>, needle: &str) {
    let mut c = evident();
    c.args(["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"])
        .args(extra);
    if let Some(config) = config {
        c.env("EVIDENT_CONFIG", config);
    }
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{extra:?}: {stderr:?} should mention {needle:?}"
    );
}

/// The policy `serve` reports at `GET /v1/auth/lockouts` when started with the
/// configuration file `config` (if any) and the environment `env`.
fn served_policy(dir: &str, admin: &str, config: Option<&str>, env: &[(&str, &str)]) -> Value {
    let mut command = evident();
    command.arg("--quiet").stderr(std::process::Stdio::null());
    if let Some(config) = config {
        command.env("EVIDENT_CONFIG", config);
    }
    command.envs(env.iter().copied());
    let (mut child, base): (Child, String) = common::spawn_serve(command, dir);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body: Value = agent
        .get(format!("{base}/v1/auth/lockouts"))
        .header("Authorization", format!("Bearer {admin}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    body["policy"].clone()
}

#[test]
fn lockout_settings_reach_the_server_and_weak_ones_need_a_danger_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir = dir.to_str().unwrap();
    let init = evident()
        .args(["init", "--data-dir", dir])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = evident()
        .args(["apikey", "create", "--data-dir", dir, "--role", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // PCI DSS 8.3.4: at most 10 attempts, at least 30 minutes
    refuses(
        dir,
        &["--lockout-max-attempts", "11"],
        None,
        "PCI DSS 8.3.4",
    );
    refuses(
        dir,
        &["--lockout-max-attempts", "0"],
        None,
        "--danger-weak-lockout",
    );
    refuses(dir, &["--lockout-duration", "10m"], None, "30 minutes");
    refuses(dir, &["--lockout-duration", "soon"], None, "not a duration");
    let config = tmp.path().join("evident.toml");
    let c = config.to_str().unwrap();
    std::fs::write(&config, "[lockout]\nmax_attempts = 25\n").unwrap();
    refuses(dir, &[], Some(c), "PCI DSS 8.3.4");
    std::fs::write(&config, "[lockout]\nmax_attemps = 5\n").unwrap();
    refuses(dir, &[], Some(c), "unknown field");

    // the defaults are PCI's
    let policy = served_policy(dir, &admin, None, &[]);
    assert_eq!(policy["max_attempts"], 10);
    assert_eq!(policy["duration_seconds"], 1800);
    assert_eq!(policy["address_max_attempts"], 50);
    assert_eq!(policy["weaker_than_pci"], false);

    // the configuration file, and the environment over it
    std::fs::write(
        &config,
        "[lockout]\nmax_attempts = 5\nduration = \"2h\"\naddress_max_attempts = 0\nmax_tracked = 1000\n",
    )
    .unwrap();
    let policy = served_policy(dir, &admin, Some(c), &[]);
    assert_eq!(policy["max_attempts"], 5);
    assert_eq!(policy["duration_seconds"], 7200);
    assert_eq!(policy["address_max_attempts"], 0);
    assert_eq!(policy["max_tracked"], 1000);
    let env = [("EVIDENT_LOCKOUT_DURATION", "3600")];
    assert_eq!(
        served_policy(dir, &admin, Some(c), &env)["duration_seconds"],
        3600
    );

    // weaker than PCI only when asked for by name
    std::fs::write(
        &config,
        "[lockout]\nmax_attempts = 0\nduration = 60\ndanger_weaker_than_pci = true\n",
    )
    .unwrap();
    let policy = served_policy(dir, &admin, Some(c), &[]);
    assert_eq!(policy["max_attempts"], 0);
    assert_eq!(policy["duration_seconds"], 60);
    assert_eq!(policy["weaker_than_pci"], true);
}
