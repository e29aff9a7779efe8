//! `evident controls` as operators and CI scripts meet it: exit codes, refusals that store
//! nothing, coverage tables, history periods and importing an OSCAL profile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    common::run_evident(dir, args, code, &[])
}

fn log_size(dir: &Path) -> usize {
    common::log_size(dir, &[])
}

#[test]
fn check_status_history_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    let pack = repo().join("policies/default");
    run(&dir, &["policy", "apply", pack.to_str().unwrap()], 0);

    // Passing controls exit 0; the runs are JSON lines with their ledger index.
    let (out, _) = run(
        &dir,
        &["controls", "check", "EV-AC-01", "EV-AC-02", "--json"],
        0,
    );
    let runs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 2);
    assert!(runs
        .iter()
        .all(|r| r["verdict"] == "pass" && r["index"].as_u64().is_some()));
    // A failing control exits 1 and says what to change.
    let (out, err) = run(&dir, &["controls", "check", "EV-OPS-01"], 1);
    assert!(out.contains("to fix:"), "{out}");
    assert!(err.contains("EV-OPS-01"), "{err}");

    let (out, _) = run(&dir, &["controls", "status"], 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("EV-AC-01") && l.contains("pass")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("EV-AC-05")
            && l.contains("never checked")
            && l.contains("overdue")),
        "{out}"
    );

    let (out, _) = run(
        &dir,
        &[
            "controls",
            "history",
            "EV-AC-01",
            "--from",
            "2020-01-01",
            "--json",
        ],
        0,
    );
    assert_eq!(out.lines().count(), 1);
    let (out, _) = run(
        &dir,
        &[
            "controls",
            "history",
            "EV-AC-01",
            "--from",
            "2020-01-01",
            "--to",
            "2020-12-31",
        ],
        0,
    );
    assert!(out.is_empty());

    // Refusals: exit 2, a clear message, nothing appended.
    let before = log_size(&dir);
    let (_, err) = run(&dir, &["controls", "check", "EV-AC-01", "EV-NOPE"], 2);
    assert!(err.contains("no control `EV-NOPE`"), "{err}");
    let (_, err) = run(
        &dir,
        &[
            "controls",
            "history",
            "EV-AC-01",
            "--from",
            "2026-06-30",
            "--to",
            "2026-01-01",
        ],
        2,
    );
    assert!(err.contains("at or after"), "{err}");
    let (_, err) = run(
        &dir,
        &["controls", "history", "EV-AC-01", "--from", "2026-13-01"],
        2,
    );
    assert!(err.contains("--from `2026-13-01`"), "{err}");
    let (_, err) = run(
        &dir,
        &["controls", "history", "EV-AC-01", "--to", "9999-12-31"],
        2,
    );
    assert!(err.contains("last date"), "{err}");
    std::fs::create_dir_all(dir.join("controls")).unwrap();
    std::fs::write(
        dir.join("controls/ours.toml"),
        "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"1d\"\nframeworks = { hipaa = [\"164.999\"] }\n",
    )
    .unwrap();
    for verb in [
        vec!["controls", "check"],
        vec!["controls", "status"],
        vec!["controls", "list"],
        vec!["controls", "coverage", "--framework", "hipaa"],
    ] {
        let (_, err) = run(&dir, &verb, 2);
        assert!(
            err.contains("ours.toml:8") && err.contains("`164.999`"),
            "{verb:?}: {err}"
        );
    }
    std::fs::remove_file(dir.join("controls/ours.toml")).unwrap();
    assert_eq!(log_size(&dir), before, "nothing was appended");
}

#[test]
fn coverage_names_gaps_and_import_adds_a_framework() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    let (out, _) = run(
        &dir,
        &["controls", "coverage", "--framework", "nist-800-53"],
        0,
    );
    assert!(out.contains("287 requirements:"), "{out}");
    assert!(out.contains("gap 0 (0%)"), "{out}");
    assert!(!out.contains("\ngaps:"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("IA-2(1)") && l.contains("automated") && l.contains("EV-AC-01")),
        "{out}"
    );
    let (out, _) = run(
        &dir,
        &["controls", "coverage", "--framework", "soc2", "--gaps"],
        0,
    );
    assert!(out.contains("gaps: ") && out.contains("PI1.1"), "{out}");
    let (_, err) = run(
        &dir,
        &["controls", "coverage", "--framework", "iso27001"],
        2,
    );
    assert!(err.contains("no framework `iso27001`"), "{err}");

    // An organisation's own profile: a handful of Moderate controls.
    let profile = tmp.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"profile": {"uuid": "0f1e2d3c-4b5a-4968-8776-655443322110",
            "metadata": {"title": "Acme tailored baseline", "last-modified": "2026-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
            "imports": [{"href": "https://example.invalid/catalog.json",
                         "include-controls": [{"with-ids": ["ac-2", "ia-2.1", "pe-3", "cp-9.1"]}]}]}}"#,
    )
    .unwrap();
    let (out, _) = run(
        &dir,
        &[
            "controls",
            "import",
            profile.to_str().unwrap(),
            "--name",
            "acme",
        ],
        0,
    );
    assert!(out.contains("4 controls and enhancements"), "{out}");
    let (out, _) = run(
        &dir,
        &["controls", "coverage", "--framework", "acme", "--json"],
        0,
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1]["requirement"], "IA-2(1)");
    assert_eq!(
        rows[1]["title"],
        "Multi-factor Authentication to Privileged Accounts"
    );
    // Its ids are 800-53's: Evident's mappings and dispositions count for it.
    assert_eq!(rows[1]["controls"][0], "EV-AC-01");
    assert_eq!(rows[1]["class"], "automated");
    assert_eq!(
        rows[2]["class"], "manual",
        "PE-3 by its shipped disposition"
    );
    let (_, err) = run(
        &dir,
        &[
            "controls",
            "import",
            profile.to_str().unwrap(),
            "--name",
            "acme",
        ],
        2,
    );
    assert!(err.contains("--replace"), "{err}");
    let (_, err) = run(
        &dir,
        &[
            "controls",
            "import",
            profile.to_str().unwrap(),
            "--name",
            "hipaa",
            "--replace",
        ],
        2,
    );
    assert!(err.contains("cannot be replaced"), "{err}");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"catalog\": {\"metadata\": {}}}").unwrap();
    let (_, err) = run(
        &dir,
        &["controls", "import", bad.to_str().unwrap(), "--name", "bad"],
        2,
    );
    assert!(err.contains("not an OSCAL"), "{err}");
    assert!(!dir.join("controls/frameworks/bad.json").exists());
    let (out, _) = run(
        &dir,
        &["log", "query", "--action", "controls.framework.imported"],
        0,
    );
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn the_tls_check_probes_the_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    run(&dir, &["init", "--tls"], 0);
    let mut command = Command::new(env!("CARGO_BIN_EXE_evident"));
    command.env_remove("EVIDENT_DATA_DIR").arg("--quiet");
    let (mut child, base) = common::spawn_serve(command, d);
    let endpoint = base
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    // A listener that is not TLS at all.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_addr = plain.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in plain.incoming().take(5) {
            drop(stream);
        }
    });
    std::fs::create_dir_all(dir.join("controls")).unwrap();
    std::fs::write(
        dir.join("controls/tls.toml"),
        format!(
            "[[control]]\nid = \"T-TLS\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"tls.protocols\"\ncadence = \"1d\"\nparams = {{ endpoint = \"{endpoint}\" }}\n\n[[control]]\nid = \"T-PLAIN\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"tls.protocols\"\ncadence = \"1d\"\nparams = {{ endpoint = \"{plain_addr}\" }}\n"
        ),
    )
    .unwrap();
    let (out, _) = run(
        &dir,
        &["controls", "check", "T-TLS", "EV-CRY-03", "--json"],
        0,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let runs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tls = &runs[0]["observed"];
    assert_eq!(tls["TLSv1.3"]["accepted"], true, "{tls}");
    assert_eq!(tls["TLSv1.2"]["accepted"], true, "{tls}");
    for old in ["TLSv1.0", "TLSv1.1", "TLSv1.2 without AEAD"] {
        assert_eq!(tls[old]["accepted"], false, "{old}: {tls}");
    }
    assert_eq!(
        runs[1]["verdict"], "pass",
        "the certificate `init --tls` wrote"
    );
    let (out, _) = run(&dir, &["controls", "check", "T-PLAIN", "--json"], 1);
    let plain: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(plain["verdict"], "fail", "{plain}");
    assert!(
        plain["reason"]
            .as_str()
            .unwrap()
            .contains("no TLS handshake"),
        "{plain}"
    );
}

#[test]
fn serve_refuses_a_scheduler_interval_out_of_range() {
    let tmp = tempfile::tempdir().unwrap();
    for interval in ["0", "2d", "soon"] {
        let (_, stderr) = run(
            tmp.path(),
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--controls-interval",
                interval,
            ],
            2,
        );
        assert!(stderr.contains("--controls-interval"), "{stderr}");
    }
    // The configuration file's key reaches the same setting.
    let config = tmp.path().join("evident.toml");
    std::fs::write(
        &config,
        "controls_interval = \"0s\"\ncontrols_schedule = true\n",
    )
    .unwrap();
    let (_, stderr) = run(
        tmp.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
        2,
    );
    assert!(stderr.contains("--controls-interval"), "{stderr}");
}

#[test]
fn serve_runs_the_due_checks_on_its_own_and_an_auditor_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir_s = dir.to_str().unwrap();
    run(&dir, &["init"], 0);
    let (token, _) = run(
        &dir,
        &["apikey", "create", "--role", "auditor", "--quiet"],
        0,
    );
    let auditor = token.trim().to_string();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_evident"));
    // The interval from the environment, as a service manager would set it.
    serve
        .env("EVIDENT_CONTROLS_INTERVAL", "1s")
        .env("EVIDENT_OPERATOR", "scheduler-test")
        .stderr(std::process::Stdio::null());
    let (mut child, base) = common::spawn_serve(serve, dir_s);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let checked = loop {
        let status: Value = agent
            .get(format!("{base}/v1/controls/status"))
            .header("Authorization", format!("Bearer {auditor}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        let checked: Vec<String> = status["controls"]
            .as_array()
            .unwrap_or_else(|| panic!("not a status: {status}"))
            .iter()
            .filter(|c| c["runs"].as_u64() > Some(0))
            .map(|c| c["control"].as_str().unwrap().to_string())
            .collect();
        if !checked.is_empty() {
            break checked;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler ran no check"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(checked.iter().any(|c| c == "EV-LOG-03"), "{checked:?}");
    // The auditor may not run checks itself.
    let refused = agent
        .post(format!("{base}/v1/controls/check"))
        .header("Authorization", format!("Bearer {auditor}"))
        .send_empty()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    child.kill().unwrap();
    child.wait().unwrap();
}
