"""Flat rows of text out of nested documents: a MongoDB ``$project`` of field paths, and the same in Python.

Cleaning a large endpoint needs a couple of dozen scalars from each nested record, as text (the API sends
some codes as a number or a string at random). MongoDB hands them over ready: one flat row per record, every
field text or ``null`` (:func:`text_expression`), and the client decodes its batches straight into Arrow
columns (PyMongoArrow, in C), without a Python object per value. For a day of 90,000 Lufthansa flights
reading them costs about 0.5 CPU seconds, where decoding the nested records into dicts cost 3.4
(``bench/README.md``). In-process mongomock gets the same rows from :meth:`FieldPaths.project`, which follows
MongoDB's rules for a field path:

* through a document, by name;
* a value there is text when it is a string, or a whole number (``400`` and ``400.0`` -> ``"400"``);
  anything else is ``null``: a missing name, ``null``, an object (``{"@nil": "true"}``), a fraction, a
  boolean, and an array (a path through an array gives one; a code is never a list).

A row also carries the document's ``_id``, to find the whole document again (quarantine stores records whole).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_LETTERS = string.ascii_letters
_INT64 = 2**63


def text_expression(path: str) -> dict[str, Any]:
    """The aggregation expression for the value at ``path`` as text (see the module's rules)."""
    value = f"${path}"
    return {"$switch": {"branches": [
        {"case": {"$eq": [{"$type": value}, "string"]}, "then": value},
        {"case": {"$in": [{"$type": value}, ["int", "long"]]}, "then": {"$toString": value}},
        # a whole double (400.0) as its digits; one beyond 64 bits fails the conversion: null
        {"case": {"$and": [{"$eq": [{"$type": value}, "double"]}, {"$eq": [value, {"$trunc": value}]}]},
         "then": {"$toString": {"$convert": {"input": value, "to": "long", "onError": None}}}},
    ], "default": None}}


def as_text(value: Any) -> str | None:
    """What :func:`text_expression` makes of ``value``."""
    cls = value.__class__
    if cls is str:
        return value
    if isinstance(value, int) and cls is not bool:
        return str(value)
    if cls is float and value.is_integer() and -_INT64 <= value < _INT64:
        return str(int(value))
    return None


class _Node:
    """One name along the paths: the row fields that end here and the names that go deeper."""

    __slots__ = ("children", "fields")

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.children: dict[str, _Node] = {}


class FieldPaths:
    """Row fields by field path (``{"dep_airport": "Departure.AirportCode", ...}``), for MongoDB or Python.

    On the wire each field goes by a one-letter name (``compact``, the default): BSON repeats every name in
    every row, so this halves the bytes to send and to decode (403 against 707 bytes a row for the Lufthansa
    flights). :meth:`table` and :meth:`arrow_schema` give the rows back under the fields' own names.
    """

    def __init__(self, fields: Mapping[str, str], compact: bool = True):
        if "_id" in fields:
            raise ValueError("_id is in every row already")
        if compact and len(fields) > len(_LETTERS):
            raise ValueError(f"at most {len(_LETTERS)} compact fields, got {len(fields)}")
        self.fields = dict(fields)
        self.wire = dict(zip(self.fields, _LETTERS if compact else self.fields, strict=False))
        self._nulls = dict.fromkeys(self.wire.values())
        self._root = _Node()
        for name, path in self.fields.items():
            node = self._root
            for part in path.split("."):
                node = node.children.setdefault(part, _Node())
            node.fields.append(self.wire[name])

    def stage(self) -> dict[str, Any]:
        """The ``$project`` stage that makes MongoDB return the rows (every field, as text or ``null``)."""
        return {"$project": {"_id": 1, **{self.wire[name]: text_expression(path)
                                          for name, path in self.fields.items()}}}

    def project(self, doc: dict[str, Any]) -> dict[str, Any]:
        """What :meth:`stage` makes of ``doc`` (by wire names), in one walk of the paths."""
        row = {"_id": doc.get("_id"), **self._nulls}
        _walk(doc, self._root, row)
        return row

    def arrow_schema(self) -> pa.Schema:
        """The rows as Arrow decodes them (by wire names): ``_id`` and every field text."""
        import pyarrow as pa

        return pa.schema([("_id", pa.string()), *((key, pa.string()) for key in self.wire.values())])

    def table(self, rows: Iterable[dict[str, Any]]) -> pa.Table:
        """Rows of :meth:`project` (by wire names) as an Arrow table by field names (a field a row lacks is
        null)."""
        import pyarrow as pa

        rows = list(rows)
        columns = [[row.get(key) for row in rows] for key in ("_id", *self.wire.values())]
        return self.named_table(pa.Table.from_arrays([pa.array(c, type=pa.string()) for c in columns],
                                                     schema=self.arrow_schema()))

    def named_table(self, table: pa.Table) -> pa.Table:
        """A table of rows by wire names, by field names."""
        return table.rename_columns(["_id", *self.fields])


def _walk(doc: dict[str, Any], node: _Node, row: dict[str, Any]) -> None:
    for name, child in node.children.items():
        value = doc.get(name)
        if value is None:
            continue
        for field in child.fields:
            row[field] = as_text(value)
        if child.children and value.__class__ is dict:  # through an array: an array, not text (stays null)
            _walk(value, child, row)
