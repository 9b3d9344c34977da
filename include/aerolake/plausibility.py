"""Plausibility: whether a cleaned row can be true, by the rules the table contract declares per field
(:mod:`aerolake.schema`: ``Column.length``, ``.pattern``, ``.bounds``, ``.window`` and ``Table.spans``).

The clean skeleton (:mod:`aerolake.pipeline.clean`) applies them to every row a source writes, so every source,
and the next one, gets them: a row that breaks one is not written but quarantined with the rule's name
(``<table>.<column>.<rule>``, e.g. ``flights.scheduled_departure.window``) and the value. The rules:

``length``
    a text longer than its column (never cut to fit);
``pattern``
    a code that is not of its kind (``airline_code`` ``^[A-Z0-9]{2,3}$``, ...);
``range``
    a number outside its bounds (coordinates, altitude, speed, heading, delays);
``window``
    a time or date outside the partition's window (:class:`aerolake.schema.Window`, in days around the
    partition's day): a departure dated 9999-12-31 or 0001-01-01 in the 2026-11-20 partition;
``span``
    a duration between two times of the row outside its bounds (arrival before departure, a 30-hour flight).

Pure: frames in, a reason per row out (vectorized, one pass per rule).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from aerolake.schema import Column, Table

if TYPE_CHECKING:
    import pandas as pd


def window_of(column: Column, day: date) -> tuple[datetime, datetime]:
    """The ``[start, end)`` of ``column``'s window around the partition's ``day``."""
    assert column.window is not None
    start = datetime.combine(day, datetime.min.time())
    return (start - timedelta(days=column.window.days_before),
            start + timedelta(days=1 + column.window.days_after))


def violations(frame: pd.DataFrame, table: Table, day: date) -> pd.Series:
    """Per row of ``frame`` (``table``'s columns as the cleaners give them), the first rule it breaks as
    ``"<rule name>: <what>"``, or NA. NULLs pass: whether a value may be missing is the contract's
    ``nullable``, which the cleaners enforce."""
    import pandas as pd

    reason = pd.Series(pd.NA, index=frame.index, dtype="object")

    def flag(bad: pd.Series, rule: str, values: pd.Series, what: str) -> None:
        fresh = bad.fillna(False).astype(bool) & reason.isna()
        if fresh.any():
            reason.loc[fresh] = [f"{table.name}.{rule}: {value!s} {what}" for value in values[fresh]]

    for column in table.columns:
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        present = values.notna()
        if not present.any():
            continue
        if column.kind == "str":
            text = values.astype("string")
            if column.length is not None:
                too_long = present & (text.str.len() > column.length)
                flag(too_long, f"{column.name}.length", text.str.slice(0, 40),
                     f"is longer than the {column.length} characters {column.name} holds")
            if column.pattern is not None:
                flag(present & ~text.str.fullmatch(column.pattern.pattern).fillna(False).astype(bool),
                     f"{column.name}.pattern", text.str.slice(0, 40), f"does not match {column.pattern.pattern}")
        elif column.bounds is not None:
            low, high = column.bounds
            numbers = pd.to_numeric(values, errors="coerce")
            flag(present & ((numbers < low) | (numbers > high) | numbers.isna()), f"{column.name}.range", values,
                 f"is outside [{low:g}, {high:g}]")
        if column.window is not None:
            start, end = window_of(column, day)
            moments = pd.to_datetime(values, errors="coerce")
            flag(present & ((moments < start) | (moments >= end) | moments.isna()), f"{column.name}.window", values,
                 f"is outside [{start:%Y-%m-%d}, {end:%Y-%m-%d}) (the partition's day {day} "
                 f"-{column.window.days_before}/+{column.window.days_after} days)")
    for span in table.spans:
        if span.start not in frame.columns or span.end not in frame.columns:
            continue
        start, end = pd.to_datetime(frame[span.start], errors="coerce"), pd.to_datetime(frame[span.end], errors="coerce")
        minutes = (end - start).dt.total_seconds() / 60
        bad = minutes.notna() & ((minutes < span.min_minutes) | (minutes > span.max_minutes))
        flag(bad, f"{span.name}.span", minutes.round(),
             f"minutes from {span.start} to {span.end} is outside [{span.min_minutes}, {span.max_minutes}]")
    return reason
