"""Count the hand-typed regexes and word lists per package (issue 27: "how many are there").

Walks every module of the packages named (default: answering, retrieval, text, reading under
src/carecite) with ``ast`` and counts, per package:

- ``re.compile``: calls to ``re.compile(...)``;
- ``re.<fn> literal``: ``re.search/match/fullmatch/sub/subn/split/findall/finditer`` called with a
  string literal (or f-string) as the pattern, a regex typed inline;
- ``cue pattern``: a string literal passed as ``pattern=`` (``reading.cues.cue`` compiles it);
- ``word lists``: a set, frozenset, tuple or list literal of 3 or more string constants that are each
  one word (letters, digits, ``'``, ``-``, ``/``, ``.``), and ``"a b c".split()`` with 3 or more words.

A ``re.compile(r"...")`` inside a ``cue(pattern=...)`` counts once, as ``re.compile``. Usage:
``python tools/count_patterns.py [--root src/carecite] [package ...]`` (prints a table; ``--json``
for machine-readable output).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import Counter
from pathlib import Path

RE_CALLS = frozenset({"search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"})
WORD = re.compile(r"[\w'./-]+")
KINDS = ("re.compile", "re.<fn> literal", "cue pattern", "word lists")


def _is_re_call(node: ast.Call, names: frozenset[str]) -> str | None:
    f = node.func
    if (
        isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Name)
        and f.value.id == "re"
        and f.attr in names
    ):
        return f.attr
    return None


def _is_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def _words(elts: list[ast.expr]) -> bool:
    strings = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return len(strings) >= 3 and len(strings) == len(elts) and all(WORD.fullmatch(s) for s in strings)


def count_module(tree: ast.AST) -> Counter[str]:
    out: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _is_re_call(node, frozenset({"compile"})):
                out["re.compile"] += 1
            elif _is_re_call(node, RE_CALLS) and node.args and _is_literal(node.args[0]):
                out["re.<fn> literal"] += 1
            for kw in node.keywords:
                if kw.arg == "pattern" and _is_literal(kw.value):
                    out["cue pattern"] += 1
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and f.attr == "split"
                and not node.args
                and isinstance(f.value, ast.Constant)
                and isinstance(f.value.value, str)
                and len(f.value.value.split()) >= 3
            ):
                out["word lists"] += 1
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)) and _words(node.elts):
            out["word lists"] += 1
    return out


def count(root: Path, packages: list[str]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for package in packages:
        total: Counter[str] = Counter()
        for path in sorted((root / package).rglob("*.py")):
            total += count_module(ast.parse(path.read_text(encoding="utf-8")))
        table[package] = {k: total[k] for k in KINDS}
    table["total"] = {k: sum(table[p][k] for p in packages) for k in KINDS}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=["answering", "retrieval", "text", "reading"])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / "src" / "carecite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    table = count(args.root, args.packages)
    if args.json:
        json.dump(table, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'package':<10} " + " ".join(f"{k:>16}" for k in KINDS) + f" {'all':>6}")
    for package, row in table.items():
        print(f"{package:<10} " + " ".join(f"{row[k]:>16}" for k in KINDS) + f" {sum(row.values()):>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
