#!/usr/bin/env bash
# Checks Evident's compiled fideslang data-category list against the fideslang package:
# installs the pinned fideslang from PyPI into a venv, compares every `fides_key` of its
# default data categories with crates/privacy/src/datamap/fideslang_categories.txt (same
# keys, same version) and its data subjects with fideslang_subjects.txt, and checks that every
# category and subject used in the example map, the test fixtures, docs/privacy.md and the
# scan's rules is one of them. Any difference fails.
#
# Usage: scripts/ci-fideslang.sh            (venv in target/venv-fideslang, or $FIDESLANG_VENV)
#        scripts/ci-fideslang.sh --update   (rewrite the list from the pinned version)
set -euo pipefail

FIDESLANG_VERSION=3.1.4
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${FIDESLANG_VENV:-$root/target/venv-fideslang}
list=$root/crates/privacy/src/datamap/fideslang_categories.txt

if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "fideslang==$FIDESLANG_VERSION"

"$venv/bin/python" - "$root" "$list" "$FIDESLANG_VERSION" "${1:-}" <<'PY'
import importlib.metadata
import pathlib
import re
import sys
import tomllib

root, list_path, pinned, mode = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4]
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

installed = importlib.metadata.version("fideslang")
if installed != pinned:
    sys.exit(f"FAIL: fideslang {installed} installed, {pinned} pinned")
theirs = [c.fides_key for c in DEFAULT_TAXONOMY.data_category]
their_subjects = [s.fides_key for s in DEFAULT_TAXONOMY.data_subject]
subjects_path = list_path.with_name("fideslang_subjects.txt")

if mode == "--update":
    for path, what, keys in [(list_path, "data categories", theirs), (subjects_path, "data subjects", their_subjects)]:
        lines = [f"# fideslang {pinned} default taxonomy: {what} (fides_key), one a line, in the taxonomy order.",
                 "# Regenerate or check with scripts/ci-fideslang.sh; the parser reads every line that is not a comment."]
        path.write_text("\n".join(lines + keys) + "\n")
        print(f"wrote {len(keys)} {what} of fideslang {pinned} to {path}")
    sys.exit(0)

text = list_path.read_text()
header = re.search(r"^# fideslang (\S+) ", text, re.M)
ours = [l.split("#")[0].strip() for l in text.splitlines()]
ours = [l for l in ours if l]
failures = []
if not header or header.group(1) != pinned:
    failures.append(f"{list_path.name} names fideslang {header.group(1) if header else 'no version'}, the script pins {pinned}")
rust_version = re.search(r'FIDESLANG_VERSION: &str = "([^"]+)"', (root / "crates/privacy/src/datamap/taxonomy.rs").read_text())
if not rust_version or rust_version.group(1) != pinned:
    failures.append(f"taxonomy.rs FIDESLANG_VERSION is {rust_version.group(1) if rust_version else 'missing'}, the script pins {pinned}")
for k in sorted(set(theirs) - set(ours)):
    failures.append(f"missing from our list: {k}")
for k in sorted(set(ours) - set(theirs)):
    failures.append(f"in our list but not in fideslang {pinned}: {k}")
if len(ours) != len(set(ours)):
    failures.append("our list has duplicates")
subjects_text = subjects_path.read_text()
our_subjects = [l.split("#")[0].strip() for l in subjects_text.splitlines()]
our_subjects = [l for l in our_subjects if l]
if f"# fideslang {pinned} " not in subjects_text:
    failures.append(f"{subjects_path.name} does not name fideslang {pinned}")
if our_subjects != their_subjects:
    failures.append(f"{subjects_path.name} differs from fideslang {pinned}'s data subjects: "
                    f"missing {sorted(set(their_subjects) - set(our_subjects))}, extra {sorted(set(our_subjects) - set(their_subjects))}")
known = set(theirs)

def subjects_of_map(doc):
    for system in doc.get("systems", []):
        yield from system.get("subjects", [])
        for table in system.get("tables", []):
            yield from table.get("subjects", [])

used_subjects = {}

def categories_of_map(doc):
    for system in doc.get("systems", []):
        for table in system.get("tables", []):
            for field in table.get("fields", []):
                yield from field.get("categories", [])

used = {}
fixtures = sorted((root / "crates/privacy/tests/fixtures").glob("datamap*.toml"))
if not fixtures:
    failures.append("no example map under crates/privacy/tests/fixtures")
for path in fixtures:
    doc = tomllib.loads(path.read_text())
    for c in categories_of_map(doc):
        used.setdefault(c, str(path.relative_to(root)))
    for s in subjects_of_map(doc):
        used_subjects.setdefault(s, str(path.relative_to(root)))
docs = (root / "docs/privacy.md").read_text()
for block in re.findall(r"```toml\n(.*?)```", docs, re.S):
    try:
        doc = tomllib.loads(block)
    except tomllib.TOMLDecodeError:
        doc = {}
    for c in categories_of_map(doc):
        used.setdefault(c, "docs/privacy.md")
    for s in subjects_of_map(doc):
        used_subjects.setdefault(s, "docs/privacy.md")
    for c in re.findall(r'"((?:user|system)\.[a-z_.]+)"', block):
        used.setdefault(c, "docs/privacy.md")
for rel in ["crates/privacy/src/datamap/rules.rs", "crates/privacy/tests/datamap_fixture.rs", "crates/privacy/tests/datamap_scan.rs"]:
    for c in re.findall(r'"((?:user|system)\.[a-z_.]+)"', (root / rel).read_text()):
        used.setdefault(c, rel)
for c, where in sorted(used.items()):
    if c not in known:
        failures.append(f"{where} uses `{c}`, which is not a fideslang {pinned} data category")
for s, where in sorted(used_subjects.items()):
    if s not in their_subjects:
        failures.append(f"{where} uses data subject `{s}`, which is not one of fideslang {pinned}'s")

if failures:
    print(f"FAIL: the compiled fideslang list and fideslang {pinned} disagree:", file=sys.stderr)
    for f in failures:
        print(f"  {f}", file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(ours)} categories and {len(our_subjects)} data subjects equal fideslang {pinned}'s; "
      f"{len(used)} categories and {len(used_subjects)} subjects used in maps, docs and rules are all in it")
PY
