#!/usr/bin/env python3
"""Fails when the modules of any crate in the workspace import each other in a circle.

Each `.rs` file under `crates/*/src` is a module (`src/lib.rs` and `src/main.rs` are the
crate root, `src/a/mod.rs` and `src/a.rs` are `a`, `src/a/b.rs` is `a::b`). A module depends
on another when its code names an item of it through a `crate::`, `super::` or `self::` path,
in a `use` (braces expanded) or inline. Re-exports are followed: `crate::Error`, where the
root says `pub use error::Error`, is an edge to `error`, not to the root. Declaring a child
(`mod b;`) is not an edge, so a `mod.rs` that only declares and re-exports joins no cycle;
one that defines items its children use and also uses theirs does.

Usage: scripts/check-module-cycles.py [CRATE_DIR ...]   (default: every crates/*)
Exit 0 when no crate has a cycle; 1 with each cycle's files listed; 2 on bad usage.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"')
USE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
CHILD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)
ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?(?:async\s+)?(?:const\s+)?"
    r"(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.M,
)


def module_of(src: Path, file: Path) -> tuple:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def expand_use(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start is not None:
                prefix = tree[:start]
                inner = tree[start + 1 : i]
                parts, d, last = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        d += 1
                    elif c == "}":
                        d -= 1
                    elif c == "," and d == 0:
                        parts.append(inner[last:j])
                        last = j + 1
                parts.append(inner[last:])
                out = []
                for p in parts:
                    if not p:
                        continue
                    for e in expand_use(p):
                        out.append(prefix + e if e != "self" else prefix.rstrip(":"))
                return out
    return [re.sub(r"\bas\b.*$", "", tree.split(" as ")[0]).removesuffix("::*").removesuffix("::self")]


def clean(text: str) -> str:
    text = COMMENT.sub(" ", text)
    return STRING.sub('""', text)


def absolute(path: str, here: tuple, is_mod_file: bool):
    segs = path.split("::")
    if segs[0] == "crate":
        return list(segs[1:])
    base = list(here)
    # In `a/b.rs`, `super` is `a`; in `a/mod.rs` (module `a`), `super` is the root.
    while segs and segs[0] in ("super", "self"):
        if segs[0] == "super":
            if not base:
                return None
            base = base[:-1]
        segs = segs[1:]
    return base + segs


def split_inline_modules(text: str):
    """The text outside inline `mod name { … }` blocks, and the blocks' bodies."""
    outside, bodies, pos = [], [], 0
    for m in re.finditer(r"\bmod\s+[A-Za-z_][A-Za-z0-9_]*\s*\{", text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        outside.append(text[pos : m.start()])
        bodies.append(text[m.end() : i - 1])
        pos = i
    outside.append(text[pos:])
    return "".join(outside), bodies


def check_crate(crate: Path) -> list:
    src = crate / "src"
    if not src.is_dir():
        return []
    files = {module_of(src, f): f for f in sorted(src.rglob("*.rs"))}
    texts = {m: clean(f.read_text(encoding="utf-8")) for m, f in files.items()}
    items = {m: set(ITEM.findall(t)) for m, t in texts.items()}
    # Re-exports: (module, name) -> absolute path of what it names.
    reexports = {}
    for m, text in texts.items():
        for use in USE.finditer(text):
            if not use.group(0).lstrip().startswith("pub"):
                continue
            for path in expand_use(use.group(1)):
                first = path.split("::")[0]
                if first in ("crate", "super", "self"):
                    target = absolute(path, m, files[m].name == "mod.rs")
                elif tuple(list(m) + [first]) in files:
                    target = list(m) + path.split("::")
                else:
                    # Another crate's item (`pub use evident_core::Error`): no edge here.
                    reexports[(m, path.split("::")[-1])] = None
                    continue
                if target:
                    reexports[(m, target[-1])] = target

    def owner(target: list, seen=None):
        """The module that defines what `target` names."""
        seen = seen or set()
        for cut in range(len(target), -1, -1):
            mod = tuple(target[:cut])
            if mod not in files:
                continue
            rest = target[cut:]
            if not rest:
                return mod
            name = rest[0]
            key = (mod, name)
            if name in items[mod]:
                return mod
            if key in reexports and key not in seen:
                seen.add(key)
                return None if reexports[key] is None else owner(reexports[key], seen)
            return mod
        return None

    edges = {m: set() for m in files}
    for m, whole in texts.items():
        # An inline `mod tests { … }` is a child of the file's module: its `super::` is
        # the file's module itself, so its paths are read as the file's own `self::` paths.
        text, inline = split_inline_modules(whole)
        text += " " + " ".join(re.sub(r"\bsuper::", "self::", body) for body in inline)
        paths = []
        for use in USE.finditer(text):
            paths += [p for p in expand_use(use.group(1)) if p.split("::")[0] in ("crate", "super", "self")]
        rest = USE.sub(" ", text)
        paths += PATH.findall(rest)
        # Paths through a child module this file declares (`local::LocalProvider`).
        for child in CHILD.findall(text):
            paths += ["self::" + p for p in re.findall(r"(?<![:\w])(" + child + r"(?:::[A-Za-z_][A-Za-z0-9_]*)+)", rest)]
        for path in paths:
            target = absolute(path, m, files[m].name == "mod.rs")
            if not target:
                continue
            dep = owner(target)
            if dep is not None and dep != m:
                edges[m].add(dep)

    cycles, index, low, stack, on, counter = [], {}, {}, [], set(), [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            strong(v)
    return [[str(files[m].relative_to(ROOT)) for m in comp] for comp in cycles]


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    crates = [Path(a).resolve() for a in argv] or sorted((ROOT / "crates").iterdir())
    bad = 0
    for crate in crates:
        if not crate.is_dir():
            print(f"error: {crate} is not a directory", file=sys.stderr)
            return 2
        for comp in check_crate(crate):
            bad += 1
            print(f"cycle in {crate.name}: " + " <-> ".join(comp))
    if bad:
        print(f"{bad} module import cycle(s); break each by moving what both sides use into a module of its own", file=sys.stderr)
        return 1
    print(f"no module import cycles in {len(crates)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
