"""Flat rows out of nested documents: MongoDB's ``$project`` of field paths, and the same in Python.

Cleaning a large endpoint needs a couple of dozen scalars from each nested record. Asking MongoDB for them
(``{"$project": {"dep_airport": "$Departure.AirportCode", ...}}``) means pymongo decodes one flat document
per record instead of a tree of ~20 sub-documents: for a day of 90,000 Lufthansa flights, 0.5 CPU seconds
instead of about 2.8 on the benchmark machine (``bench/README.md``). In-process mongomock gets the same rows
from :meth:`FieldPaths.project`, which follows MongoDB's rules for a field path:

* through a document, by name; a field that is there with ``null`` is ``None``;
* through an array, what each of its documents (and, nested, arrays) has at the rest of the path, as an
  array (so a cleaner sees a list where it expected text, and treats it as unknown);
* into anything else (text, a number, ``null``), or a name that is not there: missing, ``None`` in the row
  (``$ifNull``: every row has every field, so a cleaner can take them all with one ``itemgetter``).

A row also carries the document's ``_id``, to find the whole document again (quarantine stores records whole).
Its fields go by one-letter names on the wire (see :class:`FieldPaths`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

_MISSING = object()
_LETTERS = string.ascii_letters


def path_value(value: Any, parts: list[str] | tuple[str, ...]) -> Any:
    """The value at ``parts`` by MongoDB's field path rules, or :data:`_MISSING`."""
    for i, part in enumerate(parts):
        if value.__class__ is dict:
            value = value.get(part, _MISSING)
            if value is _MISSING:
                return _MISSING
        elif value.__class__ is list:
            rest = parts[i:]
            found = (path_value(item, rest) for item in value if item.__class__ is dict or item.__class__ is list)
            return [item for item in found if item is not _MISSING]
        else:
            return _MISSING
    return value


class _Node:
    """One name along the paths: the row fields that end here and the names that go deeper."""

    __slots__ = ("children", "fields", "paths")

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.children: dict[str, _Node] = {}
        self.paths: list[tuple[str, tuple[str, ...]]] = []  # every (field, rest of path) below, for arrays


class FieldPaths:
    """Row fields by field path (``{"dep_airport": "Departure.AirportCode", ...}``), for MongoDB or Python.

    In a row each field goes by a one-letter name (``compact``, the default): BSON repeats every name in
    every row, and CPython has the one-letter strings ready made, so decoding a row of 26 fields costs about
    half as much as with the fields' own names (measured: 42 against 79 ms per 20,000 rows, 403 against 707
    bytes a row). :meth:`columns` reads rows back by field; :meth:`named` shows one row by field names.
    """

    def __init__(self, fields: Mapping[str, str], compact: bool = True):
        if "_id" in fields:
            raise ValueError("_id is in every row already")
        if compact and len(fields) > len(_LETTERS):
            raise ValueError(f"at most {len(_LETTERS)} compact fields, got {len(fields)}")
        self.fields = dict(fields)
        self.wire = dict(zip(self.fields, _LETTERS if compact else self.fields, strict=False))
        self._nulls = dict.fromkeys(self.wire.values())
        self._getter = itemgetter(*self.wire.values())
        self._root = _Node()
        for name, path in self.fields.items():
            parts = tuple(path.split("."))
            node = self._root
            for depth, part in enumerate(parts):
                node.paths.append((self.wire[name], parts[depth:]))
                node = node.children.setdefault(part, _Node())
            node.fields.append(self.wire[name])

    def stage(self) -> dict[str, Any]:
        """The ``$project`` stage that makes MongoDB return the rows (a missing value as ``null``, so every
        row has every field)."""
        return {"$project": {"_id": 1, **{self.wire[name]: {"$ifNull": [f"${path}", None]}
                                          for name, path in self.fields.items()}}}

    def project(self, doc: dict[str, Any]) -> dict[str, Any]:
        """What :meth:`stage` makes of ``doc``, in one walk of the paths."""
        row = {"_id": doc.get("_id"), **self._nulls}
        _walk(doc, self._root, row)
        return row

    def columns(self, rows: list[dict[str, Any]]) -> list[Sequence[Any]]:
        """The rows' values per field, in :attr:`fields` order (a field a row lacks is ``None``)."""
        if not rows:
            return [() for _ in self.fields]
        if len(self.fields) == 1:
            return [[row.get(self.wire[name]) for row in rows] for name in self.fields]
        try:
            return list(zip(*map(self._getter, rows), strict=True))
        except KeyError:  # a server that leaves a missing value out instead of sending null
            return [[row.get(key) for row in rows] for key in self.wire.values()]

    def named(self, row: dict[str, Any]) -> dict[str, Any]:
        """One row by field names (for people and tests)."""
        return {"_id": row.get("_id"), **{name: row.get(key) for name, key in self.wire.items()}}


def _walk(doc: dict[str, Any], node: _Node, row: dict[str, Any]) -> None:
    for name, child in node.children.items():
        value = doc.get(name, _MISSING)
        if value is _MISSING:
            continue
        for field in child.fields:
            row[field] = value
        if not child.children:
            continue
        cls = value.__class__
        if cls is dict:
            _walk(value, child, row)
        elif cls is list:  # rare: each field below is the array of what the elements hold
            for field, rest in child.paths:
                row[field] = path_value(value, rest)
