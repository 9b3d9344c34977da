"""Errors and their fate: retried (transient) or failed at once (no retry can cure them).

Airflow retries a failed task ``retries`` times (2, from 2 minutes). That only helps a transient failure: a
timeout, a 5xx, a lost worker. Retrying a bad credential, an exhausted budget, a date the API cannot serve, a
failed quality gate or a misconfigured store calls budgeted APIs again and keeps the run looking busy for
minutes before it fails the same way. Such errors derive from :class:`PermanentError`, and the DAG layer fails
the task at once with the message (:func:`retry_can_help`).
"""

from __future__ import annotations


class PermanentError(RuntimeError):
    """A failure no retry can cure; the message says what is wrong and what to do."""


class ConfigurationError(PermanentError):
    """A connection or setting is missing or wrong (the message names it)."""


class InProcessStoreRefused(ConfigurationError):
    """An in-process store (mongomock) was asked for where tasks run in separate processes: what one task
    wrote would vanish with its process, and the next task would find nothing."""


class MissingInput(PermanentError):
    """A stage's input partition is not there (its upstream task has not run for this partition)."""


class IncompleteRead(PermanentError):
    """A store returned fewer records than it holds for the partition (a server that does not answer the
    query in full): cleaning what arrived would publish a partial partition as if it were whole."""


def retry_can_help(exc: BaseException) -> bool:
    """False for errors no retry can cure: :class:`PermanentError`, and API answers marked not retryable
    (``aerolake.http.ApiError(retryable=False)``: bad credentials, exhausted quota, a refused request)."""
    from aerolake.http import ApiError

    if isinstance(exc, PermanentError):
        return False
    return not isinstance(exc, ApiError) or exc.retryable
