//! `evident evidence …`, `controls except` and `controls diff` as an operator and a CI job
//! meet them: exit codes, refusals that keep nothing, the status lines, and the regression
//! gate over a saved `controls status --json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;

use serde_json::Value;

const DAY_US: i64 = 86_400_000_000;

mod common;

const ROOT: &[(&str, &str)] = &[("EVIDENT_ROOT_PASSPHRASE", "correct horse battery staple")];

fn run(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    common::run_evident(dir, args, code, ROOT)
}

fn log_size(dir: &Path) -> usize {
    common::log_size(dir, ROOT)
}

fn date_in(days: i64) -> String {
    evident::event::format_time(evident::event::now_us() + days * DAY_US)[..10].to_string()
}

#[test]
fn evidence_add_list_show_get_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    let review = tmp.path().join("q3-review.csv");
    std::fs::write(&review, "account,decision\nbob,keep\neve,remove\n").unwrap();
    let (out, _) = run(
        &dir,
        &[
            "evidence",
            "add",
            review.to_str().unwrap(),
            "--control",
            "EV-AC-07",
            "--reason",
            "Q3 access review",
            "--effective-from",
            &date_in(-40),
            "--effective-to",
            &date_in(-10),
            "--validity",
            "90d",
            "--json",
        ],
        0,
    );
    let added: Value = serde_json::from_str(out.trim()).unwrap();
    let id = added["evidence_id"].as_str().unwrap().to_string();
    assert_eq!(added["media_type"], "text/csv");
    assert_eq!(added["added_by"], "cli:operator-one");

    let (out, _) = run(&dir, &["evidence", "list", "--control", "EV-AC-07"], 0);
    assert!(out.contains(&id) && out.contains("current until"), "{out}");
    let (out, _) = run(&dir, &["evidence", "show", &id], 0);
    assert!(
        out.contains("Q3 access review") && out.contains("sha256"),
        "{out}"
    );
    let back = tmp.path().join("back.csv");
    run(
        &dir,
        &["evidence", "get", &id, "-o", back.to_str().unwrap()],
        0,
    );
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&review).unwrap()
    );
    // Never overwrites.
    run(
        &dir,
        &["evidence", "get", &id, "-o", back.to_str().unwrap()],
        2,
    );

    let (out, _) = run(&dir, &["controls", "status"], 0);
    let line = out.lines().find(|l| l.starts_with("EV-AC-07")).unwrap();
    assert!(line.contains("[evidence current until "), "{line}");
    let line = out.lines().find(|l| l.starts_with("EV-OPS-02")).unwrap();
    assert!(line.contains("[GAP: no evidence]"), "{line}");

    // Refusals: exit 2, nothing appended, nothing kept.
    let before = log_size(&dir);
    let (_, err) = run(
        &dir,
        &[
            "evidence",
            "add",
            review.to_str().unwrap(),
            "--control",
            "EV-NOPE",
        ],
        2,
    );
    assert!(err.contains("no control `EV-NOPE`"), "{err}");
    let big = tmp.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 1024 * 1024 + 1]).unwrap();
    let (_, err) = run(
        &dir,
        &[
            "evidence",
            "add",
            big.to_str().unwrap(),
            "--control",
            "EV-AC-07",
            "--max-size-mib",
            "1",
        ],
        2,
    );
    assert!(err.contains("size limit"), "{err}");
    run(
        &dir,
        &["evidence", "show", "evd-000000000000000000000000"],
        2,
    );
    assert_eq!(log_size(&dir), before);
    assert_eq!(std::fs::read_dir(dir.join("evidence")).unwrap().count(), 1);

    // A file altered on disk is refused with exit 1 and nothing written.
    let kept = dir.join(format!("evidence/{id}.enc"));
    let mut bytes = std::fs::read(&kept).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::remove_file(&kept).unwrap();
    std::fs::write(&kept, bytes).unwrap();
    let out_file = tmp.path().join("tampered.csv");
    run(
        &dir,
        &["evidence", "get", &id, "-o", out_file.to_str().unwrap()],
        1,
    );
    assert!(!out_file.exists());
}

#[test]
fn exceptions_show_in_the_status_and_diff_gates_regressions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    run(&dir, &["controls", "check", "EV-LOG-03"], 0);
    run(&dir, &["controls", "check", "EV-OPS-01"], 1);

    // Exceptions: your own approval, the past and over a year are refused.
    let until = date_in(30);
    let before = log_size(&dir);
    for (args, why) in [
        (
            vec!["--until", until.as_str(), "--approved-by", "operator-one"],
            "a second person approves",
        ),
        (
            vec!["--until", "2020-01-01", "--approved-by", "ciso"],
            "not in the future",
        ),
        (
            vec!["--until", "2999-01-01", "--approved-by", "ciso"],
            "365 days",
        ),
    ] {
        let mut all = vec!["controls", "except", "EV-OPS-01", "--reason", "migration"];
        all.extend(args);
        let (_, err) = run(&dir, &all, 2);
        assert!(err.contains(why), "{err}");
    }
    run(
        &dir,
        &[
            "controls",
            "except",
            "EV-NOPE",
            "--until",
            &until,
            "--reason",
            "x",
            "--approved-by",
            "ciso",
        ],
        2,
    );
    assert_eq!(log_size(&dir), before);
    let (out, _) = run(
        &dir,
        &[
            "controls",
            "except",
            "EV-OPS-01",
            "--until",
            &until,
            "--reason",
            "storage migration",
            "--approved-by",
            "ciso",
            "--json",
        ],
        0,
    );
    let granted: Value = serde_json::from_str(out.trim()).unwrap();
    let (out, _) = run(&dir, &["controls", "status"], 0);
    let line = out.lines().find(|l| l.starts_with("EV-OPS-01")).unwrap();
    assert!(line.contains("failing (excepted until "), "{line}");
    let (out, _) = run(&dir, &["controls", "exceptions"], 0);
    assert!(out.contains("open until"), "{out}");

    // The baseline is the status JSON; against itself nothing regressed.
    let (status, _) = run(&dir, &["controls", "status", "--json"], 0);
    let baseline = tmp.path().join("baseline.jsonl");
    std::fs::write(&baseline, &status).unwrap();
    let b = baseline.to_str().unwrap();
    run(&dir, &["controls", "diff", "--baseline", b], 0);

    // A baseline in which EV-OPS-01 passed and EV-OPS-02 had current evidence: both named.
    let edited: String = status
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            match v["control"].as_str().unwrap() {
                "EV-OPS-01" => v["result"] = "pass".into(),
                "EV-OPS-02" => v["evidence"]["state"] = "current".into(),
                _ => {}
            }
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(&baseline, edited).unwrap();
    let (out, err) = run(&dir, &["controls", "diff", "--baseline", b], 1);
    assert!(
        out.lines()
            .any(|l| l.starts_with("EV-OPS-01") && l.contains("was pass, now failing (excepted")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("EV-OPS-02") && l.contains("now no evidence")),
        "{out}"
    );
    assert!(err.contains("2 regression(s)"), "{err}");

    // A bad baseline exits 2 and says what is wrong where.
    std::fs::write(&baseline, "{\"control\": \"EV-OPS-01\"}\n").unwrap();
    let (_, err) = run(&dir, &["controls", "diff", "--baseline", b], 2);
    assert!(err.contains("line 1: no `result`"), "{err}");
    std::fs::write(&baseline, "not json").unwrap();
    let (_, err) = run(&dir, &["controls", "diff", "--baseline", b], 2);
    assert!(err.contains("line 1: not JSON"), "{err}");

    // Revoking needs the id and a reason; afterwards the failure shows plainly.
    let id = granted["exception_id"].as_str().unwrap();
    run(
        &dir,
        &["controls", "except", "--revoke", id, "--reason", "done"],
        0,
    );
    run(
        &dir,
        &["controls", "except", "--revoke", id, "--reason", "again"],
        2,
    );
    let (out, _) = run(&dir, &["controls", "status"], 0);
    let line = out.lines().find(|l| l.starts_with("EV-OPS-01")).unwrap();
    assert!(!line.contains("excepted"), "{line}");
}
