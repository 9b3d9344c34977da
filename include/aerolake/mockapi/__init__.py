"""A faithful, deterministic mock of the flight-data APIs aerolake reads (offline demo, tests, benchmarks).

Start it in-process with ``MockApi`` (tests) or as ``python -m aerolake.mockapi`` (demo, benchmarks).
Sources are mounted by prefix: ``/lufthansa/v1`` (see ``aerolake.mockapi.lufthansa``).  The data
come from ``aerolake.mockapi.world``; knobs from ``MockConfig``; admin endpoints under ``/_mock/``.
"""

from aerolake.mockapi.config import MockConfig
from aerolake.mockapi.server import MockApi, MockServer

__all__ = ["MockApi", "MockConfig", "MockServer"]
