"""One package per source: its spec, fetch plan, client and normalizers (see :mod:`aerolake.sources.base`).

A source package ``aerolake.sources.<name>`` is what the five stages of :mod:`aerolake.stages` call: it
implements :class:`aerolake.sources.base.Source`, and imports nothing of the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aerolake.sources.base import Source

#: The sources the pipeline knows; each is the package of the same name in this package (see :func:`source`).
SOURCES = ("lufthansa", "airlabs", "aviationstack")


def source(name: str) -> Source:
    """The source called ``name``. The modules are imported here, on first use, by name in code (never from
    a string): each pulls in its client and pandas, which the DAG files must not pay for at parse time."""
    from aerolake.sources import airlabs, aviationstack, lufthansa

    modules = {module.SPEC.name: module for module in (lufthansa, airlabs, aviationstack)}
    if name not in modules:
        raise ValueError(f"unknown source {name!r}; known: {sorted(modules)}")
    return modules[name]
