#!/usr/bin/env python3
"""Checks a testssl.sh JSON report (`--jsonfile`) against Evident's TLS policy.

Usage: check-testssl.py REPORT.json

Fails (exit 1, naming each problem) unless: SSLv2, SSLv3, TLS 1.0 and 1.1 are not offered;
TLS 1.2 and 1.3 are; no NULL, anonymous, export, low, 3DES/IDEA or average-strength cipher
is offered; forward secrecy is offered for every cipher; and testssl rated nothing LOW or
worse.
"""
import json
import sys

MUST_BE_ABSENT = ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL", "cipherlist_aNULL",
                  "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"]
MUST_BE_OFFERED = ["TLS1_2", "TLS1_3", "cipherlist_STRONG", "PFS"]
BAD_SEVERITIES = {"LOW", "MEDIUM", "HIGH", "CRITICAL", "FATAL"}


def main():
    report = json.load(open(sys.argv[1]))
    findings = {item["id"]: item for item in report}
    problems = []
    for key in MUST_BE_ABSENT:
        finding = findings.get(key, {}).get("finding", "missing from the report")
        if not finding.startswith("not offered"):
            problems.append(f"{key}: expected 'not offered', got {finding!r}")
    for key in MUST_BE_OFFERED:
        finding = findings.get(key, {}).get("finding", "missing from the report")
        if not finding.startswith("offered"):
            problems.append(f"{key}: expected 'offered', got {finding!r}")
    for item in report:
        if item.get("severity") in BAD_SEVERITIES:
            problems.append(f"{item['id']}: rated {item['severity']}: {item['finding']}")
    for cipher in findings.get("PFS_ciphers", {}).get("finding", "").split():
        if not (cipher.startswith("TLS_") or cipher.startswith("ECDHE-") or cipher.startswith("DHE-")):
            problems.append(f"cipher without forward secrecy offered: {cipher}")
    if problems:
        print("TLS policy violations:\n  " + "\n  ".join(problems))
        sys.exit(1)
    offered = [k for k in ("TLS1_2", "TLS1_3") if findings[k]["finding"].startswith("offered")]
    print(f"TLS policy ok: {', '.join(offered)} only; strong forward-secret AEAD ciphers only "
          f"({findings.get('PFS_ciphers', {}).get('finding', '')})")


if __name__ == "__main__":
    main()
