"""One id per request: in the ``X-Request-ID`` answer header, in every log record, on error pages.

A person who meets an error quotes the id shown; the logs of that request all carry it. An id sent
by a proxy (``X-Request-ID``) is kept when it looks like one, so the proxy's logs and ours agree;
anything else (too long, odd characters that could forge log lines) is replaced by a new one.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

from . import log_format

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")


def current() -> str:
    """This request's id ("-" outside a request)."""
    if not has_request_context():
        return "-"
    return g.get("request_id") or "-"


def begin() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if SANE.fullmatch(incoming) else uuid.uuid4().hex


def stamp(response):
    response.headers[HEADER] = current()
    return response


_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _record_factory(*args, **kwargs)
    record.request_id = current()
    return record


def register(app: Flask) -> None:
    # First of the hooks: the session check, and whatever fails in it, is logged with the id.
    app.before_request_funcs.setdefault(None, []).insert(0, begin)
    app.after_request(stamp)
    # Every record, from every logger (engine, SQLAlchemy, werkzeug...), carries ``request_id``,
    # so that any handler's format may name it; Flask's own handler does.
    logging.setLogRecordFactory(_record_with_request_id)
    # Flask's handler, used when no root handler is set (not under webapp.wsgi or dsdt), writes
    # the chosen DSDT_LOG_FORMAT too (text by default).
    default_handler.setFormatter(log_format.formatter(log_format.chosen(app.config.get("DSDT_LOG_FORMAT"), "text")))
