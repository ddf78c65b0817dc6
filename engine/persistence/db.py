"""The database handle: an SQLAlchemy engine, a session factory, and schema upgrades by Alembic."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..config import sqlite_synchronous

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(synchronous: str):
    """The connect hook giving every connection the engine's settings (``synchronous`` checked)."""
    def connected(dbapi_connection, _record):
        _set_pragmas(dbapi_connection, synchronous)
    return connected


def _set_pragmas(dbapi_connection, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while the worker writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL (the default): the log is synced at every commit, so a command reported done survives
    # a power loss; NORMAL syncs only at checkpoints (faster; the last commits can be lost).
    # The value is one of config.SQLITE_SYNCHRONOUS, never free text.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    # A checkpoint (WAL pages copied back into the database, with two fsyncs) every 10,000 pages
    # (about 40 MB of WAL) instead of SQLite's 1,000: every command rewrites the same few hot
    # pages, so a longer interval copies each of them once for many commits, and the fsyncs,
    # whose latency the disk decides, come ten times less often. Readers find pages through the
    # WAL's hash index, so a longer WAL costs them little.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _json_dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    """Owns the SQLAlchemy engine of one database URL."""

    def __init__(self, url: str, synchronous: str = "FULL"):
        self.url = url
        #: SQLite's ``PRAGMA synchronous`` (ignored by PostgreSQL, whose commits are synced)
        self.synchronous = sqlite_synchronous(synchronous)
        # orjson for JSON columns: several times faster than json, and it keeps non-ASCII text as is.
        self.engine: Engine = create_engine(url, future=True, json_serializer=_json_dumps,
                                            json_deserializer=orjson.loads)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(self.synchronous))
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> None:
        """Bring the schema to the latest migration."""
        command.upgrade(self.alembic_config(), "head")

    def dispose(self) -> None:
        self.engine.dispose()
