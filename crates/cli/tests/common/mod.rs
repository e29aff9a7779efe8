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
