"""How log records are written: one JSON object per line (production) or one line of text.

``DSDT_LOG_FORMAT`` chooses: ``json`` or ``text``. Unset, the production entries (``webapp.wsgi``,
``dsdt worker``) write JSON, which a log collector parses without guessing, and the development
ones (``dsdt run``, the other commands, the tests) write text.

A JSON record holds ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message``,
``request_id`` (``null`` outside a request: set by :mod:`webapp.request_ids`' record factory), the
fields given with ``extra={...}`` (written as JSON when they can be, else as their ``repr``), and
``exception`` (the traceback) when there is one. Every value is escaped by the JSON encoder, so a
message holding line breaks or quotes never forges another record.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FORMATS = ("json", "text")
TEXT_FORMAT = "[%(asctime)s] %(levelname)s [%(request_id)s] %(name)s: %(message)s"
#: the attributes every LogRecord has: whatever else a record holds came with ``extra=``
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}
#: a field given with ``extra=`` longer than this (once written) is cut: a log line stays bounded
MAX_FIELD_CHARS = 10_000


def _plain(value):
    """``value`` if JSON can hold it as it is, else its ``repr`` (cut to :data:`MAX_FIELD_CHARS`)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS]
    try:
        written = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)[:MAX_FIELD_CHARS]
    return value if len(written) <= MAX_FIELD_CHARS else written[:MAX_FIELD_CHARS]


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = _plain(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=repr)


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT`, with ``-`` for a record made outside a request."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().format(record)


def _request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None)
    return None if value in (None, "-") else value


def chosen(value: str | None, default: str) -> str:
    """The format ``DSDT_LOG_FORMAT`` names (``default`` when unset); ValueError naming the choices else."""
    kind = (value or default).strip().lower()
    if kind not in FORMATS:
        raise ValueError(f"DSDT_LOG_FORMAT is {value!r:.40}: set it to json or text.")
    return kind


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure(value: str | None, default: str, level: int = logging.INFO) -> str:
    """One handler on the root logger, to stderr, in the chosen format; returns that format.

    Every logger (the engine's, the web app's, SQLAlchemy's...) reaches the root, so every record
    of the process comes out in one format. Called again, it replaces its own handler.
    """
    kind = chosen(value, default)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dsdt", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._dsdt = True
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every state change
    return kind
