"""The databases a benchmark runs on, and engines built on them as the web app builds its own.

SQLite: a fresh file in a temporary folder, at a given ``synchronous`` level. PostgreSQL: a schema
of its own in the named database, dropped at the end, so a run never touches the data there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from ..clock import FixedClock
from ..config import EngineConfig
from ..notifications_store import StoredNotifier
from ..service import WorkflowEngine

#: the instant every benchmark's clock starts at (the 2014-2015 campaign is open)
START = datetime(2014, 9, 15, 8, tzinfo=UTC)
#: the task page the e-mails link to, as webapp.services builds its notifier
TASK_LINK = "/dossiers/{instance_id}/etape/{task_ref}"


def app_notifier(engine: WorkflowEngine) -> None:
    """Give ``engine`` the stored notifier the web app and the worker run (in-app rows and e-mails)."""
    engine.notifier = StoredNotifier(task_link=EngineConfig.public_url + TASK_LINK)


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / (name + '.sqlite')}"


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL on a new schema of ``url``'s database, the schema dropped afterwards."""
    schema = f"dsdt_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def build(url: str, synchronous: str = "FULL", prepare: Callable | None = None, start: datetime = START,
          **settings) -> WorkflowEngine:
    """An engine on ``url`` with the environment's settings (``EngineConfig.from_env``), a fixed
    clock and the app's notifier (``prepare(engine)``: the web app's services; default
    :func:`app_notifier`)."""
    config = dataclasses.replace(EngineConfig.from_env().with_database(url), sqlite_synchronous=synchronous,
                                 **settings)
    engine = WorkflowEngine.from_config(config, clock=FixedClock(start))
    (prepare or app_notifier)(engine)
    return engine


def store_name(engine: WorkflowEngine) -> str:
    """``sqlite_full``, ``sqlite_normal`` or ``postgresql``: the keys of the report."""
    if engine.db.is_sqlite:
        return f"sqlite_{engine.db.synchronous.lower()}"
    return engine.db.engine.dialect.name
