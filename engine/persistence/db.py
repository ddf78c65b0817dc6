"""The database handle: an SQLAlchemy engine, a session factory, and schema upgrades by Alembic."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..config import PoolSettings, sqlite_synchronous
from ..errors import Unavailable
from .connection_scope import ScopedQueuePool
from .raw import install_batching

MIGRATIONS = Path(__file__).parent / "migrations"
#: the advisory lock of schema migrations, one per schema (several share a test database)
_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('dsdt.migrate.' || current_schema()))"


def lock_migrations(connection) -> None:
    """Hold the migration lock for ``connection``'s transaction (PostgreSQL; SQLite has one writer).

    Called by the migration environment before Alembic reads the schema's revision: processes
    that start together migrate one after the other, and the later ones find the schema current.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(_MIGRATION_LOCK))


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


def _queue_pooled(url: str) -> bool:
    """Whether SQLAlchemy pools ``url``'s connections in a QueuePool (all but in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return parsed.database not in (None, "", ":memory:") and parsed.query.get("mode") != "memory"


def _json_dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    """Owns the SQLAlchemy engine of one database URL."""

    def __init__(self, url: str, synchronous: str = "FULL", pool: PoolSettings | None = None):
        self.url = url
        #: SQLite's ``PRAGMA synchronous`` (ignored by PostgreSQL, whose commits are synced)
        self.synchronous = sqlite_synchronous(synchronous)
        options = {}
        if not url.startswith("sqlite"):
            pool = pool or PoolSettings()
            # pre_ping: a connection left in the pool across a server restart is tested (and
            # replaced) when taken, so the first request after it does not fail.
            options = {"pool_pre_ping": True, "pool_size": pool.size, "max_overflow": pool.max_overflow,
                       "pool_timeout": pool.timeout, "pool_recycle": pool.recycle}
            if make_url(url).get_driver_name() == "psycopg":
                # psycopg's automatic server-side preparation (engine.config.PoolSettings)
                options["connect_args"] = {"prepare_threshold": pool.prepare_threshold}
        if _queue_pooled(url):
            # one checkout per web request (engine.persistence.connection_scope)
            options["poolclass"] = ScopedQueuePool
        # orjson for JSON columns: several times faster than json, and it keeps non-ASCII text as is.
        self.engine: Engine = create_engine(url, future=True, json_serializer=_json_dumps,
                                            json_deserializer=orjson.loads, **options)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(self.synchronous))
        else:
            # unread writes of a command sent together with the next read (engine.persistence.raw)
            install_batching(self.engine)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> list[str]:
        """Bring the schema to the latest migration (under the migration lock on PostgreSQL);
        returns the revisions applied, in order (none when it was current)."""
        config = self.alembic_config()
        command.upgrade(config, "head")
        return list(config.attributes.get("applied", []))

    def revisions(self) -> tuple[str | None, str]:
        """``(the schema's revision or None, the code's head revision)``."""
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision(), head

    def require_current(self) -> None:
        """:class:`Unavailable` (``schema.outdated``) unless the schema is at the code's head revision.

        Web and worker processes on PostgreSQL check this at start instead of migrating: many of
        them start at once, and a migration is an explicit step (``dsdt migrate``).
        """
        current, head = self.revisions()
        if current == head:
            return
        if current is None or self._knows(current):
            problem = f"is at revision {current}" if current else "is empty (no migration has run)"
            advice = "run `dsdt migrate` (once, with the same DSDT_DATABASE_URL), then start this process again"
        else:
            problem = f"is at revision {current}, which this version of DSDT does not know"
            advice = "a newer release migrated it: run that release, or restore the database"
        raise Unavailable(f"The database schema {problem}; this version of DSDT needs revision {head}: {advice}",
                          code="schema.outdated", params={"current": current, "head": head})

    def _knows(self, revision: str) -> bool:
        try:
            return ScriptDirectory.from_config(self.alembic_config()).get_revision(revision) is not None
        except ResolutionError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
