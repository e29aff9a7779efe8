//! `evident scan`, `redact`, `hook` and `lsp` as users and editors meet them: exit codes,
//! output formats, baselines, git's staging area, a line-buffered pipeline, and an LSP client
//! speaking JSON-RPC over stdio.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "536-22-1234";
const TOKEN: &str = "ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP";

fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evident"));
    c.current_dir(dir)
        .env("EVIDENT_FINGERPRINT_KEY", KEY)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("EVIDENT_RULES");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    cmd(dir).args(args).output().unwrap()
}

fn run_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = cmd(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/pay.py"),
        format!("# refund\nTEST_CARD = \"{CARD}\"\n"),
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), format!("line one\nssn {SSN}\n")).unwrap();
    std::fs::write(root.join(".env"), format!("GITHUB_TOKEN={TOKEN}\n")).unwrap();
    std::fs::write(root.join("clean.md"), "nothing to see\n").unwrap();
    std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
    std::fs::create_dir_all(root.join("build")).unwrap();
    std::fs::write(root.join("build/out.txt"), format!("{CARD}\n")).unwrap();
    std::fs::write(root.join("image.bin"), b"\x00\x01\x02 4111111111111111").unwrap();
    dir
}

#[test]
fn scan_reports_json_lines_with_offsets_and_no_raw_values() {
    let dir = tree();
    let out = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = json_lines(&out);
    let mut seen: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["entity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (".env", "secret"),
            ("notes.txt", "ssn"),
            ("src/pay.py", "card")
        ]
        .map(|(p, e)| (p.to_owned(), e.to_owned()))
        .to_vec(),
        "gitignored build/ and the binary file are skipped"
    );
    for f in &findings {
        for field in [
            "rule",
            "entity",
            "path",
            "line",
            "start",
            "end",
            "masked",
            "fingerprint",
        ] {
            assert!(f.get(field).is_some(), "{field} missing in {f}");
        }
        let content = std::fs::read(dir.path().join(f["path"].as_str().unwrap())).unwrap();
        let value =
            &content[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize];
        assert!(
            [CARD, SSN, TOKEN].contains(&std::str::from_utf8(value).unwrap()),
            "offsets point at the value"
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for raw in [CARD, SSN, TOKEN, "4111111111111111"] {
        assert!(!text.contains(raw), "output holds {raw}");
    }
    let card = findings.iter().find(|f| f["entity"] == "card").unwrap();
    assert_eq!(card["masked"], "411111******1111");
    assert_eq!(card["line"], 2);
}

#[test]
fn exit_codes_clean_findings_error() {
    let dir = tree();
    let clean = run(dir.path(), &["scan", "clean.md"]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(
        run(dir.path(), &["scan", "notes.txt"]).status.code(),
        Some(1)
    );
    let missing = run(dir.path(), &["scan", "no-such-dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-dir"));
    let bad_entity = run(dir.path(), &["scan", ".", "--entity", "pii"]);
    assert_eq!(bad_entity.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_entity.stderr).contains("unknown entity `pii`"));
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nid = 'x'\nentity = 'secret'\nregex = '(unclosed'\n",
    )
    .unwrap();
    let bad_rules = run(dir.path(), &["scan", ".", "--rules", "bad.toml"]);
    assert_eq!(bad_rules.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_rules.stderr).contains("rule `x`"));
    let bad_key = cmd(dir.path())
        .args(["scan", "clean.md"])
        .env("EVIDENT_FINGERPRINT_KEY", "zz")
        .output()
        .unwrap();
    assert_eq!(bad_key.status.code(), Some(2));
}

#[test]
fn stdin_and_entity_filter() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_stdin(
        dir.path(),
        &["scan", "-", "--format", "json", "--entity", "email"],
        &format!("mail a@example.com card {CARD}\n"),
    );
    let findings = json_lines(&out);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["entity"], "email");
    assert_eq!(findings[0]["path"], "-");
}

#[test]
fn baseline_accepts_known_findings_only() {
    let dir = tree();
    let baseline = run(dir.path(), &["scan", ".", "--format", "json"]);
    std::fs::write(dir.path().join("baseline.jsonl"), &baseline.stdout).unwrap();
    let again = run(dir.path(), &["scan", ".", "--baseline", "baseline.jsonl"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("3 accepted by the baseline"));
    std::fs::write(dir.path().join("new.txt"), "card 5555 5555 5555 4444\n").unwrap();
    let new = run(
        dir.path(),
        &[
            "scan",
            ".",
            "--baseline",
            "baseline.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(new.status.code(), Some(1));
    let findings = json_lines(&new);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "new.txt");
    std::fs::write(dir.path().join("broken.jsonl"), "{not json\n").unwrap();
    let broken = run(dir.path(), &["scan", ".", "--baseline", "broken.jsonl"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken.jsonl:1"));
}

/// SARIF output validated against the official SARIF 2.1.0 schema. CI fetches the schema
/// (`.ci/run` sets EVIDENT_SARIF_SCHEMA) and has Python's `jsonschema`; a local run without
/// them says so loudly, and under CI the test fails instead.
#[test]
fn sarif_is_valid_against_the_schema() {
    let dir = tree();
    let out = run(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results
        .iter()
        .all(|r| r["partialFingerprints"]["evident/hmac/v1"].is_string()));
    let Some(schema) = std::env::var_os("EVIDENT_SARIF_SCHEMA") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set EVIDENT_SARIF_SCHEMA"
        );
        eprintln!("SKIPPED schema validation: EVIDENT_SARIF_SCHEMA is not set (see .ci/run)");
        return;
    };
    let sarif_path = dir.path().join("out.sarif");
    std::fs::write(&sarif_path, &out.stdout).unwrap();
    let check = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\nlog=json.load(open(sys.argv[2]))\n\
             cls=jsonschema.validators.validator_for(schema)\nerrors=list(cls(schema).iter_errors(log))\n\
             [print(e.message, list(e.path)) for e in errors]\nsys.exit(1 if errors else 0)",
        ])
        .arg(&schema)
        .arg(&sarif_path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF does not validate: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn gitleaks_rules_import_as_is() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gitleaks.toml"),
        "[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = [\"acme_\"]\n\
         [[rules]]\nid = \"p12\"\npath = '''\\.p12$'''\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.cfg"), "token: acme_q8k2m9x7v4t1b5n0\n").unwrap();
    let out = run(
        dir.path(),
        &[
            "scan",
            "app.cfg",
            "--no-builtin",
            "--gitleaks",
            "gitleaks.toml",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = json_lines(&out);
    assert_eq!(findings[0]["rule"], "acme");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("path-only"),
        "skipped rules are reported"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pre_commit_hook_blocks_staged_secrets_not_unstaged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    let install = run(root, &["hook", "install"]);
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert!(root.join(".git/hooks/pre-commit").exists());

    std::fs::write(root.join("ok.txt"), "fine\n").unwrap();
    git(root, &["add", "ok.txt"]);
    let staged = run(root, &["scan", "--staged", "--format", "json"]);
    assert_eq!(
        staged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&staged.stderr)
    );
    // A secret in the working copy but not staged is not what the commit records.
    std::fs::write(root.join("ok.txt"), format!("fine\n{TOKEN}\n")).unwrap();
    assert_eq!(run(root, &["scan", "--staged"]).status.code(), Some(0));

    std::fs::write(root.join("leak.py"), format!("KEY = \"{TOKEN}\"\n")).unwrap();
    git(root, &["add", "leak.py"]);
    let blocked = Command::new("git")
        .current_dir(root)
        .args(["commit", "-q", "-m", "leak"])
        .env("EVIDENT_FINGERPRINT_KEY", KEY)
        .env("HOME", root)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(!blocked.status.success(), "the hook must block the commit");
    // git runs hooks with their stdout sent to its stderr.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&blocked.stdout),
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(said.contains("leak.py:1:"), "{said}");
    assert!(!said.contains(TOKEN));

    std::fs::write(root.join(".git/hooks/pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    assert_eq!(
        run(root, &["hook", "install"]).status.code(),
        Some(2),
        "a foreign hook is not replaced"
    );
    assert!(run(root, &["hook", "install", "--force"]).status.success());
    assert!(run(root, &["hook", "uninstall"]).status.success());
    assert!(!root.join(".git/hooks/pre-commit").exists());
}

#[test]
fn redact_is_a_line_buffered_filter() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(dir.path())
        .args(["redact", "--mode", "remove"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Each line comes back before the next is written: the filter does not wait for EOF.
    for (input, expected) in [
        (
            format!("paid with {CARD}\n"),
            "paid with [REDACTED:card]\n".to_owned(),
        ),
        (
            format!("ssn={SSN} token={TOKEN}\n"),
            "ssn=[REDACTED:ssn] token=[REDACTED:secret]\n".to_owned(),
        ),
        ("plain line\n".to_owned(), "plain line\n".to_owned()),
    ] {
        stdin.write_all(input.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, expected);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());

    let masked = run_stdin(dir.path(), &["redact"], &format!("{CARD}\n"));
    assert_eq!(
        String::from_utf8_lossy(&masked.stdout),
        "411111******1111\n"
    );
    let pseudo = run_stdin(
        dir.path(),
        &["redact", "--mode", "pseudonym"],
        &format!("{CARD}\n4111-1111-1111-1111\n"),
    );
    let lines: Vec<String> = String::from_utf8_lossy(&pseudo.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines[0], lines[1], "same value and key, same pseudonym");
    assert!(lines[0].starts_with("[card:"));
}

fn lsp_send(stdin: &mut impl Write, message: &Value) {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    stdin.flush().unwrap();
}

fn lsp_read(stdout: &mut impl BufRead) -> Value {
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        assert!(
            stdout.read_line(&mut header).unwrap() > 0,
            "server closed stdout"
        );
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(n) = header.strip_prefix("Content-Length: ") {
            length = n.parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stdout.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn next_diagnostics(stdout: &mut impl BufRead) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "no diagnostics published");
        let message = lsp_read(stdout);
        if message["method"] == "textDocument/publishDiagnostics" {
            return message["params"].clone();
        }
    }
}

#[test]
fn lsp_publishes_diagnostics_for_open_documents() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(dir.path())
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": null, "rootUri": null}}),
    );
    let init = lsp_read(&mut stdout);
    assert_eq!(init["id"], 1);
    assert_eq!(
        init["result"]["capabilities"]["textDocumentSync"]["change"],
        1
    );
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );

    let uri = "file:///project/app.py";
    let text = format!("# é😀\nKEY = \"{TOKEN}\"\n");
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}}),
    );
    let published = next_diagnostics(&mut stdout);
    assert_eq!(published["uri"], uri);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "github-token");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 1, "character": 7})
    );
    assert_eq!(
        diagnostics[0]["range"]["end"],
        json!({"line": 1, "character": 47})
    );
    assert!(
        !published.to_string().contains(TOKEN),
        "diagnostics never carry the value"
    );

    let edited = format!("card = \"{CARD}\"\nssn = \"{SSN}\"\n");
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}}),
    );
    let published = next_diagnostics(&mut stdout);
    let codes: Vec<&str> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["card-number", "us-ssn"]);
    assert_eq!(published["version"], 2);

    // A malformed notification is ignored and the server keeps serving.
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 5}}),
    );
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}}),
    );
    let cleared = next_diagnostics(&mut stdout);
    assert_eq!(cleared["diagnostics"], json!([]));

    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {}}),
    );
    let unknown = lsp_read(&mut stdout);
    assert_eq!(unknown["error"]["code"], -32601);
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}),
    );
    assert_eq!(lsp_read(&mut stdout)["id"], 3);
    lsp_send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn rule_files_come_from_flags_env_or_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        "[[rule]]\nid = 'acme-token'\nentity = 'secret'\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = ['acme_']\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.cfg"),
        "client id acme_q8k2m9x7v4t1b5n0\n",
    )
    .unwrap();
    let rule_of = |out: &Output| {
        json_lines(out)
            .first()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
    };
    let by_flag = run(
        dir.path(),
        &[
            "scan",
            "app.cfg",
            "--format",
            "json",
            "--rules",
            "acme.toml",
        ],
    );
    assert_eq!(rule_of(&by_flag).as_deref(), Some("acme-token"));
    let by_env = cmd(dir.path())
        .args(["scan", "app.cfg", "--format", "json"])
        .env("EVIDENT_RULES", "acme.toml")
        .output()
        .unwrap();
    assert_eq!(rule_of(&by_env).as_deref(), Some("acme-token"));
    std::fs::write(dir.path().join("evident.toml"), "rules = [\"acme.toml\"]\n").unwrap();
    let by_file = run(
        dir.path(),
        &[
            "scan",
            "app.cfg",
            "--format",
            "json",
            "--config",
            "evident.toml",
        ],
    );
    assert_eq!(rule_of(&by_file).as_deref(), Some("acme-token"));
    let without = run(dir.path(), &["scan", "app.cfg", "--format", "json"]);
    assert_eq!(
        without.status.code(),
        Some(0),
        "the built-in rules alone find nothing here"
    );
}
