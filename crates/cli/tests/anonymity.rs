//! `evident anonymity check` and `safe-harbor` as a user meets them: exit 0 when the
//! thresholds hold, 1 with the violating classes named when they do not, 2 with the file,
//! line and column on bad input; `--target-k` writes a table that then passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("EVIDENT_CONFIG")
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Machanavajjhala et al.'s 4-anonymous hospital table: k = 4, but one class is all cancer.
const HOSPITAL: &str = "zip,age,nationality,condition
130**,<30,*,Heart Disease
130**,<30,*,Heart Disease
130**,<30,*,Viral Infection
130**,<30,*,Viral Infection
1485*,>=40,*,Cancer
1485*,>=40,*,Heart Disease
1485*,>=40,*,Viral Infection
1485*,>=40,*,Viral Infection
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
";

const PATIENTS: &str = "age,zip,sex,diagnosis
34,13053,F,flu
35,13053,F,cold
36,13068,F,asthma
51,13068,M,flu
52,13068,M,flu
58,14850,M,cold
61,14850,F,asthma
66,14853,M,flu
";

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

#[test]
fn thresholds_that_hold_exit_0_and_broken_ones_exit_1_naming_the_class() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "h.csv", HOSPITAL);
    let quasi = [
        "anonymity",
        "check",
        "h.csv",
        "--quasi",
        "zip,age,nationality",
        "--sensitive",
        "condition",
    ];
    let (code, out, err) = text(&run(dir.path(), &[&quasi[..], &["--k", "4"]].concat()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("k = 4 (required 4)  ok"), "{out}");
    assert!(out.contains("distinct l-diversity l = 1"), "{out}");

    let (code, out, _) = text(&run(
        dir.path(),
        &[&quasi[..], &["--k", "4", "--l", "2"]].concat(),
    ));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("1 equivalence classes break a threshold"),
        "{out}"
    );
    assert!(
        out.contains("line 10: zip=130** age=3* nationality=*  size 4"),
        "{out}"
    );
    assert!(out.contains("(breaks l)"), "{out}");

    let (code, out, _) = text(&run(
        dir.path(),
        &[&quasi[..], &["--k", "5", "--show", "1", "--json"]].concat(),
    ));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["measures"]["k"], 4);
    assert_eq!(report["measures"]["distinct_l"], 1);
    assert_eq!(report["violations_total"], 3);
    assert_eq!(report["violations"].as_array().unwrap().len(), 1);
    let t = report["measures"]["t"].as_f64().unwrap();
    assert!((t - 7.0 / 12.0).abs() < 1e-9, "{t}");
}

#[test]
fn at_most_show_classes_are_listed_and_the_rest_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.csv", PATIENTS);
    let (code, out, _) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "p.csv",
            "--quasi",
            "age",
            "--k",
            "2",
            "--show",
            "3",
        ],
    ));
    assert_eq!(code, 1);
    assert!(
        out.contains("8 equivalence classes break a threshold"),
        "{out}"
    );
    assert!(out.contains("… and 5 more"), "{out}");
}

#[test]
fn target_k_writes_a_table_that_passes_and_reports_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.csv", PATIENTS);
    let (code, out, err) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "p.csv",
            "--quasi",
            "age,zip,sex",
            "--numeric",
            "age,zip",
            "--sensitive",
            "diagnosis",
            "--target-k",
            "3",
            "-o",
            "out.csv",
            "--k",
            "3",
        ],
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("before generalization k = 1"), "{out}");
    assert!(out.contains("information loss NCP"), "{out}");
    let written = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(written.lines().count(), 9);
    assert!(written.starts_with("age,zip,sex,diagnosis\n"));
    // The written file checks as 3-anonymous on its own.
    let (code, out, _) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "out.csv",
            "--quasi",
            "age,zip,sex",
            "--k",
            "3",
        ],
    ));
    assert_eq!(code, 0, "{out}");
    // A declared hierarchy publishes ancestors instead of sets.
    write(
        dir.path(),
        "zip.csv",
        "13053,1305*,130**,*\n13068,1306*,130**,*\n14850,1485*,148**,*\n14853,1485*,148**,*\n",
    );
    let (code, out, err) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "p.csv",
            "--quasi",
            "zip,sex",
            "--hierarchy",
            "zip=zip.csv",
            "--target-k",
            "3",
            "-o",
            "h.csv",
        ],
    ));
    assert_eq!(code, 0, "{out}{err}");
    let written = std::fs::read_to_string(dir.path().join("h.csv")).unwrap();
    let zips: Vec<&str> = written
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    let nodes = [
        "13053", "13068", "14850", "14853", "1305*", "1306*", "1485*", "130**", "148**", "*",
    ];
    assert!(zips.iter().all(|z| nodes.contains(z)), "{zips:?}");
    assert!(zips.contains(&"130**"), "{zips:?}");
    let (code, out, _) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "h.csv",
            "--quasi",
            "zip,sex",
            "--k",
            "3",
        ],
    ));
    assert_eq!(code, 0, "{out}");
    // JSON lines in, JSON lines out.
    let jsonl: String = PATIENTS
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{{\"age\":{},\"zip\":\"{}\",\"sex\":\"{}\",\"diagnosis\":\"{}\"}}\n",
                f[0], f[1], f[2], f[3]
            )
        })
        .collect();
    write(dir.path(), "p.jsonl", &jsonl);
    let (code, out, err) = text(&run(
        dir.path(),
        &[
            "anonymity",
            "check",
            "p.jsonl",
            "--quasi",
            "age,sex",
            "--numeric",
            "age",
            "--target-k",
            "4",
            "-o",
            "out.jsonl",
        ],
    ));
    assert_eq!(code, 0, "{out}{err}");
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(dir.path().join("out.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(first["age"].as_str().unwrap().contains('-'), "{first}");
}

#[test]
fn bad_input_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "p.csv", PATIENTS);
    write(d, "empty.csv", "");
    write(d, "header.csv", "age,zip\n");
    write(d, "ragged.csv", "age,zip\n30,13053\n31\n");
    write(d, "words.csv", "age,zip\n30,13053\nforty,13068\n");
    let cases: [(&[&str], &str); 7] = [
        (
            &["p.csv", "--quasi", "age,height"],
            "p.csv: no column `height` (the columns are `age`, `zip`, `sex`, `diagnosis`)",
        ),
        (
            &["empty.csv", "--quasi", "age"],
            "empty.csv: the file has no data rows",
        ),
        (
            &["header.csv", "--quasi", "age"],
            "header.csv: the file has no data rows",
        ),
        (
            &["ragged.csv", "--quasi", "age"],
            "ragged.csv, line 3: 1 fields where the header has 2",
        ),
        (
            &["words.csv", "--quasi", "age", "--numeric", "age"],
            "words.csv, line 3, column `age`: `forty` is not a number",
        ),
        (
            &["p.csv", "--quasi", "age", "--l", "2"],
            "need a sensitive attribute",
        ),
        (&["missing.csv", "--quasi", "age"], "missing.csv"),
    ];
    for (args, message) in cases {
        let (code, out, err) = text(&run(d, &[&["anonymity", "check"][..], args].concat()));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // --target-k needs somewhere to write.
    let (code, _, _) = text(&run(
        d,
        &[
            "anonymity",
            "check",
            "p.csv",
            "--quasi",
            "age",
            "--target-k",
            "2",
        ],
    ));
    assert_eq!(code, 2);
    let (code, _, err) = text(&run(
        d,
        &[
            "anonymity",
            "check",
            "p.csv",
            "--quasi",
            "age",
            "--sensitive",
            "diagnosis",
            "--t",
            "1.5",
        ],
    ));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn safe_harbor_lists_found_identifiers_and_what_it_cannot_see() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "raw.csv",
        "patient_name,email,zip,diagnosis\nJane Roe,jane@example.org,13053,flu\n",
    );
    write(dir.path(), "clean.csv", "age,sex,diagnosis\n30-39,F,flu\n");
    let (code, out, _) = text(&run(dir.path(), &["anonymity", "safe-harbor", "raw.csv"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("6. PRESENT"), "{out}");
    assert!(
        out.contains("email addresses: 1 cells in email (first on line 2)"),
        "{out}"
    );
    assert!(out.contains("1. not checkable"), "{out}");
    assert!(
        out.contains("column name suggests it: patient_name"),
        "{out}"
    );
    assert!(out.contains("17. not checkable"), "{out}");
    let (code, out, _) = text(&run(
        dir.path(),
        &["anonymity", "safe-harbor", "clean.csv", "--json"],
    ));
    assert_eq!(code, 0, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let statuses: Vec<&str> = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 18);
    assert!(!statuses.contains(&"present"));
    assert_eq!(statuses[16], "not_checkable");
    assert_eq!(statuses[5], "absent");
}

#[test]
fn help_teaches_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = text(&run(dir.path(), &["anonymity", "check", "--help"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("evident anonymity check patients.csv --quasi age,zip,sex"),
        "{out}"
    );
    assert!(out.contains("Exit status"), "{out}");
}
