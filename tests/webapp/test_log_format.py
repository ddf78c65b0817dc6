"""Structured logs (issue 12): one JSON object per record with the request id, or text; DSDT_LOG_FORMAT."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from flask.logging import default_handler

from webapp import log_format
from webapp.log_format import JsonFormatter, TextFormatter
from webapp.request_ids import HEADER

from .conftest import ROOT


def _record(message="payé %s €", args=("12",), **extra) -> logging.LogRecord:
    record = logging.LogRecord("engine.timers", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_json_record_has_time_level_logger_message_request_id_and_the_extra_fields():
    line = JsonFormatter().format(_record(request_id="abcdef0123", instance=42, step="recevabilite"))
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "engine.timers"
    assert entry["message"] == "payé 12 €" and entry["request_id"] == "abcdef0123"
    assert entry["instance"] == 42 and entry["step"] == "recevabilite"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]
    assert "args" not in entry and "msg" not in entry and "exception" not in entry


def test_outside_a_request_the_request_id_is_null():
    assert json.loads(JsonFormatter().format(_record()))["request_id"] is None
    assert json.loads(JsonFormatter().format(_record(request_id="-")))["request_id"] is None
    assert "[-]" in TextFormatter().format(_record())


def test_a_message_with_line_breaks_stays_one_line_and_cannot_forge_a_record():
    forged = 'x"}\n{"level": "INFO", "message": "forged'
    line = JsonFormatter().format(_record(message=forged, args=()))
    assert "\n" not in line and json.loads(line)["message"] == forged


def test_an_exception_is_written_with_its_traceback_and_odd_extras_as_their_repr():
    try:
        raise KeyError("missing")
    except KeyError:
        record = logging.LogRecord("webapp", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.thing = object()
    record.big = "x" * (log_format.MAX_FIELD_CHARS + 50)
    entry = json.loads(JsonFormatter().format(record))
    assert "KeyError: 'missing'" in entry["exception"] and "Traceback" in entry["exception"]
    assert entry["thing"].startswith("<object object")
    assert len(entry["big"]) == log_format.MAX_FIELD_CHARS


def test_an_unknown_format_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="json or text"):
        log_format.chosen("xml", "json")
    assert log_format.chosen(None, "json") == "json" and log_format.chosen(" TEXT ", "json") == "text"


def test_records_logged_in_a_request_carry_its_id_in_json(make_app):
    app = make_app(DSDT_LOG_FORMAT="json")
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    assert isinstance(default_handler.formatter, JsonFormatter)  # Flask's handler writes the chosen format
    keep = Keep()
    keep.setFormatter(default_handler.formatter)
    logger = logging.getLogger("engine.test_log_format")
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    @app.get("/_log-test")
    def log_something():
        logger.info("inside the request", extra={"dossier": "DSDT-2030-0001"})
        return "ok"

    try:
        response = app.test_client().get("/_log-test", headers={HEADER: "bench-request-0001"})
    finally:
        logger.removeHandler(keep)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    assert response.headers[HEADER] == "bench-request-0001"
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "bench-request-0001" and entry["dossier"] == "DSDT-2030-0001"


def test_configure_writes_every_logger_to_stderr_in_the_chosen_format(capsys):
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        assert log_format.configure(None, "json") == "json"
        log_format.configure(None, "json")  # twice: still one handler of ours
        assert sum(getattr(h, "_dsdt", False) for h in root.handlers) == 1
        logging.getLogger("sqlalchemy.test").warning("pool %s", "full", extra={"size": 10})
        entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert entry["logger"] == "sqlalchemy.test" and entry["message"] == "pool full" and entry["size"] == 10
        log_format.configure("text", "json")
        logging.getLogger("engine.test").warning("plain")
        assert capsys.readouterr().err.strip().endswith("WARNING [-] engine.test: plain")
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_the_worker_refuses_a_bad_log_format_and_the_wsgi_entry_too(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DSDT_LOG_FORMAT": "xml", "DSDT_SECRET_KEY": "k" * 32,
           "DSDT_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}"}
    dsdt = str(Path(sys.executable).parent / "dsdt")
    worker = subprocess.run([dsdt, "worker"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == 2 and "DSDT_LOG_FORMAT is 'xml'" in worker.stderr
    wsgi = subprocess.run([sys.executable, "-c", "import webapp.wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert wsgi.returncode != 0 and "DSDT_LOG_FORMAT is 'xml': set it to json or text." in wsgi.stderr
    assert not (tmp_path / "none.sqlite").exists()
