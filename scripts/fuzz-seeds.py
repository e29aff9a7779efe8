#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from real artifacts.

Usage: scripts/fuzz-seeds.py [PATH-TO-evident]   (default: target/debug/evident)

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
import json
import os
import struct
import subprocess
import sys
import tempfile
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


def put(target: str, data) -> None:
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
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} is not an executable evident binary (build it with `cargo build`)")
    from_the_binary(binary)
    from_the_repository()
    oidc_seeds()
    proof_seeds()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"corpus: {sum(1 for f in CORPUS.rglob('*') if f.is_file())} files, {total} bytes in {CORPUS}")


if __name__ == "__main__":
    main()
