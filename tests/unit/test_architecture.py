"""The import rules of the package, read from the source (no import is executed, imports inside functions
count): no import cycle outside the mock API, and sources and stores never reach back into the pipeline."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "aerolake"
#: the pipeline and the DAG layer: what a source or a store must not import
PIPELINE = ("aerolake.pipeline", "aerolake.airflow")
SOURCES_DIR = PACKAGE / "sources"


@cache
def module_names() -> frozenset[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return frozenset(names)


def imports_of(path: Path) -> set[str]:
    """The modules ``path`` imports: ``from pkg import mod`` is ``pkg.mod`` when that is a module, else ``pkg``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in module_names() else node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    """aerolake module -> the aerolake modules it imports."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = (imports_of(path) & module_names()) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_no_import_cycle_outside_the_mock_api() -> None:
    found = [c for c in cycles(import_graph()) if not all(m.startswith("aerolake.mockapi") for m in c)]
    assert found == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", [*modules("core"), *modules("sources"), *modules("stores")],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_sources_and_stores_never_import_the_pipeline(path: Path) -> None:
    bad = sorted(name for name in imports_of(path) if name.startswith(PIPELINE))
    assert bad == [], f"{path.relative_to(PACKAGE)} imports {bad}"


def test_the_rules_see_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from aerolake.pipeline.stages import iter_documents\n    from aerolake.pipeline import stages\n")
    assert imports_of(module) == {"aerolake.pipeline.stages"}


def test_stores_do_not_import_sources() -> None:
    for path in modules("stores"):
        assert not any(name.startswith("aerolake.sources") for name in imports_of(path)), path


def test_every_source_module_implements_the_source_protocol() -> None:
    from aerolake.sources import SOURCES, source
    from aerolake.sources.base import Source, SourceSpec

    for name in SOURCES:
        module = source(name)
        assert isinstance(module, Source), name
        assert isinstance(module.SPEC, SourceSpec) and module.SPEC.name == name
        package = SOURCES_DIR / name
        assert sorted(p.name for p in package.glob("*.py")) == [
            "__init__.py", "client.py", "normalize.py", "plan.py", "spec.py"], name
    assert not isinstance(object(), Source)


def test_every_spec_publishes_what_it_cleans() -> None:
    """A reference endpoint is one of the source's endpoints and its entity is published; every publication
    counts under an endpoint of the source or a fill of the clean skeleton."""
    from aerolake.sources import SOURCES, source

    for name in SOURCES:
        spec = source(name).SPEC
        entities = {p.entity for p in spec.publish}
        for endpoint, entity in spec.references:
            assert endpoint in spec.endpoints and entity in entities, (name, endpoint, entity)
        for p in spec.publish:
            assert p.endpoint in spec.endpoints or p.endpoint.endswith("_fill") or p.endpoint == "positions", (name, p)
        assert spec.tables == tuple(dict.fromkeys(p.table for p in spec.publish))


def test_an_unknown_source_is_refused_by_name() -> None:
    from aerolake.sources import source

    with pytest.raises(ValueError, match="unknown source 'flightaware'; known: \\['airlabs', 'aviationstack', "
                                         "'lufthansa', 'opensky'\\]"):
        source("flightaware")


#: the modules that may import Airflow: the DAG layer, the connection lookup, and the streaming CLI (which imports
#: it first, so that its own logging setup comes after Airflow's)
AIRFLOW_MODULES = {"aerolake.airflow.dagfactory", "aerolake.core.connections", "aerolake.streaming.cli"}


def test_only_the_dag_layer_and_the_connection_lookup_import_airflow() -> None:
    """Stages, stores, sources, the web API and the mock run and are tested without Airflow."""
    importing = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if any(m == "airflow" or m.startswith("airflow.") for m in imports_of(path)):
            importing.add(name)
    assert importing == AIRFLOW_MODULES


def test_the_sources_are_the_packages_of_aerolake_sources() -> None:
    from aerolake.sources import SOURCES

    assert list(SOURCES) == sorted(p.name for p in SOURCES_DIR.iterdir() if (p / "__init__.py").exists())
    assert len(SOURCES) >= 3


#: where a source may be named in code: its own package, the mock API (which plays every source) and the demo
#: (which runs each DAG); anywhere else the code asks the registry, so a new source is its package alone
NAMING_SOURCES = ("aerolake/sources/", "aerolake/mockapi/", "aerolake/demo.py")


def names_in_code(path: Path) -> set[str]:
    """The identifiers and string constants of a module, but not its docstrings (comments are not in the AST)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.add(node.value)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.alias):
            found.update(name for name in (node.name, node.asname) if name)
    return found


def test_no_module_outside_the_sources_names_a_source() -> None:
    from aerolake.sources import SOURCES

    naming = {}
    for path in PACKAGE.rglob("*.py"):
        where = path.relative_to(PACKAGE.parent).as_posix()
        if where.startswith(NAMING_SOURCES):
            continue
        hits = sorted(text for text in names_in_code(path) if any(name in text.lower() for name in SOURCES))
        if hits:
            naming[where] = hits
    assert naming == {}


def test_no_shared_sql_file_is_named_after_a_source() -> None:
    """A check or query that only one source uses today is named for what it does, so the next source can use it."""
    from aerolake.sources import SOURCES

    named = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.sql")
                   if any(name in p.name for name in SOURCES))
    assert named == []


def test_the_naming_rule_sees_a_string_and_an_identifier_but_not_a_docstring(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Airlabs."""\nimport aerolake.sources.airlabs as airlabs_mod\nx = "lufthansa_api"\n')
    assert {"aerolake.sources.airlabs", "airlabs_mod", "lufthansa_api"} <= names_in_code(module)
    assert "Airlabs." not in names_in_code(module)
