"""Errors and their fate: retried (transient) or failed at once (no retry can cure them).

Airflow retries a failed task ``retries`` times (2, from 2 minutes). That only helps a transient failure: a
timeout, a 5xx, a lost worker. Retrying a bad credential, an exhausted budget, a date the API cannot serve, a
failed quality gate or a misconfigured store calls budgeted APIs again and keeps the run looking busy for
minutes before it fails the same way. Such errors derive from :class:`PermanentError`, and the DAG layer fails
the task at once with the message (:func:`retry_can_help`).

Every exception of the pipeline lives here, with its fate in one table (:data:`FATES`), so what a failure means
(and whether a retry helps) is read in one place. The servers of the local stack and the web API keep their own
protocol errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


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


class CannotServe(PermanentError):
    """The API cannot serve this partition any more (a live API asked for the past) and the lake has nothing."""


class QuotaExceeded(PermanentError):
    """The source's request budget cannot pay for the calls a run needs; nothing was called for them."""


class QualityCheckFailed(PermanentError):
    """One or more checks failed; the message names them."""


class RunSkipped(Exception):
    """A scheduled run the budget's pace cannot pay (:meth:`aerolake.stores.mysql.quotas.QuotaLedger.pace`):
    nothing was called; the task ends *skipped*, not failed, and a later run calls."""


class ApiError(RuntimeError):
    """An API answered in a way no retry can fix (bad credentials, quota exhausted, bad request)."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False,
                 response: requests.Response | None = None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.response = response


class RetryableError(ApiError):
    """A transient failure: retried with backoff; raised only once the attempts are used up."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None,
                 response: requests.Response | None = None):
        super().__init__(message, status, retryable=True, response=response)
        self.retry_after = retry_after


class MalformedBody(RetryableError):
    """A 200 answer whose body is not valid JSON (a truncated response)."""


class DeliveryFailed(RuntimeError):
    """Some Kafka messages were not acknowledged by the brokers; ``failed`` of ``attempted`` (a retry
    publishes exactly those)."""

    def __init__(self, message: str, failed: int, attempted: int):
        super().__init__(message)
        self.failed, self.attempted = failed, attempted


RETRY, FAIL, SKIP = "retry", "fail", "skip"

#: Every error of the pipeline and its fate, in one table: the first row whose class matches decides. ``retry``:
#: the HTTP client retries it with backoff (waiting what the server's ``Retry-After``-style header asks, see
#: :func:`aerolake.http.retry_after_of`), then Airflow retries the task (2 more tries, from 2 minutes);
#: ``fail``: the task fails at once with the message (the DAG factory raises ``AirflowFailException``), nothing
#: is called again; ``skip``: the task ends skipped (``AirflowSkipException``), with the message. ``ApiError`` is decided by the answer: each client marks it ``retryable`` from its API's own
#: codes (the tables in ``sources/<name>/client.py``).
FATES: tuple[tuple[type[BaseException], str, str], ...] = (
    (RunSkipped, SKIP, "the budget's pace cannot pay this scheduled run: it ends skipped, a later run calls"),
    (ConfigurationError, FAIL, "a connection or setting is missing or wrong: fix it, then rerun"),
    (MissingInput, FAIL, "the upstream task has not run for this partition: run it first"),
    (IncompleteRead, FAIL, "the store answers the partition's query only in part: a server problem, not a moment's"),
    (CannotServe, FAIL, "the API cannot serve this partition any more and the lake has nothing to replay"),
    (QuotaExceeded, FAIL, "the request budget cannot pay for the run: every retry would fail the same way"),
    (QualityCheckFailed, FAIL, "an error-level check failed: the load was rolled back; the data must change first"),
    (PermanentError, FAIL, "a contract violation or any other failure no retry can cure"),
    (RetryableError, RETRY, "transient (a timeout, a 5xx, a rate limit, a truncated body): still failing after the "
                            "client's attempts"),
    (ApiError, RETRY, "an API's answer: retried only if the client marked it retryable; bad credentials, an invalid "
                      "or expired key, an exhausted quota, a refused request or a wait longer than retries fail"),
    (DeliveryFailed, RETRY, "Kafka did not acknowledge some messages: a retry publishes exactly those"),
    (Exception, RETRY, "anything else (a store's connection lost, a worker killed): transient until shown otherwise"),
)


def fate_of(exc: BaseException) -> str:
    """:data:`RETRY` or :data:`FAIL`, by :data:`FATES` (an :class:`ApiError` by its ``retryable`` mark)."""
    for kind, fate, _why in FATES:
        if isinstance(exc, kind):
            if kind is ApiError:
                return RETRY if exc.retryable else FAIL  # type: ignore[attr-defined]
            return fate
    return RETRY


def retry_can_help(exc: BaseException) -> bool:
    """False for errors no retry can cure (:func:`fate_of` says :data:`FAIL`)."""
    return fate_of(exc) == RETRY
