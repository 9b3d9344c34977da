"""The import rules of the package, read from the source (no import is executed): sources and stores never
reach back into the pipeline, and only the DAG layer imports Airflow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "aerolake"
#: the pipeline and the DAG layer: what a source or a store must not import
PIPELINE = ("aerolake.stages", "aerolake.dagfactory", "aerolake.orchestration")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at any level (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", [*modules("sources"), *modules("stores")], ids=lambda p: p.stem)
def test_sources_and_stores_never_import_the_pipeline(path: Path) -> None:
    bad = sorted(name for name in imports_of(path) if name.startswith(PIPELINE))
    assert bad == [], f"{path.relative_to(PACKAGE)} imports {bad}"


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from aerolake.stages import iter_documents\n")
    assert "aerolake.stages" in imports_of(module)


def test_stores_do_not_import_sources() -> None:
    for path in modules("stores"):
        assert not any(name.startswith("aerolake.sources") for name in imports_of(path)), path
