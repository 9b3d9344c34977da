"""Serve an ASGI app with uvicorn in a background thread on a free port (tests, benchmarks, embedding).

The socket is bound before uvicorn starts (port 0 = any free port), so there is no race for the port.
uvicorn's own ``X-Forwarded-For`` handling is off (it would trust loopback peers by default): which forwarded
headers count is the app's decision (:mod:`aerolake.api.forwarding`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


class ServerThread:
    """``with ServerThread(app) as server: server.base_url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False, proxy_headers=False,
                                forwarded_allow_ips="")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.base_url}")
            time.sleep(0.02)
        log.info("Serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
