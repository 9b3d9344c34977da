"""What the web API's routes share: settings, clients built on first use, the airport index, the rate limiter.

``create_app`` puts one :class:`AppState` on ``app.state.aerolake``; a route asks for it with the ``State``
dependency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from aerolake.api import store
from aerolake.api.airflow_client import AirflowClient
from aerolake.api.config import ApiSettings
from aerolake.api.nearest import AirportIndex
from aerolake.api.ratelimit import SlidingWindowLimiter
from aerolake.core.connections import MySqlConfig


class _Lazy:
    """A value built on first use, once (connections are looked up lazily so importing the plugin is cheap)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._value: Any = None
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if not self._done:
            with self._lock:
                if not self._done:
                    self._value = self._build()
                    self._done = True
        return self._value


class AppState:
    """Everything the routes share: settings, lazily-built clients, the airport index, the rate limiter."""

    def __init__(self, settings: ApiSettings) -> None:
        from aerolake.core import connections

        self.settings = settings
        self.mysql: Callable[[], MySqlConfig] = _Lazy(
            lambda: settings.mysql or connections.mysql_config(settings.base))
        self.s3 = _Lazy(lambda: connections.s3_client(settings.base))
        self.mongo = _Lazy(lambda: connections.mongo_database(settings.base))
        self.airflow = AirflowClient(settings.airflow_api_url, settings.airflow_username, settings.airflow_password,
                                     timeout=settings.airflow_timeout_s)
        self.index = AirportIndex(lambda: store.airports_for_index(self.mysql()),
                                  lambda: store.airports_signature(self.mysql()),
                                  check_interval_s=settings.index_check_interval_s)
        self.import_limiter = SlidingWindowLimiter(settings.import_rate_limit, settings.import_rate_window_s)


def app_state(request: Request) -> AppState:
    return request.app.state.aerolake


#: a route's parameter for the shared state
State = Annotated[AppState, Depends(app_state)]
