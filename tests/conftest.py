"""Shared fixtures: a sandbox pool, a database per test (SQLite, and PostgreSQL when
``DSDT_TEST_POSTGRES_URL`` is set, as in CI), a fixed clock and an engine with the real models
deployed and the 2014-2015 campaign saved."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import Database, FixedClock, WorkflowEngine, campaigns_api
from engine.scripts import SandboxedScriptEngine, SandboxPool
from tests.factories import Walker

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("DSDT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def sandbox_pool():
    pool = SandboxPool(size=1, time_limit=2.0)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def script_engine(sandbox_pool):
    return SandboxedScriptEngine(sandbox_pool)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def clock():
    return FixedClock(datetime(2014, 10, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def bare_engine(database_url, clock, script_engine):
    """An engine on an empty, migrated database (nothing deployed)."""
    db = Database(database_url)
    db.upgrade()
    engine = WorkflowEngine(db, clock, script_engine)
    yield engine
    db.dispose()


@pytest.fixture
def engine(bare_engine):
    """An engine with processes/ and forms/ deployed and the 2014-2015 campaign saved."""
    bare_engine.deploy_directory(ROOT, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    return bare_engine


@pytest.fixture
def walker(engine, clock):
    return Walker(engine, clock)


@pytest.fixture
def models(tmp_path):
    """A writable copy of processes/ and forms/ in ``tmp_path`` (returned)."""
    for folder in ("processes", "forms"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path
