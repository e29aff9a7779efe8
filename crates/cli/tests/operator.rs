//! Every operator action from the command line has a unique, real actor (HIPAA
//! 164.312(a)(2)(i), SOC 2 CC6.1): `--operator`, `EVIDENT_OPERATOR`, `$USER`, or the account
//! of the process's user id when the environment names nobody — never `cli:unknown`; and a
//! privileged verb refuses to run with no name unless `--danger-anonymous-operator`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `evident` with no operator in the environment at all.
fn bare_evident(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_evident"));
    command
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("EVIDENT_OPERATOR")
        .env_remove("EVIDENT_CONFIG")
        .env("EVIDENT_DATA_DIR", data);
    command
}

fn run(mut command: Command, args: &[&str]) -> Output {
    command.args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `created_by` of every `evident.apikey.created` event in the log.
fn key_creators(data: &Path) -> Vec<String> {
    let out = run(
        bare_evident(data),
        &["log", "query", "--action", "evident.apikey.created"],
    );
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            event["event"]["metadata"]["created_by"]
                .as_str()
                .unwrap_or_else(|| panic!("no created_by in {line}"))
                .to_owned()
        })
        .collect()
}

fn init(data: &Path) {
    let out = run(bare_evident(data), &["init", "--quiet"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_operator_comes_from_the_flag_the_environment_or_the_account() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);

    // No $USER, no $LOGNAME (containers, cron, CI): the account of the user id.
    let account = Command::new("id").arg("-un").output().unwrap();
    let account = String::from_utf8(account.stdout).unwrap().trim().to_owned();
    let out = run(
        bare_evident(&data),
        &["apikey", "create", "--role", "reader"],
    );
    assert!(out.status.success(), "{}", text(&out));

    let mut with_user = bare_evident(&data);
    with_user.env("USER", "svc-deploy");
    let out = run(with_user, &["apikey", "create", "--role", "reader"]);
    assert!(out.status.success(), "{}", text(&out));

    let mut with_env = bare_evident(&data);
    with_env
        .env("USER", "svc-deploy")
        .env("EVIDENT_OPERATOR", "jane.ops");
    let out = run(with_env, &["apikey", "create", "--role", "reader"]);
    assert!(out.status.success(), "{}", text(&out));

    let mut with_flag = bare_evident(&data);
    with_flag.env("EVIDENT_OPERATOR", "jane.ops");
    let out = run(
        with_flag,
        &["apikey", "create", "--role", "reader", "--operator", "ali"],
    );
    assert!(out.status.success(), "{}", text(&out));

    let config = tmp.path().join("evident.toml");
    std::fs::write(&config, "operator = \"from-config\"\n").unwrap();
    let mut with_config = bare_evident(&data);
    with_config.env("EVIDENT_CONFIG", &config);
    let out = run(with_config, &["apikey", "create", "--role", "reader"]);
    assert!(out.status.success(), "{}", text(&out));

    assert_eq!(
        key_creators(&data),
        [
            format!("cli:{account}"),
            "cli:svc-deploy".into(),
            "cli:jane.ops".into(),
            "cli:ali".into(),
            "cli:from-config".into(),
        ]
    );
}

#[test]
fn a_malformed_operator_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    let out = run(
        bare_evident(&data),
        &[
            "apikey",
            "create",
            "--role",
            "reader",
            "--operator",
            "two words",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--operator must be"), "{}", text(&out));
    assert!(key_creators(&data).is_empty(), "nothing was created");
}

/// A user id with no account name (an arbitrary uid in a container): only root can start a
/// process as one, so elsewhere this says it was skipped (and fails under CI, which runs as
/// root).
#[test]
#[cfg(unix)]
fn privileged_verbs_refuse_an_anonymous_operator_unless_told_loudly() {
    use std::os::unix::process::CommandExt;

    const NOBODY_KNOWN: u32 = 54_321;
    let uid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .unwrap();
    if uid != "0" {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs as root and must run this test"
        );
        eprintln!("skipped: only root can run a process as an unnamed user id");
        return;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(
        !passwd
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&NOBODY_KNOWN.to_string())),
        "uid {NOBODY_KNOWN} must have no account here"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    for path in [tmp.path().to_path_buf(), data.clone()]
        .into_iter()
        .chain(std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()))
    {
        std::os::unix::fs::chown(&path, Some(NOBODY_KNOWN), Some(NOBODY_KNOWN)).unwrap();
    }
    // The checkout may sit under a directory only root can enter (a fresh clone in a 0700
    // temporary directory), so the unnamed user runs its own copy of the binary.
    let binary = tmp.path().join("evident");
    std::fs::copy(env!("CARGO_BIN_EXE_evident"), &binary).unwrap();
    std::os::unix::fs::chown(&binary, Some(NOBODY_KNOWN), Some(NOBODY_KNOWN)).unwrap();
    let anonymous = || {
        let mut command = Command::new(&binary);
        command
            .env_remove("USER")
            .env_remove("LOGNAME")
            .env_remove("EVIDENT_OPERATOR")
            .env_remove("EVIDENT_CONFIG")
            .env("EVIDENT_DATA_DIR", &data)
            .current_dir(tmp.path())
            .uid(NOBODY_KNOWN)
            .gid(NOBODY_KNOWN);
        command
    };

    let refused = run(anonymous(), &["apikey", "create", "--role", "reader"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("no operator identity could be established"),
        "{}",
        text(&refused)
    );
    let erase = run(anonymous(), &["log", "erase", "--subject", "someone"]);
    assert_eq!(erase.status.code(), Some(2), "{}", text(&erase));
    assert!(key_creators(&data).is_empty(), "nothing was created");

    let allowed = run(
        anonymous(),
        &[
            "apikey",
            "create",
            "--role",
            "reader",
            "--danger-anonymous-operator",
        ],
    );
    assert!(allowed.status.success(), "{}", text(&allowed));
    assert_eq!(key_creators(&data), [format!("cli:uid:{NOBODY_KNOWN}")]);

    // An ordinary verb still runs, recording the bare user id.
    let out = run(anonymous(), &["log", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
}
