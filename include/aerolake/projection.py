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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MISSING = object()


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
    """Row fields by field path (``{"dep_airport": "Departure.AirportCode", ...}``), for MongoDB or Python."""

    def __init__(self, fields: Mapping[str, str]):
        if "_id" in fields:
            raise ValueError("_id is in every row already")
        self.fields = dict(fields)
        self._nulls = dict.fromkeys(self.fields)
        self._root = _Node()
        for name, path in self.fields.items():
            parts = tuple(path.split("."))
            node = self._root
            for depth, part in enumerate(parts):
                node.paths.append((name, parts[depth:]))
                node = node.children.setdefault(part, _Node())
            node.fields.append(name)

    def stage(self) -> dict[str, Any]:
        """The ``$project`` stage that makes MongoDB return the rows (a missing value as ``null``, so every
        row has every field)."""
        return {"$project": {"_id": 1, **{name: {"$ifNull": [f"${path}", None]}
                                          for name, path in self.fields.items()}}}

    def project(self, doc: dict[str, Any]) -> dict[str, Any]:
        """What :meth:`stage` makes of ``doc``, in one walk of the paths."""
        row = {"_id": doc.get("_id"), **self._nulls}
        _walk(doc, self._root, row)
        return row


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
