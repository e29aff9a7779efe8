#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from real artifacts.

Usage: scripts/fuzz-seeds.py [PATH-TO-evident [TARGET...]]   (default: target/debug/evident;
every target, else only the targets named)

A throwaway data directory is made with the `evident` binary, events are appended, and what
the binary writes (checkpoints, tlog-proofs, keys, ciphertexts, a backup's header) becomes
seeds, beside the project's own files (the policy packs, rules, AuthZEN conformance requests)
and a few hand-made inputs for the formats only a peer writes (OIDC tokens, gitleaks files).
Seeds are named `seed-<SHA-1>` (libFuzzer names what it finds by the bare SHA-1), so running
this again adds only what is new, and scripts/fuzz-cmin.sh keeps every seed while it
minimizes the rest.
"""

import base64
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

# RFC 8032 test 1: the fixed Ed25519 pair the oidc_token target trusts (see its source).
ED25519_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
ISSUER = "https://idp.example/realms/evident"
AUDIENCE = "evident-api"
# The C2SP signed-note reference key, which the signed_note target signs with.
PETER_NEUMANN_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"

EVENTS = [
    {"actor": {"id": "dr.ames", "ip": "192.0.2.7", "auth": {"mfa": True}}, "action": "record.read",
     "resource": {"type": "patient_record", "id": "pr-42"}, "outcome": "success",
     "metadata": {"email": "ames@example.org"}, "personal": ["/metadata/email"]},
    {"time": "2026-12-07T10:00:00+01:00",
     "actor": {"id": "svc-billing", "type": "service", "roles": ["billing"], "session": "s-1",
               "auth": {"method": "oidc", "amr": ["pwd", "otp"], "acr": "2",
                        "auth_time": "2026-12-07T08:59:00Z", "issuer": "https://idp.example"}},
     "action": "card.tokenize", "resource": {"type": "card"}, "outcome": "denied", "reason": "policy",
     "policy": {"id": "pci", "version": "3"}, "request_id": "r-1",
     "trace_id": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "severity": "high",
     "data_subject": "cust-9"},
    {"actor": {"id": "cron", "type": "system"}, "action": "backup.run",
     "resource": {"type": "data_dir", "id": "/var/lib/evident"}, "outcome": "error",
     "severity": "critical", "metadata": {"n": 1.5, "nested": {"a": [1, "\u00e9", None, True]}}},
]


# The targets whose seeds are written (empty: every target).
ONLY: set = set()


def put(target: str, data) -> None:
    if ONLY and target not in ONLY:
        return
    if isinstance(data, str):
        data = data.encode()
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()
    (directory / digest).unlink(missing_ok=True)  # the same input, found or kept by libFuzzer
    (directory / f"seed-{digest}").write_bytes(data)


def run(binary: str, *args: str, stdin: bytes = b"") -> str:
    done = subprocess.run([binary, *args], input=stdin, capture_output=True, check=True)
    return done.stdout.decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header: dict, claims: dict, sign) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = sign(signing_input.encode()) if sign else b""
    return signing_input + "." + b64url(signature)


def from_the_binary(binary: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(EVIDENT_DATA_DIR=f"{scratch}/data", EVIDENT_OPERATOR="fuzz-seeds",
                          EVIDENT_ROOT_PASSPHRASE="a throwaway passphrase for fuzz seeds")
        run(binary, "init", "--quiet")
        events = Path(scratch) / "events.jsonl"
        events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
        for _ in range(7):
            run(binary, "log", "append", "--quiet", str(events))
        note = run(binary, "log", "checkpoint")
        put("signed_note", note)
        put("checkpoint", note.split("\n\n")[0] + "\n")
        for index in ("0", "13", "20"):
            put("tlog_proof", run(binary, "log", "prove", index))
        put("keys", run(binary, "log", "vkey").strip())
        put("keys", PETER_NEUMANN_KEY)
        entries = []
        for line in run(binary, "log", "tail", "-n", "21").splitlines():
            event = json.loads(line)["event"]
            entries.append(json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        for count in (1, 3, 21):
            put("entry_bundle", b"".join(struct.pack(">H", len(e)) + e for e in entries[:count]))
        run(binary, "keys", "create", "payments", "--quiet")
        put("ciphertext", run(binary, "encrypt", "--key", "payments", stdin=b"hello").strip())
        put("ciphertext", run(binary, "encrypt", "--key", "payments", stdin=b"").strip())
        backup = Path(scratch) / "seed.evb"
        run(binary, "backup", "--quiet", "--out", str(backup))
        raw = backup.read_bytes()
        header_end = raw.index(b"\n", len(b"EVIDENT-BACKUP 1\n")) + 1
        put("backup_header", raw[: header_end + 64])


# Keep every seed of the controls part's targets below this: libFuzzer's inputs stay small,
# and the fuzz corpus of the repository with them.
MAX_SEED = 64 * 1024


# A manual control of every framework the bundle seeds are built for, given evidence.
MANUAL_CONTROL = "EV-OPS-02"


def put_small(target: str, data, limit: int = MAX_SEED) -> None:
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limit:
        sys.exit(f"error: a {target} seed of {len(data)} bytes is above {limit}: make a smaller one")
    put(target, data)


def ustar(members: list) -> bytes:
    """A ustar file as the bundle writer writes one: (path, bytes) in order, mode 644, mtime 0."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, data in members:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def controls_seeds(binary: str) -> None:
    """A period bundle and a sample from a data directory of the debug binary: the smallest real
    ones (one control checked, the one-day period of today), then cut and edited variants. The
    targets take the log's verifier key on a first line, so the real ones verify end to end."""
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(EVIDENT_DATA_DIR=f"{scratch}/data", EVIDENT_OPERATOR="fuzz-seeds",
                          EVIDENT_ROOT_PASSPHRASE="a throwaway passphrase for fuzz seeds")
        run(binary, "init", "--quiet")
        run(binary, "policy", "apply", str(ROOT / "policies" / "default"))
        # Evidence for one manual control rather than a `controls check` of every control: each
        # run adds an entry and a proof, and the bundle grows past 128 KiB.
        review = Path(scratch) / "review.txt"
        review.write_text("access review, signed\n")
        for reason in ("first review", "second review"):
            run(binary, "evidence", "add", str(review), "--control", MANUAL_CONTROL, "--reason", reason)
        vkey = run(binary, "log", "vkey").strip().encode() + b"\n"
        today = time.strftime("%Y-%m-%d", time.gmtime())
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        bundles = {}
        for framework in ("gdpr", "soc2"):
            path = Path(scratch) / f"{framework}.tar"
            run(binary, "evidence", "bundle", "--framework", framework, "--from", today, "--to", tomorrow,
                "-o", str(path))
            bundles[framework] = path.read_bytes()
        bundle = min(bundles.values(), key=len)
        # The one seed above MAX_SEED: the smallest bundle the binary writes (about 72 KB, of
        # which 40 KB are its OSCAL assessment results). The edited ones below go without them.
        put_small("bundle_archive", vkey + bundle, limit=2 * MAX_SEED)
        put_small("bundle_archive", bundle, limit=2 * MAX_SEED)
        for cut in (512, 1024, 3000, len(bundle) // 2):
            put_small("bundle_archive", vkey + bundle[:cut])
        with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
            members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
        members = [(n, d) for n, d in members if not n.startswith("oscal/")]
        manifest = json.loads(dict(members)["manifest.json"])
        manifest["members"] = [m for m in manifest["members"] if not m["path"].startswith("oscal/")]
        members = [(n, json.dumps(manifest).encode() if n == "manifest.json" else d) for n, d in members]
        catalog = json.loads(dict(members)["catalog.json"])

        def edited(name: str, value: bytes) -> bytes:
            return vkey + ustar([(n, value if n == name else d) for n, d in members])

        # a cadence too long for microseconds (it overflowed the figures), one that is zero
        for cadence in (2**63 - 1, 0):
            changed = json.loads(json.dumps(catalog))
            for control in changed["controls"]:
                control["cadence_seconds"] = cadence
            put_small("bundle_archive", edited("catalog.json", json.dumps(changed).encode()))
        # a period of ten thousand years, one that ends before it starts, one that does not parse
        for period in (("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"), (manifest["to"], manifest["from"]),
                       ("yesterday", manifest["to"])):
            changed = dict(manifest, **{"from": period[0], "to": period[1]})
            put_small("bundle_archive", edited("manifest.json", json.dumps(changed).encode()))
        put_small("bundle_archive", edited("manifest.json", b'{"format": "evident.period-bundle/1"}'))
        put_small("bundle_archive", vkey + ustar(members[:1]))

        sample_path = Path(scratch) / "sample.json"
        run(binary, "evidence", "sample", "--control", MANUAL_CONTROL, "--from", today, "--to", tomorrow,
            "--n", "2", "--seed", "fuzz-seed-1", "-o", str(sample_path))
        sample = sample_path.read_bytes()
        put_small("evidence_sample", vkey + sample)
        put_small("evidence_sample", sample)
        put_small("evidence_sample", vkey + sample[: len(sample) // 2])
        document = json.loads(sample)
        for change in ({"n": 2**64 - 1}, {"scanned": [5, 1]}, {"population_count": 7},
                       {"seed": "another seed"}, {"anchor": None}, {"from": "not a time"}):
            put_small("evidence_sample", vkey + json.dumps(dict(document, **change)).encode())


def from_the_repository() -> None:
    for event in EVENTS:
        put("event", json.dumps(event))
    put("event", json.dumps(EVENTS))
    for path in ("0/000", "0/x001/234", "1/000.p/7", "entries/000", "entries/x001/002.p/255", "2/x123/x456/789"):
        put("tile_path", path)
    # policy packs: schema, policies, entities, pack.toml, separated by NUL
    for pack in ("default", "interop"):
        files = sorted((ROOT / "policies" / pack).iterdir())
        cedar = "\n".join(f.read_text() for f in files if f.suffix == ".cedar")
        schema = next(f.read_text() for f in files if f.suffix == ".cedarschema")
        entities = (ROOT / "policies" / pack / "entities.json").read_text()
        toml_path = ROOT / "policies" / pack / "pack.toml"
        toml = toml_path.read_text() if toml_path.exists() else ""
        put("policy_pack", "\0".join([schema, cedar, entities, toml]))
    conformance = ROOT.parent / "shared" / "conformance" / "authzen"
    todo = json.loads((conformance / "todo-decisions.json").read_text())
    gateway = json.loads((conformance / "gateway-decisions.json").read_text())
    for case in todo["evaluation"][:4] + todo["evaluations"][:2] + gateway["evaluation"][:2]:
        put("authzen_request", json.dumps(case["request"]))
    rules = (ROOT / "crates" / "detect" / "rules" / "builtin.toml").read_text().split("\n[[rule]]\n")
    for start in (1, 12, 30):
        put("rule_file", "version = 1\n\n[[rule]]\n" + "\n[[rule]]\n".join(rules[start:start + 3]))
    put("gitleaks_file", "[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = [\"acme_\"]\n"
                         "[[rules]]\nid = \"p12\"\npath = '''\\.p12$'''\n")
    put("gitleaks_file", "title = \"custom\"\n[allowlist]\nstopwords = [\"example\"]\n"
                         "[[rules]]\nid = \"generic-api-key\"\ndescription = \"Generic API key\"\n"
                         "regex = '''(?i)api[_-]?key['\"]?\\s*[:=]\\s*['\"]([a-z0-9]{32})['\"]'''\n"
                         "secretGroup = 1\nentropy = 3.5\nkeywords = [\"api_key\", \"apikey\"]\n"
                         "[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''test''']\n"
                         "[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''vendor/''']\n")
    put("scan", "card 4111 1111 1111 1111 exp 12/29\nssn: 078-05-1120\n"
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\nNHS number: 943 476 5919\n")
    put("scan", '{"patient": {"mrn": "MRN-0042", "email": "ames@example.org", "iban": "GB82 WEST 1234 5698 7654 32"}}')
    put("card_input", "4111111111111111")
    put("card_input", "5500-0000-0000-0004")
    put("card_input", "%B4111111111111111^DOE/JOHN^2912101000000000000000000000000?")
    put("card_input", '{"card": {"number": "4111111111111111", "cvv": "123", "pin": "1234"}}')
    scanners = ROOT / "crates" / "evident" / "tests" / "fixtures" / "scanners"
    for fixture in ("checkov.sarif", "prowler.ocsf.json"):
        put_small("scanner_ingest", (scanners / fixture).read_bytes())
    put_small("scanner_ingest", '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"checkov","rules":'
                                '[{"id":"CKV_AWS_7"}]}},"results":[{"ruleIndex":0},{"rule":{"index":0},'
                                '"kind":"pass"},{"ruleId":"CKV_AWS_2","kind":"notApplicable"}]}]}')
    put_small("scanner_ingest", '[{"status_code":"FAIL","metadata":{"event_code":"iam_root_mfa_enabled",'
                                '"product":{"name":"Prowler"}},"unmapped":{"compliance":{"SOC2":["cc_6_1"],'
                                '"NIST-800-53-Revision-5":["ac_2_1"],"GDPR":["article_32"]}}}]')
    # catalog files: the organisation's own (`[[control]]`, `[[disposition]]`, `[[settings]]`,
    # a framework of its own), shipped ones (refused: duplicates), each then NUL and a mapping file
    checkov = (ROOT / "catalog" / "mappings" / "checkov.toml").read_text()
    own = [
        '[[control]]\nid = "ACME-BK-1"\ntitle = "Backups are restore-tested weekly"\n'
        'description = "Our payments database backups are restored and verified each week."\n'
        'implementation = "automated"\ncheck = "backup.restore_tested"\ncadence = "1d"\n'
        'params = { max_age_days = 7 }\nevidence = ["evident.backup.tested"]\n'
        'frameworks = { soc2 = ["A1.2"], nist-800-53 = ["CP-9(1)"] }\n\n'
        '[[disposition]]\nframework = "nist-800-53"\nrequirements = ["PE-3"]\nclass = "not-applicable"\n'
        'reason = "The provider covers physical access."\n\n'
        '[[settings]]\ncontrol = "EV-OPS-03"\nparams = { repositories = ["/srv/git/payments"] }\n',
        '[[settings]]\ncontrol = "EV-OPS-01"\nparams = { max_age_days = 7 }\n',
        '[framework]\nid = "iso27001"\nname = "ISO/IEC 27001:2022 Annex A"\nrequirements = ["A.5.1", "A.8.24"]\n\n'
        '[[control]]\nid = "ORG-1"\ntitle = "t"\ndescription = "d"\nimplementation = "manual"\n'
        'attestation = "a signed review"\ncadence = "90d"\nframeworks = { iso27001 = ["A.5.1"] }\n',
    ]
    for text in own:
        put_small("control_catalog", text + "\0" + checkov)
    put_small("control_catalog", own[2] + '\0[[map]]\nrules = ["CKV_AZURE_*"]\ncontrols = ["ORG-1"]\n')
    for shipped in ("controls/crypto.toml", "frameworks/gdpr.toml"):
        put_small("control_catalog", (ROOT / "catalog" / shipped).read_text())


def oidc_seeds() -> None:
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        sys.exit("error: the OIDC seeds need Python's `cryptography` package")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ED25519_SEED))
    public = key.public_key().public_bytes_raw()
    rsa = rsa_keys.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    ed = {"alg": "EdDSA", "typ": "JWT", "kid": "fuzz-ed25519"}
    good = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "exp": 4102444800,
            "realm_access": {"roles": ["evident-admin", "offline_access"]}}
    tokens = [
        jwt(ed, good, key.sign),
        jwt(ed, dict(good, exp=1700000000), key.sign),
        jwt(ed, dict(good, aud=["other", AUDIENCE], nbf=4102444000, roles="evident:reader"), key.sign),
        jwt({"alg": "none", "typ": "JWT"}, good, None),
        jwt({"alg": "HS256", "typ": "JWT", "kid": "hmac"}, good, lambda m: hashlib.sha256(m).digest()),
        jwt({"alg": "ES256", "kid": "fuzz-ed25519"}, good, key.sign),
    ]
    for token in tokens:
        put("oidc_token", b"\x00" + token.encode())
    jwks = {"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "fuzz-ed25519", "alg": "EdDSA", "use": "sig", "x": b64url(public)},
        {"kty": "EC", "crv": "P-256", "kid": "es-1", "alg": "ES256", "use": "sig",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        {"kty": "RSA", "kid": "rs-1", "alg": "RS256", "n": b64url(rsa.n.to_bytes(256, "big")), "e": "AQAB"},
        {"kty": "oct", "kid": "hmac", "k": b64url(b"a shared secret that must be ignored")},
        {"kty": "RSA", "kid": "enc-1", "use": "enc", "n": "AQAB", "e": "AQAB"},
    ]}
    put("oidc_token", b"\x01" + json.dumps(jwks).encode())
    for claims in (good, dict(good, roles=["writer"], realm_access=None),
                   dict(good, resource_access={AUDIENCE: {"roles": ["evident-writer"]}}),
                   dict(good, iss="https://evil.example"), dict(good, exp="4102444800")):
        put("oidc_token", b"\x02" + json.dumps(claims).encode())


def proof_seeds() -> None:
    # [kind, x, y] then tamperings of 10 bytes: op, 8-byte argument, position (see the target)
    put("proof_verify", bytes([0, 5, 20]))
    put("proof_verify", bytes([1, 7, 63]))
    put("proof_verify", bytes([0, 0, 0]))
    put("proof_verify", bytes([0, 12, 40, 2]) + struct.pack("<Q", 3) + bytes([0]))
    put("proof_verify", bytes([1, 3, 9, 4]) + struct.pack("<Q", 77) + bytes([1]))
    put("proof_verify", bytes([0, 31, 63, 1]) + struct.pack("<Q", 2**64 - 1) + bytes([0]))


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "debug" / "evident")
    ONLY.update(sys.argv[2:])
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} is not an executable evident binary (build it with `cargo build`)")
    from_the_binary(binary)
    controls_seeds(binary)
    from_the_repository()
    if not ONLY or "oidc_token" in ONLY:
        oidc_seeds()
    proof_seeds()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"corpus: {sum(1 for f in CORPUS.rglob('*') if f.is_file())} files, {total} bytes in {CORPUS}")


if __name__ == "__main__":
    main()
