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

from aerolake.core.settings import Budget, Settings, env_float, env_int, env_list

if TYPE_CHECKING:
    from aerolake.sources.base import Source, SourceSpec
    from aerolake.stores.mysql.merge import Authority

#: The sources the pipeline knows: the packages of this package, by name (cheap: nothing is imported).
SOURCES: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg))


@cache
def spec_of(name: str) -> SourceSpec:
    """The :class:`aerolake.sources.base.SourceSpec` of source ``name``: its ``spec`` module only (data, cheap:
    no client, no pandas). A name that is not a source package is refused before anything is imported."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    spec = importlib.import_module(f"{__name__}.{name}.spec").SPEC
    if spec.name != name:
        raise RuntimeError(f"aerolake.sources.{name} declares SPEC.name {spec.name!r}: they must agree")
    return spec


@cache
def source(name: str) -> Source:
    """The source called ``name``, one of :data:`SOURCES`: its package's ``spec``, ``plan``, ``client`` and
    ``normalize`` modules as one :class:`aerolake.sources.base.SourcePackage`. They are imported here, on first
    use: each pulls in its client and pandas, which the DAG files must not pay for at parse time. A name that is
    not a source package is refused before anything is imported."""
    from aerolake.sources.base import SourcePackage

    spec_of(name)
    return SourcePackage(*(importlib.import_module(f"{__name__}.{name}.{part}")
                           for part in ("spec", "plan", "client", "normalize")))


def authorities() -> dict[str, Authority]:
    """Every source's :class:`aerolake.stores.mysql.merge.Authority`, by name: how the ``flights`` merge ranks
    them (the load passes these to :func:`aerolake.stores.mysql.load.publish_staging`)."""
    return {name: spec_of(name).authority for name in SOURCES}


def budget_of(settings: Settings, name: str) -> Budget:
    """The request budget of source ``name``: ``settings.budgets`` if it names one, else its plan's (``SPEC.budget``, e.g. the
    free plan's 1,000 calls a month for Airlabs; none for Lufthansa) with each half replaced by
    ``AEROLAKE_<SOURCE>_BUDGET_PER_DAY`` / ``_PER_MONTH`` when set (empty = no limit)."""
    if name in settings.budgets:
        return settings.budgets[name]
    plan = spec_of(name).budget
    prefix = f"AEROLAKE_{name.upper()}_BUDGET_PER"
    return Budget(env_int(f"{prefix}_DAY", plan.per_day), env_int(f"{prefix}_MONTH", plan.per_month))


def hubs_of(settings: Settings, name: str) -> tuple[str, ...]:
    """The airports source ``name`` follows: ``settings.hubs`` if it names them, else ``AEROLAKE_<NAME>_HUBS``
    (comma-separated IATA codes), else its spec's (``FRA,MUC``)."""
    if name in settings.hubs:
        return settings.hubs[name]
    return env_list(f"AEROLAKE_{name.upper()}_HUBS", spec_of(name).hubs)


def calls_per_hour_of(settings: Settings, name: str) -> int | None:
    """The hourly pace of source ``name`` across processes (None: none): ``settings.calls_per_hour`` if it names
    one, else ``AEROLAKE_<NAME>_CALLS_PER_HOUR`` (empty: none), else its spec's (``SPEC.api.calls_per_hour``)."""
    if name in settings.calls_per_hour:
        return settings.calls_per_hour[name]
    return env_int(f"AEROLAKE_{name.upper()}_CALLS_PER_HOUR", spec_of(name).api.calls_per_hour)


def calls_per_second_of(settings: Settings, name: str) -> float:
    """The pace of source ``name``'s client (0: unthrottled): ``settings.calls_per_second`` if it names one,
    else ``AEROLAKE_<NAME>_CALLS_PER_SECOND``, else its spec's (``SPEC.api.calls_per_second``)."""
    if name in settings.calls_per_second:
        return settings.calls_per_second[name]
    value = env_float(f"AEROLAKE_{name.upper()}_CALLS_PER_SECOND", spec_of(name).api.calls_per_second)
    if value < 0:
        raise ValueError(f"AEROLAKE_{name.upper()}_CALLS_PER_SECOND must not be negative, got {value}")
    return value
