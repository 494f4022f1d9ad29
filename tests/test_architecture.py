"""The package's architecture, enforced: no import cycles, the layer rule, no module state.

DESIGN.md §1: data flows one way, spec → compile → likelihood → optimize → infer →
compat/interfaces, and each layer imports only from the layers below it.  Imports are read
from the source with :mod:`ast` (including imports inside functions, which run too; imports
under ``if TYPE_CHECKING:`` are for annotations only and are left out).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import itertools
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "hfx"

# Rank of each layer: a module may import modules of its own layer or of a lower rank.
# ``hfx.errors`` is the bottom (importable from everywhere), ``hfx`` (its __init__) the top.
LAYERS = {
    "hfx.errors": 0,
    "hfx._names": 0,
    "hfx.spec": 1,
    "hfx.compile": 2,
    "hfx.likelihood": 3,
    "hfx.optimize": 4,
    "hfx.infer": 5,
    "hfx.diagnostics": 5,
    "hfx.simplemodels": 5,
    "hfx.abcd": 5,
    "hfx.compat": 6,
    "hfx.interfaces": 6,
    "hfx.__main__": 7,
    "hfx": 7,
}
# Top-level packages of the same rank that must still not import each other.
SEPARATE = {
    ("hfx.compat", "hfx.interfaces"),
    ("hfx.interfaces", "hfx.compat"),
    ("hfx.infer", "hfx.diagnostics"),  # diagnostics sit on top of inference, never below it
}

# Upward imports kept on purpose (none may close a cycle: test_no_import_cycles has no exceptions).
ALLOWED_UPWARD = {
    ("hfx.spec.workspace", "hfx.likelihood.build"): "Workspace.model(), pyhf's one-call "
    "convenience; imported when called",
    ("hfx.interfaces.cli.main", "hfx"): "hfx.__version__",
    ("hfx.interfaces.io.hepdata", "hfx"): "hfx.__version__",
    ("hfx.compat.pyhf.readxml", "hfx.interfaces.io.xml_import"): "pyhf.readxml is part of "
    "pyhf's API; the facade forwards to hfx's one XML reader, imported when called",
    ("hfx.compat.pyhf.writexml", "hfx.interfaces.io.xml_export"): "pyhf.writexml is part of "
    "pyhf's API; the facade forwards to hfx's one XML writer, imported when called",
}

# Third-party packages only hfx.interfaces may import.
INTERFACE_ONLY = (
    "click",
    "typer",
    "matplotlib",
    "uproot",
    "starlette",
    "fastapi",
    "flask",
    "uvicorn",
    "distributed",
)

# Optional extras: a module that needs a missing one is skipped by the runtime checks.
OPTIONAL = (
    "numba",
    "jax",
    "jaxlib",
    "torch",
    "iminuit",
    "uproot",
    "lxml",
    "matplotlib",
    "starlette",
    "uvicorn",
    "distributed",
)

MUTABLE = (list, dict, set, bytearray, deque)

_SCHEMA_MEMO = "memo of a pure function; a process's history never changes a result"
# Module-level state kept on purpose, each with its reason (test_allowed_state_exists keeps
# this list from outliving the code).
ALLOWED_STATE = {
    ("hfx.spec.validate", "_schema_documents"): _SCHEMA_MEMO,
    ("hfx.spec.validate", "_registry"): _SCHEMA_MEMO,
    ("hfx.spec.validate", "schema_validator"): _SCHEMA_MEMO,
    ("hfx.spec.validate", "_fast_checker"): _SCHEMA_MEMO,
    ("hfx.spec.validate", "_ref_validator"): _SCHEMA_MEMO,
    ("hfx.compat.pyhf.events", "__events"): "pyhf's event registry is process-wide by "
    "contract (pyhf.events.subscribe/trigger); hfx's own code never reads it",
    ("hfx.compat.pyhf.events", "__disabled_events"): "pyhf's event registry (see __events)",
    ("hfx.compat.pyhf.backend", "_state"): "pyhf's set_backend is global by contract (the "
    "pyhf facade's API); it sets only a convenience default that affects inference calls "
    "made after it, never models or results built before",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for sub in child.orelse:
                yield sub
                yield from _runtime_nodes(sub)
            continue
        yield child
        yield from _runtime_nodes(child)


@functools.cache
def parse(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))


def _absolute(name: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if is_package(name) else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_names(name: str) -> Iterator[tuple[str, int]]:
    """(absolute dotted name, line) of everything ``name`` imports at run time."""
    for node in _runtime_nodes(parse(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in MODULES else base), node.lineno


def hfx_imports(name: str) -> dict[str, int]:
    """The hfx modules ``name`` imports (a package import is its __init__) → first line."""
    out: dict[str, int] = {}
    for target, line in imported_names(name):
        if target != "hfx" and not target.startswith("hfx."):
            continue
        while target not in MODULES:  # `import hfx.a.b.attr`-style names: the module above
            target = target.rpartition(".")[0]
        if target != name:
            out.setdefault(target, line)
    return out


def import_graph() -> dict[str, dict[str, int]]:
    return {name: hfx_imports(name) for name in MODULES}


def layer(name: str) -> str:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return key
    raise AssertionError(f"module {name} belongs to no layer; add it to LAYERS")


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in graph:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return out


def one_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """A shortest import loop through the first module of ``component``."""
    members = set(component)
    start = component[0]
    prev: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in graph[v]:
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return component


# --- (a) no import cycles ------------------------------------------------------------------------


def test_graph_sees_function_level_and_reexport_imports():
    graph = import_graph()
    assert "hfx.infer.asymptotic" in graph["hfx.infer"]  # a package __init__'s re-export
    assert "hfx.errors" in graph["hfx.spec.workspace"]


def test_type_checking_imports_are_left_out():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nimport b\n"
    tree = ast.parse(source)
    names = [n.names[0].name for n in _runtime_nodes(tree) if isinstance(n, ast.Import)]
    assert names == ["b"]


def test_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    lines = []
    for comp in cycles:
        loop = one_cycle(graph, comp)
        steps = " → ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(loop))
        lines.append(f"{len(comp)} modules: {', '.join(comp)}\n    e.g. {steps} → {loop[-1]}")
    assert not cycles, "import cycles:\n  " + "\n  ".join(lines)


def test_cycle_finder_finds_a_loop():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


# --- (b) the layer rule --------------------------------------------------------------------------


def test_layers():
    bad = []
    for name, targets in import_graph().items():
        src = layer(name)
        for target, line in targets.items():
            dst = layer(target)
            if (name, target) in ALLOWED_UPWARD:
                continue
            if LAYERS[dst] > LAYERS[src] or (src, dst) in SEPARATE:
                bad.append(f"{name} (line {line}) imports {target}: {src} may not use {dst}")
    assert not bad, "layer rule broken:\n  " + "\n  ".join(bad)


def test_interface_only_dependencies():
    bad = []
    for name in MODULES:
        if name.startswith("hfx.interfaces.") or name == "hfx.interfaces":
            continue
        for target, line in imported_names(name):
            if target.split(".")[0] in INTERFACE_ONLY:
                bad.append(f"{name} (line {line}) imports {target}")
    assert not bad, "only hfx.interfaces may import these:\n  " + "\n  ".join(bad)


# --- (c) no module-level mutable state -----------------------------------------------------------


def test_no_global_statements():
    bad = [
        f"{name} line {node.lineno}: global {', '.join(node.names)}"
        for name in MODULES
        for node in ast.walk(parse(name))
        if isinstance(node, ast.Global)
    ]
    assert not bad, "`global` statements (module state changed at run time):\n  " + "\n  ".join(bad)


def _targets(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            yield from _targets(elt)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)


def module_level_names(name: str) -> set[str]:
    """Names bound by assignment or definition at module level (also in if/try/with blocks)."""
    out: set[str] = set()
    todo: list[ast.stmt] = list(parse(name).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Assign):
            for target in node.targets:
                out.update(_targets(target))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            out.update(_targets(node.target))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for sub in getattr(node, field, []):
                    todo.extend(sub.body if isinstance(sub, ast.ExceptHandler) else [sub])
    return out


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        if missing in OPTIONAL:
            pytest.skip(f"{name} needs the optional {missing}")
        raise


def _is_cache(obj: object) -> bool:
    return callable(obj) and hasattr(obj, "cache_info") and hasattr(obj, "cache_clear")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_mutable_module_state(name):
    module = _import(name)
    bad = []
    for attr in sorted(module_level_names(name)):
        if attr == "__all__" or not hasattr(module, attr) or (name, attr) in ALLOWED_STATE:
            continue
        value = getattr(module, attr)
        if isinstance(value, MUTABLE):
            bad.append(
                f"{attr} is a module-level {type(value).__name__} "
                "(use a tuple, frozenset or types.MappingProxyType)"
            )
        elif _is_cache(value):
            bad.append(f"{attr} is a module-level cache (functools.lru_cache/cache)")
        elif inspect.isclass(value):
            for key, member in vars(value).items():
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                if _is_cache(member):
                    bad.append(f"{attr}.{key} is a class-level cache (functools.lru_cache)")
    assert not bad, f"{name}: module-level mutable state:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize(("name", "attr"), sorted(ALLOWED_STATE))
def test_allowed_state_exists(name, attr):
    assert attr in module_level_names(name), f"{name}.{attr} is gone: drop it from ALLOWED_STATE"
    value = getattr(_import(name), attr)
    assert isinstance(value, MUTABLE) or _is_cache(value), f"{name}.{attr} is no longer state"
