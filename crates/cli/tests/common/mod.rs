//! Helpers the CLI integration tests share.

#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "test helpers; not every test uses each"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts `evident serve` with `command`'s extra arguments and environment, listening on a
/// free loopback port; answers the child and the base URL it printed (`http(s)://…`).
pub fn spawn_serve(mut command: Command, data_dir: &str) -> (Child, String) {
    let mut child = command
        .args(["serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"))
        .to_owned();
    (child, base)
}

/// `evident` with stderr discarded and `--quiet`.
pub fn quiet_evident() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evident"));
    c.arg("--quiet").stderr(Stdio::null());
    c
}

/// Runs `evident ARGS --data-dir DIR` as the operator `operator-one`, with `envs` set and no
/// root key from the caller's environment; asserts the exit code and answers (stdout, stderr).
pub fn run_evident(
    dir: &std::path::Path,
    args: &[&str],
    code: i32,
    envs: &[(&str, &str)],
) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .env("USER", "operator-one")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// How many entries the log of `dir` holds (up to 1000), asked with `envs` set.
pub fn log_size(dir: &std::path::Path, envs: &[(&str, &str)]) -> usize {
    let (out, _) = run_evident(dir, &["log", "query", "--limit", "1000"], 0, envs);
    out.lines().count()
}
