//! `evident bench dsr` at CI size against the PostgreSQL at `EVIDENT_TEST_PG_URL` (skipped
//! loudly without it, a failure under `CI`): the verb loads its schema, prints every figure
//! next to its bare limits, and drops the schema, in seconds in a debug build.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::process::Command;

fn pg_url() -> Option<String> {
    match std::env::var("EVIDENT_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("EVIDENT_TEST_PG_URL is not set, and CI is: the DSR benchmark test must run")
        }
        _ => None,
    }
}

#[test]
fn bench_dsr_runs_at_ci_size_and_drops_its_schema() {
    let Some(url) = pg_url() else {
        eprintln!("SKIPPED: set EVIDENT_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run `evident bench dsr`");
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args([
            "bench",
            "dsr",
            "--rows",
            "20000",
            "--subjects",
            "20",
            "--bulk",
            "40",
        ])
        .env("EVIDENT_TEST_PG_URL", &url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        "Evident access (find + export as JSON)",
        "bare tokio-postgres, same SELECTs",
        "Evident erasure (strategies + verification)",
        "bare tokio-postgres, same statements",
        "erasure p99:",
        "Evident, one session",
        "bare tokio-postgres (the limit)",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains(&url), "the URL was printed");
    let schema = stdout
        .lines()
        .find_map(|l| l.strip_prefix("dropped schema "))
        .expect("the schema is dropped")
        .trim()
        .to_owned();
    let left = Command::new("psql")
        .args(["-X", "-At", "-d", &url, "-c"])
        .arg(format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"
        ))
        .output();
    if let Ok(left) = left {
        assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(["bench", "dsr", "--rows", "70", "--subjects", "5"])
        .env("EVIDENT_TEST_PG_URL", &url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("give more rows or fewer subjects"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
