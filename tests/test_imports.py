"""Imports run one way: no cycle among dispatch's top-level packages, and the pure modules are pure by import.

Read from the source with ast (nothing is imported), so a lazy import inside a function counts like any other.
"""
import ast
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dispatch"

# The composition root: these functions import everything on purpose, to build the app and its commands.
COMPOSITION_ROOT = {("dispatch", "create_app"), ("dispatch", "_wire_consequences"), ("dispatch.cli", "init_app")}

DOORS = {"api", "console", "intake", "resident", "teams", "monitor", "open311", "demo", "sla", "openapi", "cli"}
BASE = {"errors", "extensions", "localtime", "timeutil", "cache", "rows", "statements", "storage", "images", "urls"}

PURE = ["dispatch.tickets.lifecycle", "dispatch.sla.calendar", "dispatch.sla.clock", "dispatch.teams.routing",
        "dispatch.notify.rules", "dispatch.monitor.facts", "dispatch.tickets.classifier", "dispatch.localtime",
        "dispatch.intake.small_talk"]
IMPURE = {"flask", "sqlalchemy", "werkzeug"}  # and any flask_* extension, and dispatch.extensions (bound to the app)


def path_of(module):
    """The file of a dispatch module or package, or None when the name is not one (an attribute)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def all_modules(package=PACKAGE):
    """Every module under a package's folder (dispatch/ unless told), by dotted name."""
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolved(module, node):
    """The modules one import statement brings in (`from pkg import sub` is pkg.sub when sub is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    source = node.module or ""
    if node.level:  # relative: start from the importing module's package
        package = module.split(".") if path_of(module).name == "__init__.py" else module.split(".")[:-1]
        source = ".".join(package[:len(package) - node.level + 1] + ([source] if source else []))
    names = [f"{source}.{alias.name}" if path_of(f"{source}.{alias.name}") else source for alias in node.names]
    return list(dict.fromkeys(names))


@cache
def imports_of(module):
    """(imported module, line) for every import in a module, at any depth, outside the composition root."""
    found = []

    def visit(node, inside):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside = node.name if inside is None else inside
        if (module, inside) in COMPOSITION_ROOT:
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend((name, node.lineno) for name in _resolved(module, node))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path_of(module).read_text(encoding="utf-8")), None)
    return tuple(found)


def top_level(module):
    """The package or module directly under dispatch/ that a dotted name belongs to ('dispatch' for the app)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_edges():
    """{(importer's top level, imported top level): [why, ...]} over dispatch, less the pending pipeline edges."""
    edges = {}
    for module in all_modules():
        for imported, line in imports_of(module):
            if imported.split(".")[0] != PACKAGE:
                continue
            pair = (top_level(module), top_level(imported))
            if pair[0] != pair[1]:
                edges.setdefault(pair, []).append(f"{module}:{line} imports {imported}")
    return edges


def find_cycle(edges):
    """One cycle of the graph as a list of nodes (first repeated last), or None."""
    graph = {}
    for start, end in edges:
        graph.setdefault(start, set()).add(end)
    state, path = {}, []

    def walk(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def explain(edges, cycle):
    """The cycle's path and, for each step, the imports that make it."""
    steps = [f"  {a} → {b}: " + "; ".join(edges[a, b][:3]) for a, b in zip(cycle, cycle[1:])]
    return " → ".join(cycle) + "\n" + "\n".join(steps)


def imports_from(package, edges):
    """{imported top level: [why, ...]} for one top-level package."""
    return {end: why for (start, end), why in edges.items() if start == package}


def test_no_cycle_among_top_level_packages():
    edges = package_edges()
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + explain(edges, cycle)


def test_the_cycle_finder_names_a_cycle():
    assert find_cycle({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == ["a", "b", "c", "a"]
    assert find_cycle({("a", "b"): [], ("a", "c"): [], ("b", "c"): []}) is None


def test_tickets_imports_none_of_the_doors():
    wrong = {k: v for k, v in imports_from("tickets", package_edges()).items() if k in DOORS}
    assert not wrong, wrong


def test_org_imports_nothing_above_it():
    above = DOORS | {"tickets", "wechat", "notify"}
    wrong = {k: v for k, v in imports_from("org", package_edges()).items() if k in above}
    assert not wrong, wrong


def test_base_modules_import_only_base_modules():
    edges = package_edges()
    wrong = {(k, end): v for k in BASE for end, v in imports_from(k, edges).items() if end not in BASE}
    assert not wrong, wrong


def test_only_the_app_imports_the_command_registry():
    importers = {start: why for (start, end), why in package_edges().items() if end == "cli"}
    assert not importers, importers


def test_bench_modules_import_one_way():
    """bench/run.py at the top imports the benches; they share helpers through modules that import none of them."""
    edges = {(module, imported): [f"{module}:{line} imports {imported}"]
             for module in all_modules("bench") for imported, line in imports_of(module)
             if imported.startswith("bench.") and imported != module}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + explain(edges, cycle)


def is_impure(module):
    """Flask, a Flask extension, SQLAlchemy, Werkzeug or the app's bound extensions."""
    return module.split(".")[0] in IMPURE or module.startswith(("flask_", "dispatch.extensions"))


def _impure_reach(start):
    """Every impure import reachable from a module through dispatch modules (not their parent packages)."""
    seen, todo, impure = set(), [start], []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for imported, line in imports_of(module):
            if is_impure(imported):
                impure.append(f"{module}:{line} imports {imported}")
            elif imported.split(".")[0] == PACKAGE:
                todo.append(imported)
    return impure


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_are_pure_by_import(module):
    impure = _impure_reach(module)
    assert not impure, "\n".join(impure)


def test_the_purity_check_follows_imports():
    found = _impure_reach("dispatch.templating")  # templating → timeutil → flask
    assert any(why.startswith("dispatch.timeutil:") and why.endswith(" imports flask") for why in found)
