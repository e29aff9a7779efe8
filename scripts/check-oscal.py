#!/usr/bin/env python3
"""Validates Evident's OSCAL documents with two independent readers and round-trips them.

Usage: check-oscal.py [--nist-schema-only] FILE...   (component-definition or assessment-results JSON)

`--nist-schema-only` runs step 2 alone, so CI can show that step refuses damaged documents on
its own.

1. compliance-trestle's pydantic models of OSCAL 1.1.2 (generated from NIST's JSON schema)
   must read the file;
2. NIST's published JSON schema for OSCAL 1.1.2 (scripts/oscal-schema/, draft-07, with its
   formats checked and its Unicode-class patterns evaluated by the `regex` module, which
   supports `\p{L}` as the schema's ECMAScript-style patterns mean it) must accept it;
3. the `oscal` package's validation against NIST's metaschema (the definition NIST's JSON
   and XML schemas are generated from) must pass;
4. the document written back by trestle must equal the file, field for field (times compared
   as instants to the millisecond, which is what trestle keeps of Evident's microseconds), so
   nothing Evident writes is dropped or reinterpreted by a reader.

Exits 1 naming the file and the first differences when any step fails.
"""

import datetime
import functools
import hashlib
import json
import pathlib
import sys
import tempfile

import jsonschema
import regex
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition
import oscal

MODELS = {"component-definition": ComponentDefinition, "assessment-results": AssessmentResults}

NIST_SCHEMA = pathlib.Path(__file__).resolve().parent / "oscal-schema" / "oscal_complete_schema-1.1.2.json"
NIST_SCHEMA_SHA256 = "1912ec0f0b659e5517d37384dfc9de323ce64da0274e5ce70105847d7e9fd49b"


def unicode_pattern(validator, pattern, instance, schema):
    """`pattern` as the schema means it: ECMAScript-style, with Unicode classes such as \\p{L}
    (Python's `re` rejects those; `regex` implements them)."""
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def nist_validator():
    raw = NIST_SCHEMA.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != NIST_SCHEMA_SHA256:
        sys.exit(f"error: {NIST_SCHEMA} has sha256 {digest}, not the pinned NIST schema {NIST_SCHEMA_SHA256}")
    schema = json.loads(raw)
    # The schema itself must be valid draft-07, its patterns compiled as the schema means them.
    schema_formats = jsonschema.FormatChecker()
    schema_formats.checks("regex", raises=regex.error)(regex.compile)
    jsonschema.Draft7Validator.check_schema(schema, format_checker=schema_formats)
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": unicode_pattern})
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    # Formats the schema uses must really be checked, not silently passed for want of a library.
    for fmt in ("date-time", "uri", "uri-reference", "email"):
        if fmt not in checker.checkers:
            sys.exit(f"error: jsonschema cannot check the `{fmt}` format here (install its format extras)")
    return cls(schema, format_checker=checker)


def nist_schema_errors(document) -> list[str]:
    errors = sorted(nist_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    out = []
    for e in errors[:20]:
        # oneOf at the root hides the real cause: name the deepest error of the matching branch.
        leaf = min(e.context, key=lambda c: -len(c.absolute_path)) if e.context else e
        where = "/" + "/".join(str(p) for p in leaf.absolute_path)
        out.append(f"NIST JSON schema: {where}: {leaf.message[:200]}")
    return out


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


def check(path: pathlib.Path, nist_schema_only: bool = False) -> list[str]:
    document = json.loads(path.read_text())
    if nist_schema_only:
        return nist_schema_errors(document)
    kinds = [k for k in MODELS if k in document]
    if len(kinds) != 1:
        return [f"not a component-definition or assessment-results document (keys: {list(document)})"]
    kind = kinds[0]
    try:
        model = MODELS[kind].oscal_read(path)
    except Exception as e:  # trestle raises several kinds; each is a refusal
        return [f"compliance-trestle refused it: {e}"]
    schema_errors = nist_schema_errors(document)
    if schema_errors:
        return schema_errors
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
    args = sys.argv[1:]
    nist_schema_only = "--nist-schema-only" in args
    names = [a for a in args if a != "--nist-schema-only"]
    if not names:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for name in names:
        problems = check(pathlib.Path(name), nist_schema_only)
        if problems:
            failed = True
            print(f"{name}: INVALID", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        elif nist_schema_only:
            print(f"{name}: valid against NIST's OSCAL 1.1.2 JSON schema")
        else:
            print(f"{name}: valid OSCAL (trestle, NIST JSON schema, NIST metaschema) and round-trips through trestle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
