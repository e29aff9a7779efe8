//! `evident pseudonymize` as scripts use it: CSV and JSON lines, files and stdin, the key made
//! only when asked, rotation and `--key-version`, bad input exiting 2 with the line and no
//! output file left behind, and one ledger event a run that carries no value.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const PASS: (&str, &str) = ("EVIDENT_ROOT_PASSPHRASE", "correct horse battery staple");

/// Runs `evident ARGS --data-dir DIR` with `stdin`; asserts the exit code; (stdout, stderr).
fn evident(dir: &Path, args: &[&str], stdin: &[u8], code: i32) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .env("USER", "operator-one")
        .env(PASS.0, PASS.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
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

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    evident(&data, &["init", "--quiet"], b"", 0);
    (tmp, data)
}

const CSV: &str = "id,email,name,mrn\n\
1,alice@example.org,\"Smith, Alice\",123456789\n\
2,bob@example.org,Bob Jones,987654321\n\
3,,Nobody,000000001\n\
4,alice@example.org,Alice again,123456789\n";

fn rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Lines of the log that record a pseudonymization run.
fn runs_logged(data: &Path) -> Vec<String> {
    let (out, _) = evident(data, &["log", "query", "--limit", "1000"], b"", 0);
    assert!(!out.contains("alice"), "a value reached the ledger: {out}");
    out.lines()
        .filter(|l| l.contains("evident.privacy.pseudonymized"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn csv_files_keys_rotation_and_the_ledger() {
    let (tmp, data) = setup();
    let input = tmp.path().join("patients.csv");
    std::fs::write(&input, CSV).unwrap();
    let out = tmp.path().join("out.csv");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "pseudonymize",
        i,
        "--domain",
        "patients",
        "--columns",
        "email,mrn",
        "--out",
        o,
    ];

    // No key yet: a clear error naming how to make one, and no output file.
    let (_, err) = evident(&data, &args, b"", 2);
    assert!(
        err.contains("--create-key") && err.contains("pseudonym.patients"),
        "{err}"
    );
    assert!(!out.exists());

    let with_create: Vec<&str> = args.iter().copied().chain(["--create-key"]).collect();
    let (stdout, err) = evident(&data, &with_create, b"", 0);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(err.contains("7 value(s) in 4 row(s) (1 empty"), "{err}");
    let first = std::fs::read_to_string(&out).unwrap();
    let table = rows(&first);
    assert_eq!(table[0], ["id", "email", "name", "mrn"]);
    assert_eq!(table[1][2], "Smith, Alice", "other columns untouched");
    assert!(table[1][1].starts_with("ps1.v1.") && table[1][1].len() == 29);
    assert!(table[1][3].starts_with("ps1.v1."));
    assert_eq!(table[3][1], "", "an empty value stays empty");
    assert_eq!(
        table[1][1], table[4][1],
        "the same value, the same pseudonym"
    );
    assert_ne!(table[1][1], table[2][1]);
    assert!(!first.contains("alice@"));

    // Deterministic across runs.
    evident(&data, &args, b"", 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);

    // Rotation: new version, new pseudonyms; --key-version 1 reproduces the old ones.
    evident(&data, &["keys", "rotate", "pseudonym.patients"], b"", 0);
    evident(&data, &args, b"", 0);
    let rotated = rows(&std::fs::read_to_string(&out).unwrap());
    assert!(rotated[1][1].starts_with("ps1.v2."), "{}", rotated[1][1]);
    assert_ne!(rotated[1][1][7..], table[1][1][7..]);
    let old: Vec<&str> = args.iter().copied().chain(["--key-version", "1"]).collect();
    evident(&data, &old, b"", 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);

    // A destroyed version reproduces nothing.
    evident(
        &data,
        &["keys", "destroy", "pseudonym.patients", "1", "--yes"],
        b"",
        0,
    );
    std::fs::remove_file(&out).unwrap();
    let (_, err) = evident(&data, &old, b"", 2);
    assert!(err.contains("destroyed"), "{err}");
    assert!(!out.exists());

    // One event per successful run, with counts, never values.
    let logged = runs_logged(&data);
    assert_eq!(logged.len(), 4, "{logged:?}");

    // Another domain: unrelated pseudonyms.
    let other = [
        "pseudonymize",
        i,
        "--domain",
        "customers",
        "--columns",
        "email",
        "--create-key",
    ];
    let (stdout, _) = evident(&data, &other, b"", 0);
    let theirs = rows(&stdout);
    assert_ne!(theirs[1][1][7..], table[1][1][7..]);
}

#[test]
fn json_lines_from_stdin_with_fpe() {
    let (_tmp, data) = setup();
    let lines = concat!(
        r#"{"id": 1, "email": " Alice@Example.org", "mrn": "123456789"}"#,
        "\n\n",
        r#"{"id": 2, "email": "alice@example.org", "mrn": 987654321}"#,
        "\n",
        r#"{"id": 3, "email": null, "mrn": "000000001"}"#,
        "\n"
    );
    let args = [
        "pseudonymize",
        "-",
        "--format",
        "jsonl",
        "--domain",
        "patients",
        "--columns",
        "email,mrn",
        "--fpe",
        "mrn=digits",
        "--normalize",
        "email",
        "--create-key",
    ];
    let (stdout, _) = evident(&data, &args, lines.as_bytes(), 0);
    let out: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["id"], 1);
    assert_eq!(
        out[0]["email"], out[1]["email"],
        "normalised to the same person"
    );
    assert!(out[0]["email"].as_str().unwrap().starts_with("ps1.v1."));
    assert!(out[2]["email"].is_null());
    for row in &out {
        let mrn = row["mrn"].as_str().unwrap();
        assert!(
            mrn.len() == 9 && mrn.bytes().all(|b| b.is_ascii_digit()),
            "{mrn}"
        );
    }
    assert_ne!(out[0]["mrn"], "123456789");
    // The same again: deterministic.
    let (again, _) = evident(&data, &args, lines.as_bytes(), 0);
    assert_eq!(again, stdout);
}

#[test]
fn bad_input_exits_2_naming_the_line_and_leaves_no_file() {
    let (tmp, data) = setup();
    let good = tmp.path().join("good.csv");
    std::fs::write(&good, CSV).unwrap();
    let g = good.to_str().unwrap();
    evident(
        &data,
        &[
            "pseudonymize",
            g,
            "--domain",
            "patients",
            "--columns",
            "email",
            "--create-key",
        ],
        b"",
        0,
    );
    let out = tmp.path().join("out.csv");
    let o = out.to_str().unwrap();
    // Rows past the first chunk, so some output was written before the error.
    let mut long = String::from("email,mrn\n");
    for i in 0..5000 {
        long.push_str(&format!("u{i}@example.org,{i:09}\n"));
    }
    long.push_str("bad@example.org,1,extra\n");
    let ragged = tmp.path().join("ragged.csv");
    std::fs::write(&ragged, &long).unwrap();
    let jsonl = tmp.path().join("rows.jsonl");
    std::fs::write(&jsonl, "{\"email\": \"a@b\"}\n[1, 2]\n").unwrap();
    let nested = tmp.path().join("nested.jsonl");
    std::fs::write(&nested, "{\"email\": {\"a\": 1}}\n").unwrap();
    let short = tmp.path().join("short.csv");
    std::fs::write(&short, "mrn\n123456\n12345\n").unwrap();
    // A file cut off inside a quoted field: the reader alone would take the rest of the file
    // as one value and pseudonymize it.
    let truncated = tmp.path().join("truncated.csv");
    std::fs::write(
        &truncated,
        "email,mrn\na@example.org,1\n\"b@example.org,2\n",
    )
    .unwrap();
    let t = truncated.to_str().unwrap();
    let (r, j, n, s) = (
        ragged.to_str().unwrap(),
        jsonl.to_str().unwrap(),
        nested.to_str().unwrap(),
        short.to_str().unwrap(),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![g, "--columns", "phone"], "no column `phone`"),
        (vec![r, "--columns", "email"], "line 5002"),
        (vec![t, "--columns", "email"], "line 3"),
        (vec![j, "--columns", "email"], "line 2: not a JSON object"),
        (vec![j, "--columns", "phone"], "line 1: no field `phone`"),
        (vec![n, "--columns", "email"], "is an object"),
        (vec![s, "--columns", "mrn", "--fpe", "digits"], "line 3"),
        (
            vec![g, "--columns", "email", "--fpe", "name=digits"],
            "not among --columns",
        ),
        (
            vec![g, "--columns", "email", "--normalize", "upper"],
            "normalization",
        ),
    ];
    let before = runs_logged(&data).len();
    for (extra, needle) in cases {
        let mut args = vec!["pseudonymize", "--domain", "patients", "--out", o];
        args.extend(extra);
        let (_, err) = evident(&data, &args, b"", 2);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("12345\n"), "{err}");
        assert!(!out.exists(), "{args:?} left an output file");
    }
    // No stray temporary files either.
    let stray: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".evident-pseudonymize-")
        })
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert_eq!(
        runs_logged(&data).len(),
        before,
        "failed runs record nothing"
    );
}
