#!/usr/bin/env python3
"""Validates Evident's OSCAL documents with two independent readers and round-trips them.

Usage: check-oscal.py FILE...   (component-definition or assessment-results JSON)

1. compliance-trestle's pydantic models of OSCAL 1.1.2 (generated from NIST's JSON schema)
   must read the file;
2. the `oscal` package's validation against NIST's metaschema (the definition NIST's JSON
   and XML schemas are generated from) must pass;
3. the document written back by trestle must equal the file, field for field (times compared
   as instants to the millisecond, which is what trestle keeps of Evident's microseconds), so
   nothing Evident writes is dropped or reinterpreted by a reader.

Exits 1 naming the file and the first differences when any step fails.
"""

import datetime
import json
import pathlib
import sys
import tempfile

from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition
import oscal

MODELS = {"component-definition": ComponentDefinition, "assessment-results": AssessmentResults}


def normalise(value):
    """Times as UTC instants to the millisecond; everything else as it is."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        try:
            instant = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            instant = instant.astimezone(datetime.timezone.utc)
            return instant.replace(microsecond=instant.microsecond // 1000 * 1000).isoformat()
        except ValueError:
            return value
    return value


def differences(a, b, path="", out=None):
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: only in {'the file' if key in a else 'trestle'}")
            else:
                differences(a[key], b[key], f"{path}/{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            differences(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}")
    return out


def check(path: pathlib.Path) -> list[str]:
    document = json.loads(path.read_text())
    kinds = [k for k in MODELS if k in document]
    if len(kinds) != 1:
        return [f"not a component-definition or assessment-results document (keys: {list(document)})"]
    kind = kinds[0]
    try:
        model = MODELS[kind].oscal_read(path)
    except Exception as e:  # trestle raises several kinds; each is a refusal
        return [f"compliance-trestle refused it: {e}"]
    nist = oscal.OSCAL.load(str(path))
    if not nist.validate():
        return [f"NIST metaschema validation failed: {nist.validation_errors}"]
    with tempfile.TemporaryDirectory() as tmp:
        written = pathlib.Path(tmp) / "roundtrip.json"
        model.oscal_write(written)
        back = json.loads(written.read_text())
    found = differences(normalise(document), normalise(back))
    return [f"changed by a trestle round trip: {d}" for d in found[:20]]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for name in sys.argv[1:]:
        problems = check(pathlib.Path(name))
        if problems:
            failed = True
            print(f"{name}: INVALID", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"{name}: valid OSCAL (trestle, NIST metaschema) and round-trips through trestle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
