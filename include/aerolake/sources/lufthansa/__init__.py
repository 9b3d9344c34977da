"""Lufthansa Open API: OAuth2 client, the day's fetch plan, and record extraction.

The real API's quirks handled here (aerolake/mockapi reproduces them): any one-member array comes as a plain object; numbers come as int or
string; ``Position`` may be ``{"@nil": "true"}``; a 404 ``ProcessingErrors`` answer means "no data for this
window"; the gateway answers 401 ``{"Error": "Not Authorized"}`` for an expired token and 403 "Account Over
Queries Per Second Limit" when called too fast (retried with backoff, never fatal on its own).

The package: ``spec.py`` (endpoints, publications, checks), ``plan.py`` (the requests of a partition),
``client.py`` (HTTP, the API's answers), ``normalize.py`` (keys and normalizers); this module is its
:class:`aerolake.sources.base.Source`.
"""

from __future__ import annotations

from aerolake.sources.lufthansa.client import extract_records, make_client
from aerolake.sources.lufthansa.normalize import (
           clean_observations,
           clean_reference,
           missing_key_reason,
           natural_key,
)
from aerolake.sources.lufthansa.plan import cannot_serve_hint, partition_plan, servable
from aerolake.sources.lufthansa.spec import SPEC

__all__ = ["SPEC", "cannot_serve_hint", "clean_observations", "clean_reference", "extract_records", "make_client",
           "missing_key_reason", "natural_key", "partition_plan", "servable"]
