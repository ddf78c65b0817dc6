"""The production set (issue 12): every setting documented, the Procfile, and ``bin/production``
started for real on PostgreSQL (migrate, deploy, gunicorn on ``webapp.wsgi:app``, timer workers)."""

from __future__ import annotations

import ast
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"\bDSDT_[A-Z0-9_]*[A-Z0-9]\b")
#: DSDT_* names that are not read from the environment: the engine a test hands to create_app
NOT_SETTINGS = {"DSDT_ENGINE"}


def settings_in_code() -> dict[str, str]:
    """Every ``DSDT_*`` name in a string of engine/ and webapp/ (code and docstrings), with a file naming it."""
    found: dict[str, str] = {}
    for folder in ("engine", "webapp"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    for name in SETTING.findall(node.value):
                        found.setdefault(name, str(path.relative_to(ROOT)))
    return {name: where for name, where in found.items() if name not in NOT_SETTINGS}


def production_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]


def test_every_setting_the_code_reads_is_in_the_readme_production_section():
    names = settings_in_code()
    assert {"DSDT_DATABASE_URL", "DSDT_SECRET_KEY", "DSDT_DB_POOL_SIZE", "DSDT_LOG_FORMAT",
            "DSDT_SMTP_HOST"} <= set(names)
    section = production_section()
    missing = {name: where for name, where in names.items() if f"`{name}`" not in section}
    assert not missing, f"settings read by the code but not in the README's Production section: {missing}"


def test_the_procfile_runs_gunicorn_on_the_wsgi_entry_and_the_timer_worker():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                     if line.strip() and not line.startswith("#"))
    assert processes["web"].split()[0] == "gunicorn" and processes["web"].split()[-1] == "webapp.wsgi:app"
    assert processes["worker"].strip() == "dsdt worker"
    script = (ROOT / "bin" / "production").read_text()
    assert script.index("dsdt migrate") < script.index("dsdt deploy") < script.index("honcho start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DSDT_TEST_POSTGRES_URL)")
def test_bin_production_starts_the_whole_set_on_an_empty_database_and_stops_it(tmp_path):
    if not (ROOT / ".venv" / "bin" / "honcho").exists():
        pytest.fail("honcho is not installed in .venv: run bin/setup (it is in the test extra)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    port = _free_port()
    env = {**os.environ, "DSDT_DATABASE_URL": url, "DSDT_SECRET_KEY": "s" * 64, "PORT": str(port),
           "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "DSDT_SCRIPT_WORKERS": "1"}
    output = tmp_path / "honcho.log"
    with output.open("w") as sink:
        started = subprocess.Popen([str(ROOT / "bin" / "production"), "-c", "worker=2"], cwd=ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _get_or_none(f"http://127.0.0.1:{port}/readyz") != 200:
            assert started.poll() is None, f"bin/production stopped:\n{output.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready after 120 s:\n{output.read_text()[-3000:]}"
            time.sleep(0.5)
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        while output.read_text().count("Timer worker started") < 2:
            assert time.monotonic() < deadline, f"the workers did not start:\n{output.read_text()[-3000:]}"
            time.sleep(0.5)
        log = output.read_text()
        assert "worker.1" in log and "worker.2" in log and "web.1" in log
        # the web process logs JSON records (webapp.wsgi's default)
        assert re.search(r'web\.1\s+\| \{"time": "[^"]+", "level": "INFO"', log), log[-3000:]
        with admin.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {schema}.deployment")).scalar() == 1
    finally:
        if started.poll() is None:
            os.killpg(started.pid, signal.SIGTERM)
        try:
            code = started.wait(timeout=60)
        finally:
            if started.poll() is None:
                os.killpg(started.pid, signal.SIGKILL)
                started.wait()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    assert _get_or_none(f"http://127.0.0.1:{port}/healthz") is None  # nothing left serving
    assert code in (0, 128 + signal.SIGTERM), output.read_text()[-3000:]  # honcho exits 143 on SIGTERM


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None
