"""A normalizer's frame as rows of plain Python values, for assertions on exact values."""

from __future__ import annotations

from datetime import date
from typing import Any


def rows_of(frame: Any) -> list[dict[str, Any]]:
    """Every row of ``frame`` as a dict of plain values: None for every kind of missing (None, NaN, NaT, NA),
    ``datetime`` for timestamps, Python numbers for NumPy scalars. The model's columns only: the document id
    each row carries (``_doc_id``) is asserted by tests of its own (:func:`model_rows`)."""
    import numpy as np
    import pandas as pd

    def plain(value: Any) -> Any:
        if value is None or value is pd.NaT or (not isinstance(value, str | date) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if isinstance(value, np.generic) else value

    return model_rows([{k: plain(v) for k, v in row.items()} for row in frame.astype(object).to_dict("records")])


def model_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without the ``_doc_id`` the cleaners add to each (the staged document it was cleaned from)."""
    return [{k: v for k, v in row.items() if k != "_doc_id"} for row in rows]
