//! `evident policy` and `evident access` as CI scripts and operators meet them: exit codes,
//! diagnostics, policy tests, reviews and break-glass.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn evident(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .env("USER", "operator-one")
        .output()
        .unwrap()
}

fn run(args: &[&str], code: i32) -> (String, String) {
    let out = evident(args);
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

#[test]
fn policy_test_passes_the_interop_tables_and_fails_loudly_on_a_mismatch() {
    let pack = repo().join("policies/interop");
    let pack = pack.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    for table in ["todo-decisions.json", "gateway-decisions.json"] {
        let cases = repo().join("../shared/conformance/authzen").join(table);
        let (out, _) = run(
            &["policy", "test", cases.to_str().unwrap(), "--pack", pack],
            0,
        );
        assert!(out.contains("0 failed"), "{out}");
    }
    // a wrong expectation: exit 1, the case printed with what came back
    let cases = dir.path().join("cases.json");
    std::fs::write(
        &cases,
        json!([
            {"name": "viewer reads todos", "expected": "allow", "request": {
                "subject": {"type": "user", "id": "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
                "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}}},
            {"name": "viewer deletes todos", "expected": true, "request": {
                "subject": {"type": "user", "id": "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
                "action": {"name": "can_delete_todo"}, "resource": {"type": "todo", "id": "1", "properties": {"ownerID": "x"}}}},
            {"name": "unknown action", "expected": false, "request": {
                "subject": {"type": "user", "id": "a"}, "action": {"name": "fly"}, "resource": {"type": "todo", "id": "1"}}}
        ])
        .to_string(),
    )
    .unwrap();
    let (out, _) = run(
        &["policy", "test", cases.to_str().unwrap(), "--pack", pack],
        1,
    );
    assert!(
        out.contains("FAIL viewer deletes todos: expected true, got false"),
        "{out}"
    );
    assert!(out.contains("FAIL unknown action: error"), "{out}");
    assert!(out.contains("1 passed, 2 failed"), "{out}");
    // against the active version of a data directory
    run(
        &[
            "policy",
            "test",
            cases.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        2,
    );
    run(&["policy", "apply", pack, "--data-dir", data], 0);
    run(
        &[
            "policy",
            "test",
            cases.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        1,
    );
    // malformed cases file
    std::fs::write(&cases, "{\"evaluation\": [{\"request\": {}}]}").unwrap();
    let (_, err) = run(
        &["policy", "test", cases.to_str().unwrap(), "--pack", pack],
        2,
    );
    assert!(err.contains("expected"), "{err}");
}

#[test]
fn apply_show_history_rollback_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let default = repo().join("policies/default");
    let (out, _) = run(
        &[
            "policy",
            "apply",
            default.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        0,
    );
    assert!(out.contains("version 1 is active"), "{out}");
    // a broken copy: exit 2, file:line:col, the active version stays
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    for entry in std::fs::read_dir(&default).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), broken.join(entry.file_name())).unwrap();
    }
    std::fs::write(
        broken.join("extra.cedar"),
        "permit (principal, action, resource)\nwhen { principal.department == };\n",
    )
    .unwrap();
    let (_, err) = run(
        &[
            "policy",
            "apply",
            broken.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        2,
    );
    assert!(err.contains("extra.cedar:2:"), "{err}");
    std::fs::write(broken.join("extra.cedar"), "@id(\"typo\")\npermit (principal is User, action == Action::\"read\", resource is Document) when { principal.departmnt == \"x\" };\n").unwrap();
    let (_, err) = run(
        &[
            "policy",
            "apply",
            broken.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        2,
    );
    assert!(err.contains("did you mean `department`"), "{err}");
    // dry run of a valid change shows the diff and stores nothing
    std::fs::write(broken.join("extra.cedar"), "@id(\"service-list\")\npermit (principal is Service, action == Action::\"list\", resource is Document);\n").unwrap();
    let (out, _) = run(
        &[
            "policy",
            "apply",
            broken.to_str().unwrap(),
            "--data-dir",
            data,
            "--dry-run",
        ],
        0,
    );
    assert!(out.contains("+service-list"), "{out}");
    let (out, _) = run(&["policy", "history", "--data-dir", data, "--json"], 0);
    assert_eq!(out.lines().count(), 1);
    run(
        &[
            "policy",
            "apply",
            broken.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        0,
    );
    let (out, _) = run(&["policy", "rollback", "1", "--data-dir", data], 0);
    assert!(out.contains("version 3 is active"), "{out}");
    assert!(out.contains("-service-list"), "{out}");
    let (out, _) = run(&["policy", "history", "--data-dir", data, "--json"], 0);
    let versions: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0]["hash"], versions[2]["hash"]);
    assert_eq!(versions[2]["active"], json!(true));
    assert_eq!(versions[2]["applied_by"], json!("cli:operator-one"));
    let out_dir = dir.path().join("shown");
    run(
        &[
            "policy",
            "show",
            "2",
            "--data-dir",
            data,
            "--out",
            out_dir.to_str().unwrap(),
        ],
        0,
    );
    assert!(out_dir.join("extra.cedar").exists());
    run(&["policy", "show", "9", "--data-dir", data], 2);
    run(&["policy", "rollback", "9", "--data-dir", data], 2);
    // the log still verifies
    run(&["log", "verify", "--data-dir", data], 0);
}

#[test]
fn break_glass_and_access_review_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    run(
        &[
            "policy",
            "apply",
            repo().join("policies/default").to_str().unwrap(),
            "--data-dir",
            data,
        ],
        0,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        json!({
            "subject": {"type": "User", "id": "dave"},
            "action": {"name": "read"},
            "resource": {"type": "PatientRecord", "id": "pr-1001"},
            "context": {"authn": {"mfa": true, "auth_time": now}, "break_glass": true,
                        "justification": "stroke patient, neurology chart needed"}
        })
        .to_string(),
    )
    .unwrap();
    let (out, _) = run(
        &[
            "access",
            "evaluate",
            request.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        0,
    );
    assert!(out.contains("\"decision\": true"), "{out}");
    let (out, _) = run(
        &[
            "access",
            "break-glass",
            "list",
            "--data-dir",
            data,
            "--json",
        ],
        0,
    );
    let open: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let id = open["id"].as_str().unwrap();
    let (_, err) = run(
        &[
            "access",
            "break-glass",
            "review",
            id,
            "--data-dir",
            data,
            "--outcome",
            "approved",
            "--note",
            "ok",
            "--reviewer",
            "dave",
        ],
        2,
    );
    assert!(err.contains("second person"), "{err}");
    run(
        &[
            "access",
            "break-glass",
            "review",
            id,
            "--data-dir",
            data,
            "--outcome",
            "violation",
            "--note",
            "no emergency on record",
        ],
        0,
    );
    let (out, _) = run(&["access", "break-glass", "list", "--data-dir", data], 0);
    assert!(out.contains("no open break-glass reviews"), "{out}");
    let csv = dir.path().join("review.csv");
    let (_, err) = run(
        &[
            "access",
            "review",
            "--data-dir",
            data,
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
        0,
    );
    assert!(err.contains("the review is in the ledger"), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("scope,principal,action,resource_type,resource"));
    assert!(
        text.contains("regulated,\"User::\"\"dave\"\"\",read,PatientRecord"),
        "{text}"
    );
}

#[test]
fn the_access_benchmark_refuses_a_load_it_cannot_offer() {
    for (flag, value) in [
        ("--rate", "0"),
        ("--clients", "0"),
        ("--seconds", "0"),
        ("--rate", "ten"),
    ] {
        let (stdout, stderr) = run(&["bench", "access", "--http-only", flag, value], 2);
        assert!(stdout.is_empty(), "{flag} {value}: nothing runs\n{stdout}");
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '{flag}")),
            "{flag} {value}: {stderr}"
        );
    }
}
