"""Backup and restore on PostgreSQL (issue 12), as the README's *Production* says to do it: a small
simulated campaign, ``pg_dump`` of its database, ``pg_restore`` into a new database, and a full
``dsdt verify`` of the restored copy. Skipped without ``DSDT_TEST_POSTGRES_URL``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
DSDT = str(Path(sys.executable).parent / "dsdt")
TABLES = ("instance", "journal_entry", "app_user", "campaign", "deployment", "open_task", "timer", "blob")

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DSDT_TEST_POSTGRES_URL)")


@pytest.fixture
def databases():
    """``new()`` creates an empty database and gives its URL; all are dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new() -> str:
        name = f"dsdt_backup_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield new
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (``postgresql://``, no driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dsdt(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DSDT_DATABASE_URL": url, "DSDT_LOG_FORMAT": "text", "DSDT_SCRIPT_WORKERS": "1"}
    return subprocess.run([DSDT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def counts(url: str) -> dict[str, int]:
    db = create_engine(url)
    try:
        with db.connect() as conn:
            return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}
    finally:
        db.dispose()


def test_a_dump_of_a_campaign_restores_into_a_new_database_that_verifies(databases, tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian: postgresql-client)")
    source = databases()
    migrated = dsdt("migrate", url=source)
    assert migrated.returncode == 0, migrated.stderr
    simulated = dsdt("simulate", "--applications", "4", "--seed", "3", "--no-baseline", "--json", url=source)
    assert simulated.returncode == 0, simulated.stderr
    conventions = json.loads(simulated.stdout)["conventions"]["conventions"]  # simulated beside the dossiers
    before = counts(source)
    assert before["instance"] == 4 + conventions and before["journal_entry"] > 4 * 5

    dump = tmp_path / "dsdt.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq(source)], check=True,
                   capture_output=True, timeout=300)
    restored = databases()
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(restored)}", str(dump)],
                   check=True, capture_output=True, timeout=300)

    assert counts(restored) == before
    verified = dsdt("verify", "--json", url=restored)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["chain_ok"] is True and not report["diverged"]
    assert report["instances"] == 4 + conventions and report["verified"] == 4 + conventions
    # The restored copy is current for this release: migrate has nothing to do, the app may start on it.
    again = dsdt("migrate", url=restored)
    assert again.returncode == 0, again.stderr

    # The check is real: the same verify fails once an entry of the restored journal is changed.
    db = create_engine(restored)
    with db.begin() as conn:
        conn.execute(text("UPDATE journal_entry SET actor = 'someone-else' WHERE id = "
                          "(SELECT min(id) FROM journal_entry WHERE command = 'complete')"))
    db.dispose()
    tampered = dsdt("verify", "--json", url=restored)
    assert tampered.returncode == 1
    report = json.loads(tampered.stdout)
    assert report["chain_ok"] is False or report["diverged"]

