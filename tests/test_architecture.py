"""The package's import structure: no cycles, and no import from a lower layer to a higher one.

Walks every module's imports with ``ast`` (module-level and the lazy ones inside functions: both run),
leaving out ``if TYPE_CHECKING:`` blocks, which only name types. The layer order below is the one
the code has; docs/architecture.md draws it. A new top-level module or package must be placed here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "carecite"

# Lowest first. A unit may import units of its own layer or below, never above.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {"domain", "settings", "package_data", "ports", "text", "store_errors"}
    ),  # typed objects, seams
    frozenset({"records"}),  # the system of record: tables, engine, clock, counts
    frozenset({"audit"}),  # the hash-chained trail (over records)
    frozenset({"privacy", "monitoring", "timing"}),  # Presidio, identity scrubbing; telemetry, drift, timers
    frozenset({"access"}),  # who may see what, decided before retrieval
    frozenset({"feedback"}),  # flags on answers (access-checked, audited)
    frozenset({"reading"}),  # the question read once: kind, intent, named items, cues
    frozenset({"retrieval"}),  # dense, lexical, structured, fusion, re-rank
    frozenset({"answering"}),  # gate, prompt, generate, verify citations; the pipeline
    frozenset({"stores"}),  # the bundle of one data dir's stores, opened lazily
    frozenset({"ingest"}),  # writes the stores the read side queries (same sentence vectors)
    frozenset({"synth"}),  # generates a world and ingests it
    frozenset({"wiring"}),  # composition only
    frozenset({"evaluation"}),  # gold set, real data, benchmarks over the composed pipeline
    frozenset({"ui", "api", "cli"}),  # what people and programs talk to
)
LAYER_OF = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[str]:
    """Every ``carecite.*`` name imported outside ``if TYPE_CHECKING:``, as ``module.name`` for a
    ``from`` import (the name may be a submodule or something defined in the module)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(child)
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "carecite":
                yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("carecite."))
        yield from _runtime_imports(node)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            # "from carecite.records import tables" names a submodule; "... import make_engine" a name
            # defined in (or re-exported by) carecite.records itself.
            target = imported if imported in modules else imported.rsplit(".", 1)[0]
            if target in modules and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def unit_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "carecite"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            src, dst = unit_of(module), unit_of(target)
            if src != dst and LAYER_OF[dst] > LAYER_OF[src]:
                out.append(f"{module} (layer {src}) imports {target} (layer {dst})")
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_every_unit_of_the_package_has_a_layer(graph: dict[str, set[str]]) -> None:
    units = {unit_of(m) for m in graph} - {"carecite"}
    assert units - set(LAYER_OF) == set(), "place the new unit in LAYERS (tests/test_architecture.py)"
    assert set(LAYER_OF) - units == set(), "a layer names a unit that no longer exists"


def test_the_package_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_imports_a_higher_layer(graph: dict[str, set[str]]) -> None:
    assert upward_imports(graph) == []


def test_the_checks_catch_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    pkg = tmp_path / "carecite"
    (pkg / "records").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "records" / "__init__.py").write_text("")
    (pkg / "records" / "db.py").write_text("def f():\n    from carecite.audit import log\n")
    (pkg / "audit").mkdir()
    (pkg / "audit" / "__init__.py").write_text("")
    (pkg / "audit" / "log.py").write_text(
        "from typing import TYPE_CHECKING\nfrom carecite.records import db\n"
        "if TYPE_CHECKING:\n    from carecite.wiring import Stores\n"
    )
    graph = import_graph(pkg)
    assert graph["carecite.audit.log"] == {"carecite.records.db"}  # the type-only import is left out
    assert find_cycle(graph) == ["carecite.audit.log", "carecite.records.db", "carecite.audit.log"]
    assert upward_imports(graph) == [
        "carecite.records.db (layer records) imports carecite.audit.log (layer audit)"
    ]
