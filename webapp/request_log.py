"""The request log: one record per request, on the ``webapp.requests`` logger at INFO.

Each record says ``METHOD path status duration`` in its message and carries the same as fields
(``method``, ``path``, ``status``, ``duration_ms``, ``account_id``; ``request_id`` comes with
every record, :mod:`webapp.request_ids`), so the JSON format (:mod:`webapp.log_format`) writes
them as keys a collector can query. The query string is left out: it may hold a search for a
person's name or a link's token. The path is cut to 300 characters (a log line stays bounded).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

log = logging.getLogger("webapp.requests")
MAX_PATH = 300


def begin() -> None:
    g.request_started = time.perf_counter()


def record(response):
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    account = g.get("account")
    path = request.path[:MAX_PATH]
    log.info(
        "%s %s %s %s ms", request.method, path, response.status_code, duration,
        extra={"method": request.method, "path": path, "status": response.status_code, "duration_ms": duration,
               "account_id": getattr(account, "id", None)},
    )
    return response


def register(app: Flask) -> None:
    # First of the hooks, so that the time counts the session check and the rest.
    app.before_request_funcs.setdefault(None, []).insert(0, begin)
    app.after_request(record)
