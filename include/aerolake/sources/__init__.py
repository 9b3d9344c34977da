"""One package per source: its spec, fetch plan, client and normalizers (see :mod:`aerolake.sources.base`).

A source package ``aerolake.sources.<name>`` is what the five stages of :mod:`aerolake.pipeline.stages` call: it
implements :class:`aerolake.sources.base.Source`, and imports nothing of the pipeline. Adding a source is
adding its package: the registry below finds it (``tests/unit/test_architecture.py`` checks each package
against the protocol and its layout).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

from aerolake.core.settings import Budget, Settings, _env_int

if TYPE_CHECKING:
    from aerolake.sources.base import Source

#: The sources the pipeline knows: the packages of this package, by name (cheap: nothing is imported).
SOURCES: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg))


@cache
def source(name: str) -> Source:
    """The source called ``name``, one of :data:`SOURCES`: its package's ``spec``, ``plan``, ``client`` and
    ``normalize`` modules as one :class:`aerolake.sources.base.SourcePackage`. They are imported here, on first
    use: each pulls in its client and pandas, which the DAG files must not pay for at parse time. A name that is
    not a source package is refused before anything is imported."""
    from aerolake.sources.base import SourcePackage

    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    package = SourcePackage(*(importlib.import_module(f"{__name__}.{name}.{part}")
                              for part in ("spec", "plan", "client", "normalize")))
    if package.SPEC.name != name:
        raise RuntimeError(f"aerolake.sources.{name} declares SPEC.name {package.SPEC.name!r}: they must agree")
    return package


def budget_of(settings: Settings, name: str) -> Budget:
    """The request budget of source ``name``: ``settings.budgets`` if it names one, else its plan's (``SPEC.budget``, e.g. the
    free plan's 1,000 calls a month for Airlabs; none for Lufthansa) with each half replaced by
    ``AEROLAKE_<SOURCE>_BUDGET_PER_DAY`` / ``_PER_MONTH`` when set (empty = no limit)."""
    if name in settings.budgets:
        return settings.budgets[name]
    plan = source(name).SPEC.budget
    prefix = f"AEROLAKE_{name.upper()}_BUDGET_PER"
    return Budget(_env_int(f"{prefix}_DAY", plan.per_day), _env_int(f"{prefix}_MONTH", plan.per_month))
