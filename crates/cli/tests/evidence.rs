//! `evident evidence bundle` and `sample` against a real data directory, and `evident verify`
//! on what they write: a bundle of simulated check runs verifies; a byte flipped in any
//! member, a removed check run, a proof from another log, another log's key each fail naming
//! what is wrong; cut or foreign files and bad periods exit 2 and store nothing; samples
//! re-derive from their seed and refuse a wrong seed or a tampered population.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use evident::controls::bundle::format::{
    read_tar, sha256_hex, write_tar, Listed, Manifest, MANIFEST,
};
use evident::controls::bundle::SampleFile;
use serde_json::{json, Value};

const FROM: &str = "2026-03-01";
const TO: &str = "2026-03-04";
const T0: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z
const END: i64 = T0 + 4 * 86_400; // the period ends with 2026-03-04

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn evident(dir: &Path, args: &[&str], code: i32) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_evident"));
    command.args(args);
    // `verify` is offline: it takes no data directory at all.
    if args[0] != "verify" {
        command.arg("--data-dir").arg(dir);
    }
    let out = command
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_VKEY")
        .env("USER", "auditor-one")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "{args:?}\n{text}");
    text
}

fn verify(file: &Path, vkey: &str, extra: &[&str], code: i32) -> String {
    let mut args = vec!["verify", file.to_str().unwrap(), "--vkey", vkey];
    args.extend_from_slice(extra);
    // Offline: no data directory is passed (nor would one be accepted).
    evident(Path::new(""), &args, code)
}

fn time(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn run_event(control: &Value, at: i64, result: &str) -> Value {
    let id = control["id"].as_str().unwrap();
    json!({
        "time": time(at),
        "actor": {"id": "evident", "type": "system"},
        "action": "controls.check",
        "resource": {"type": "control", "id": id},
        "outcome": if result == "pass" { "success" } else { "failure" },
        "metadata": {"control": id, "result": result, "title": control["title"],
                     "cadence": control["cadence"], "frameworks": control["frameworks"], "check_version": "v-test",
                     "reason": format!("simulated {result}"), "catalog": "sha256:test"}
    })
}

/// A data directory with a policy applied and four days of simulated check runs of every
/// automated SOC 2 control at its cadence: EV-AC-01 fails on day 2 and passes on day 3;
/// EV-CRY-01 fails last, under an exception; manual EV-AC-07 has evidence uploaded after
/// the period that covers it.
fn engine_with_runs(tmp: &Path) -> (PathBuf, String) {
    let dir = tmp.join("data");
    evident(&dir, &["init"], 0);
    let pack = repo().join("policies/default");
    evident(&dir, &["policy", "apply", pack.to_str().unwrap()], 0);
    let list = evident(
        &dir,
        &["controls", "list", "--framework", "soc2", "--json"],
        0,
    );
    let mut events = Vec::new();
    for line in list.lines().filter(|l| l.starts_with('{')) {
        let c: Value = serde_json::from_str(line).unwrap();
        if c["check"].is_null() {
            continue;
        }
        let id = c["id"].as_str().unwrap();
        let cadence_text = c["cadence"].as_str().unwrap();
        let (number, unit) = cadence_text.split_at(cadence_text.len() - 1);
        let cadence = number.parse::<i64>().unwrap()
            * match unit {
                "m" => 60,
                "h" => 3_600,
                "d" => 86_400,
                other => panic!("cadence unit {other}"),
            };
        let mut at = T0 + 300;
        while at < END {
            let day = (at - T0) / 86_400;
            let result = match (id, day) {
                ("EV-AC-01", 1) => "fail",
                ("EV-CRY-01", 3) => "fail",
                _ => "pass",
            };
            events.push(run_event(&c, at, result));
            at += cadence;
        }
    }
    events.push(json!({
        "time": time(T0 + 3 * 86_400 + 7_200),
        "actor": {"id": "compliance-lead", "type": "user"},
        "action": "controls.exception.granted",
        "resource": {"type": "control", "id": "EV-CRY-01"},
        "outcome": "success",
        "metadata": {"control": "EV-CRY-01", "reason": "rotation scheduled", "approved_by": "ciso",
                     "until": time(END + 60 * 86_400)}
    }));
    events.push(json!({
        "time": time(END + 45 * 86_400),
        "actor": {"id": "compliance-lead", "type": "user"},
        "action": "evidence.added",
        "resource": {"type": "evidence", "id": "ev-1"},
        "outcome": "success",
        "metadata": {"control": "EV-AC-07", "sha256": "00", "size": 1, "media_type": "application/pdf",
                     "reason": "access request approvals", "effective_from": time(T0),
                     "effective_to": time(END + 30 * 86_400), "valid_until": time(END + 300 * 86_400)}
    }));
    // The policy version in force when the period began (the pack applied above came after).
    events.push(json!({
        "time": time(T0 - 10 * 86_400),
        "actor": {"id": "evident", "type": "system"},
        "action": "access.policy.applied",
        "resource": {"type": "policy_set", "id": "v7"},
        "outcome": "success",
        "metadata": {"version": 7, "hash": "sha256:policy-seven"}
    }));
    events.push(json!({"actor": {"id": "u"}, "action": "record.read",
                       "resource": {"type": "PatientRecord", "id": "p1"}, "outcome": "success"}));
    let file = tmp.join("events.jsonl");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    evident(
        &dir,
        &[
            "log",
            "append",
            "--danger-system-actions",
            file.to_str().unwrap(),
        ],
        0,
    );
    let vkey = evident(&dir, &["log", "vkey"], 0).trim().to_string();
    (dir, vkey)
}

fn bundle(dir: &Path, out: &Path) {
    evident(
        dir,
        &[
            "evidence",
            "bundle",
            "--framework",
            "soc2",
            "--from",
            FROM,
            "--to",
            TO,
            "-o",
            out.to_str().unwrap(),
        ],
        0,
    );
}

/// Rewrites a bundle's members; with `rehash`, the manifest's hashes are made to match, as
/// an adversary who edits a bundle would.
fn rewrite(
    from: &Path,
    to: &Path,
    rehash: bool,
    edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>, &mut Manifest),
) {
    let mut members = read_tar(&std::fs::read(from).unwrap()).unwrap();
    let mut manifest: Manifest =
        serde_json::from_slice(&members.remove(MANIFEST).unwrap()).unwrap();
    edit(&mut members, &mut manifest);
    if rehash {
        manifest.members.retain(|m| members.contains_key(&m.path));
        for m in &mut manifest.members {
            let bytes = &members[&m.path];
            m.sha256 = sha256_hex(bytes);
            m.bytes = bytes.len() as u64;
        }
    }
    let bytes = write_tar(&members, &serde_json::to_vec(&manifest).unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
}

/// Verifies `file`, which must fail (exit 1) saying `says`.
fn fails_saying(file: &Path, vkey: &str, says: impl AsRef<str>) -> String {
    let out = verify(file, vkey, &[], 1);
    assert!(out.contains(says.as_ref()), "{}: {out}", says.as_ref());
    out
}

/// The first event of `action` a bundle lists.
fn first_of(m: &Manifest, action: &str) -> Listed {
    m.events
        .iter()
        .find(|e| e.action == action)
        .unwrap()
        .clone()
}

fn manifest_of(file: &Path) -> Manifest {
    serde_json::from_slice(&read_tar(&std::fs::read(file).unwrap()).unwrap()[MANIFEST]).unwrap()
}

#[test]
fn a_bundle_verifies_and_every_tampering_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, vkey) = engine_with_runs(tmp.path());
    let good = tmp.path().join("soc2.tar");
    let size = || evident(&dir, &["log", "checkpoint"], 0);
    let before = size();
    bundle(&dir, &good);
    let recorded = evident(
        &dir,
        &["log", "query", "--action", "evidence.bundle.built"],
        0,
    );
    assert_eq!(
        recorded
            .lines()
            .filter(|l| l.contains("manifest_sha256"))
            .count(),
        1,
        "{recorded}"
    );
    assert_ne!(size(), before, "the built bundle is recorded in the log");
    let out = verify(&good, &vkey, &[], 0);
    assert!(out.contains("ok: bundle soc2"), "{out}");

    let m = manifest_of(&good);
    assert_eq!(m.from, "2026-03-01T00:00:00Z");
    assert_eq!(m.to, "2026-03-05T00:00:00Z");
    let row = |id: &str| {
        m.figures
            .controls
            .iter()
            .find(|c| c.control == id)
            .unwrap()
            .clone()
    };
    assert_eq!((row("EV-AC-01").runs, row("EV-AC-01").fail), (4, 1));
    assert_eq!(row("EV-AC-01").grid, "PFPP");
    assert_eq!(row("EV-CRY-01").exceptions, 1);
    assert_eq!(
        row("EV-AC-07").evidence,
        1,
        "evidence counts by the period it covers"
    );
    assert_eq!(row("EV-AC-07").grid, "EEEE");
    let policies: Vec<(u64, &str)> = m
        .policies
        .iter()
        .map(|p| (p.version, p.hash.as_str()))
        .collect();
    assert_eq!(
        policies,
        [(7, "sha256:policy-seven")],
        "the version in force, not the later one"
    );
    assert!(!m.events.iter().any(|e| e.action == "record.read"));
    let report =
        String::from_utf8(read_tar(&std::fs::read(&good).unwrap()).unwrap()["report.html"].clone())
            .unwrap();
    assert!(
        report.contains("EV-AC-01") && !report.contains("http://") && !report.contains("https://")
    );

    // A byte flipped in any member is named.
    let first_run = first_of(&m, "controls.check");
    for member in [
        first_run.entry.clone(),
        first_run.proof.clone(),
        "report.html".into(),
        "catalog.json".into(),
        "checkpoints/end.txt".into(),
    ] {
        let bad = tmp.path().join("flipped.tar");
        rewrite(&good, &bad, false, |members, _| {
            let bytes = members.get_mut(&member).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
        });
        let out = verify(&bad, &vkey, &[], 1);
        assert!(
            out.contains(&format!("FAIL {member}: its SHA-256")),
            "{member}: {out}"
        );
        // An adversary who also fixes the manifest's hashes is caught by the proofs, the
        // signature, or the report re-rendered from the events.
        if member == "catalog.json" {
            continue;
        }
        rewrite(&good, &bad, true, |members, _| {
            let bytes = members.get_mut(&member).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
        });
        let out = verify(&bad, &vkey, &[], 1);
        assert!(out.contains(&format!("FAIL {member}: ")), "{member}: {out}");
    }
    // A catalog made to ask less (a weekly cadence) than the runs in the log state.
    let bad = tmp.path().join("catalog.tar");
    rewrite(&good, &bad, true, |members, _| {
        let mut catalog: Value = serde_json::from_slice(&members["catalog.json"]).unwrap();
        for c in catalog["controls"].as_array_mut().unwrap() {
            if c["id"] == "EV-AC-06" {
                c["cadence_seconds"] = json!(7 * 86_400);
            }
        }
        members.insert("catalog.json".into(), serde_json::to_vec(&catalog).unwrap());
    });
    fails_saying(
        &bad,
        &vkey,
        "FAIL catalog.json: EV-AC-06 is not the control its check runs state",
    );

    // A removed check run: the gap it leaves is named, and the figures no longer add up.
    let second = m
        .events
        .iter()
        .filter(|e| e.control.as_deref() == Some("EV-AC-06"))
        .nth(1)
        .unwrap()
        .clone();
    let bad = tmp.path().join("removed.tar");
    rewrite(&good, &bad, true, |members, manifest| {
        members.remove(&second.entry);
        members.remove(&second.proof);
        manifest.events.retain(|e| e.index != second.index);
    });
    let out = fails_saying(
        &bad,
        &vkey,
        "EV-AC-06 not checked 2026-03-01T00:05Z … 2026-03-03T00:05Z",
    );
    assert!(
        out.contains("manifest.json: the figures of EV-AC-06"),
        "{out}"
    );
    // Only the entry's file removed: named as missing.
    rewrite(&good, &bad, false, |members, _| {
        members.remove(&second.entry);
    });
    fails_saying(
        &bad,
        &vkey,
        format!("FAIL {}: listed in the manifest but missing", second.entry),
    );

    // A removed evidence event leaves no gap, but the manifest no longer is the one the log
    // recorded when the bundle was built; and a bundle stripped of that record fails too.
    let evidence = first_of(&m, "evidence.added");
    rewrite(&good, &bad, true, |members, manifest| {
        members.remove(&evidence.entry);
        members.remove(&evidence.proof);
        manifest.events.retain(|e| e.index != evidence.index);
    });
    fails_saying(
        &bad,
        &vkey,
        "FAIL manifest.json: its SHA-256 is not the one the log recorded",
    );
    rewrite(&good, &bad, false, |members, _| {
        members.remove("anchor/entry.json");
    });
    fails_saying(&bad, &vkey, "FAIL anchor/entry.json: missing");

    // A proof from another log, and another log's key.
    let other_tmp = tempfile::tempdir().unwrap();
    let (other_dir, other_vkey) = engine_with_runs(other_tmp.path());
    let other = other_tmp.path().join("other.tar");
    bundle(&other_dir, &other);
    let foreign_proof =
        read_tar(&std::fs::read(&other).unwrap()).unwrap()[&first_run.proof].clone();
    rewrite(&good, &bad, true, |members, _| {
        members.insert(first_run.proof.clone(), foreign_proof);
    });
    fails_saying(
        &bad,
        &vkey,
        format!(
            "FAIL {}: proves against another checkpoint",
            first_run.proof
        ),
    );
    fails_saying(&good, &other_vkey, "FAIL checkpoints/end.txt");

    // Cut short, or not a bundle at all: exit 2.
    let bytes = std::fs::read(&good).unwrap();
    let cut = tmp.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = verify(&cut, &vkey, &[], 2);
    assert!(out.contains("not a readable bundle"), "{out}");
    let foreign = tmp.path().join("foreign.tar");
    let mut just_a_file = BTreeMap::new();
    just_a_file.insert("notes.txt".to_string(), b"hello".to_vec());
    let mut tar = write_tar(&just_a_file, b"{\"format\": \"something-else/1\"}").unwrap();
    std::fs::write(&foreign, &tar).unwrap();
    let out = verify(&foreign, &vkey, &[], 2);
    assert!(out.contains("not an Evident period bundle"), "{out}");
    tar.truncate(0);
}

#[test]
fn bad_input_exits_2_and_stores_nothing_and_a_mid_log_period_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    evident(&dir, &["init"], 0);
    evident(&dir, &["controls", "check", "EV-AC-06"], 0);
    let size = || evident(&dir, &["log", "checkpoint"], 0);
    let before = size();
    let out_file = tmp.path().join("never.tar");
    let out = out_file.to_str().unwrap();
    for (command, says) in [
        (
            "evidence bundle --framework soc2 --from 2026-06-30 --to 2026-01-01",
            "at or after it ends",
        ),
        (
            "evidence bundle --framework soc2 --from 2026-13-01 --to 2026-06-30",
            "--from `2026-13-01` is not a date",
        ),
        (
            "evidence bundle --framework soc3 --from 2026-01-01 --to 2026-06-30",
            "no framework `soc3`",
        ),
        (
            "evidence sample --control EV-NOPE-1 --from 2026-01-01 --to 2026-06-30 --seed s",
            "no control `EV-NOPE-1`",
        ),
        (
            "evidence sample --control EV-AC-06 --from 2026-01-01 --to 2026-06-30 --seed=",
            "seed is empty",
        ),
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.extend(["-o", out]);
        let text = evident(&dir, &args, 2);
        assert!(text.contains(says), "{args:?}: {text}");
    }
    assert_eq!(size(), before, "nothing was appended");
    assert!(!out_file.exists(), "no file was written");

    // A period starting mid-log: its start checkpoint is signed, with a real consistency
    // proof to the end one.
    let now = time::OffsetDateTime::now_utc();
    let from = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let to = (now + time::Duration::minutes(50))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    evident(&dir, &["controls", "check", "EV-AC-06"], 0);
    let file = tmp.path().join("hour.tar");
    let command = [
        "evidence",
        "bundle",
        "--framework",
        "soc2",
        "--from",
        &from,
        "--to",
        &to,
    ];
    let mut args = command.to_vec();
    args.extend(["-o", file.to_str().unwrap()]);
    evident(&dir, &args, 0);
    let vkey = evident(&dir, &["log", "vkey"], 0).trim().to_string();
    let out = verify(&file, &vkey, &[], 0);
    assert!(out.contains("ok: bundle soc2"), "{out}");
    let m = manifest_of(&file);
    assert!(
        m.start.size > 0 && m.start.size < m.end.size,
        "{:?} {:?}",
        m.start,
        m.end
    );
    let members = read_tar(&std::fs::read(&file).unwrap()).unwrap();
    assert!(!members["proofs/consistency.txt"].is_empty());
    assert_eq!(
        m.events.len(),
        1,
        "the one run in the period: {:?}",
        m.events
    );
    let bad = tmp.path().join("inconsistent.tar");
    rewrite(&file, &bad, true, |members, _| {
        let proof = members.get_mut("proofs/consistency.txt").unwrap();
        proof[0] = if proof[0] == b'A' { b'B' } else { b'A' };
    });
    fails_saying(
        &bad,
        &vkey,
        "FAIL proofs/consistency.txt: the start checkpoint is not a prefix",
    );
}

#[test]
fn samples_re_derive_from_their_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, vkey) = engine_with_runs(tmp.path());
    let file = tmp.path().join("sample.json");
    let args = |seed: &'static str, n: &'static str| {
        vec![
            "evidence",
            "sample",
            "--control",
            "EV-AC-03",
            "--from",
            FROM,
            "--to",
            TO,
            "--n",
            n,
            "--seed",
            seed,
            "-o",
            file.to_str().unwrap(),
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| evident(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>(), 0);
    run(args("auditor-2026", "25"));
    let first = std::fs::read(&file).unwrap();
    let s: SampleFile = serde_json::from_slice(&first).unwrap();
    assert_eq!(s.population_count, 96, "an hourly control over four days");
    assert_eq!(s.sample.len(), 25);
    let out = verify(&file, &vkey, &["--seed", "auditor-2026"], 0);
    assert!(
        out.contains("25 of 96 event(s) re-derived from seed `auditor-2026`"),
        "{out}"
    );

    // The same seed draws the same sample; another draws another.
    run(args("auditor-2026", "25"));
    let again: SampleFile = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(again.sample, s.sample);
    run(args("someone-else", "25"));
    let other: SampleFile = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_ne!(other.sample, s.sample);

    // The wrong seed, a tampered population, a sampled entry changed, a seed edited: exit 1.
    std::fs::write(&file, &first).unwrap();
    let out = verify(&file, &vkey, &["--seed", "auditor-2027"], 1);
    assert!(
        out.contains("seed: the file was drawn with `auditor-2026`"),
        "{out}"
    );
    let tampered = |edit: &dyn Fn(&mut SampleFile)| {
        let mut t = s.clone();
        edit(&mut t);
        std::fs::write(&file, serde_json::to_vec(&t).unwrap()).unwrap();
        verify(&file, &vkey, &[], 1)
    };
    let dropped = s.sample[0].index;
    let out = tampered(&|t| {
        t.population.retain(|m| m.index != dropped);
        t.population_count -= 1;
    });
    assert!(out.contains("FAIL sample: the seed"), "{out}");
    assert!(
        out.contains("FAIL anchor: the log recorded population_count"),
        "the log's record of the draw holds the population: {out}"
    );
    let out = tampered(&|t| t.anchor = None);
    assert!(out.contains("FAIL anchor: missing"), "{out}");
    let out = tampered(&|t| t.population[3].leaf = "00".repeat(32));
    assert!(
        out.contains(&format!(
            "entry {} is not in the log",
            s.population[3].index
        )),
        "{out}"
    );
    let out = tampered(&|t| {
        t.sample[0].entry = t.sample[0]
            .entry
            .replace("simulated pass", "simulated fail")
    });
    assert!(
        out.contains(&format!("sample entry {}: its bytes", s.sample[0].index)),
        "{out}"
    );
    let out = tampered(&|t| t.seed = "auditor-2027".into());
    assert!(
        out.contains("FAIL sample: the seed `auditor-2027` draws"),
        "{out}"
    );
}
