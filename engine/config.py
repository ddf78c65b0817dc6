"""Engine settings. Only :meth:`EngineConfig.from_env` reads the environment."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from .clock import Clock, OffsetClock, parse_offset
from .errors import Invalid

DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"
#: SQLite ``synchronous`` levels accepted. In WAL mode NORMAL syncs only at checkpoints, so a
#: power loss (not a crash of the process) can lose the last commits; FULL syncs the log at every
#: commit; EXTRA adds a directory sync that matters only outside WAL mode. OFF is not offered: an
#: OS crash or power loss could corrupt the database, not only lose commits.
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")
#: where people reach the web app: the links of the e-mails start with it (DSDT_PUBLIC_URL)
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def embedded_url() -> str:
    """The embedded default's database: the SQLite file under ``instance/``."""
    return f"sqlite:///{DEFAULT_INSTANCE_DIR / 'dsdt.sqlite'}"


def sqlite_synchronous(value: str) -> str:
    """``value`` as one of :data:`SQLITE_SYNCHRONOUS` (any case); :class:`Invalid` naming them else."""
    level = value.strip().upper() if isinstance(value, str) else value
    if level not in SQLITE_SYNCHRONOUS:
        raise Invalid(f"DSDT_SQLITE_SYNCHRONOUS is {value!r:.40}: set it to NORMAL, FULL or EXTRA "
                      "(FULL, the default, keeps every reported commit through a power loss).",
                      code="config.sqlite_synchronous", params={"value": str(value)[:40]})
    return level


def prepare_threshold(value: str) -> int | None:
    """DSDT_DB_PREPARE_THRESHOLD: a whole number from 0, or ``none`` (never prepare)."""
    text = value.strip().lower()
    if text == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise _bad_prepare_threshold(value) from None


def _bad_prepare_threshold(value: str) -> Invalid:
    return Invalid(f"DSDT_DB_PREPARE_THRESHOLD is {value!r}: give a whole number from 0, or none.",
                   code="config.db_prepare_threshold", params={"value": value})


@dataclass(frozen=True)
class PoolSettings:
    """PostgreSQL connection pool of one process (SQLAlchemy's QueuePool; SQLite needs none).

    Each process holds at most ``size + max_overflow`` connections: with gunicorn, workers ×
    threads should stay within that, and all processes together under PostgreSQL's
    ``max_connections``.
    """

    size: int = 10
    max_overflow: int = 10
    #: seconds a request waits for a free connection before failing as unavailable
    timeout: float = 10.0
    #: seconds after which a connection is replaced (firewalls drop idle ones); -1: never
    recycle: int = 1800
    #: psycopg prepares a statement on the server once a connection has run it this many times
    #: (psycopg's default, 5; 0: at once); ``None`` never prepares, for a connection pooler that
    #: cannot keep prepared statements (PgBouncer in transaction mode before 1.21, or without
    #: ``max_prepared_statements``). DSDT_DB_PREPARE_THRESHOLD: a number, or ``none``.
    prepare_threshold: int | None = 5

    def __post_init__(self):
        if self.size < 1 or self.max_overflow < 0 or self.timeout <= 0:
            raise Invalid(f"Database pool settings {self}: DSDT_DB_POOL_SIZE must be at least 1, "
                          "DSDT_DB_MAX_OVERFLOW at least 0 and DSDT_DB_POOL_TIMEOUT positive.",
                          code="config.db_pool", params={"value": str(self)})
        if self.prepare_threshold is not None and self.prepare_threshold < 0:
            raise _bad_prepare_threshold(str(self.prepare_threshold))


@dataclass(frozen=True)
class EngineConfig:
    database_url: str
    script_time_limit: float = 2.0
    script_memory_mb: int = 256
    script_workers: int = 2
    #: running workflows kept deserialized per process (a few hundred KB each)
    cache_size: int = 2048
    #: journal entries between two stored states at most (a load replays at most this many commands)
    checkpoint_every: int = 32
    #: store the state once replaying the entries since the last stored one would take this many
    #: milliseconds; 0 (the default): as long as storing a state takes, measured by the process
    checkpoint_replay_ms: float = 0.0
    #: SQLite's durability (``PRAGMA synchronous``): FULL by default, this being an administrative record
    sqlite_synchronous: str = "FULL"
    #: the PostgreSQL connection pool (DSDT_DB_POOL_SIZE, DSDT_DB_MAX_OVERFLOW, DSDT_DB_POOL_TIMEOUT,
    #: DSDT_DB_POOL_RECYCLE)
    pool: PoolSettings = PoolSettings()
    #: path of the Ed25519 private key that signs seals (kept outside the database; None: no seals)
    seal_key: str | None = None
    #: hours between two seals of the timer worker (see engine.seals)
    seal_interval_hours: float = 24.0
    #: an RFC 3161 time-stamping service's URL, to time-stamp each seal (optional)
    seal_tsa_url: str | None = None
    #: the web app's address as its users reach it (the e-mails link to their task from it)
    public_url: str = DEFAULT_PUBLIC_URL
    #: the virtual clock's offset (DSDT_CLOCK_OFFSET, ``+30d``) as written; None: the real time
    clock_offset: str | None = None
    #: DSDT_ENV (``production``, ``test``, ``demo``...): the virtual clock is refused in production
    environment: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "sqlite_synchronous", sqlite_synchronous(self.sqlite_synchronous))
        if self.clock_offset is not None:
            self.clock()  # a malformed offset stops the start
            if self.environment == "production" or (self.environment is None and self.database_url != embedded_url()):
                # Never by accident: on another database than the embedded default, DSDT_ENV must
                # say this is not production.
                raise Invalid(f"DSDT_CLOCK_OFFSET ({self.clock_offset:.40}) is refused in production: the virtual "
                              "clock is for tests and demonstrations, on the embedded SQLite default or with "
                              "DSDT_ENV set to something other than production.",
                              code="config.clock_offset_production", params={"value": self.clock_offset[:40]})
        if not self.seal_interval_hours > 0:
            raise Invalid(f"DSDT_SEAL_INTERVAL_HOURS is {self.seal_interval_hours}: give a positive number of "
                          "hours (24, the default, seals daily).", code="config.seal_interval",
                          params={"value": str(self.seal_interval_hours)})

    def clock(self) -> Clock | None:
        """The virtual clock DSDT_CLOCK_OFFSET asks for (:class:`~engine.clock.OffsetClock`), or None."""
        if self.clock_offset is None:
            return None
        try:
            return OffsetClock(parse_offset(self.clock_offset), self.clock_offset.strip())
        except ValueError:
            raise Invalid(f"DSDT_CLOCK_OFFSET is {self.clock_offset!r:.40}: give an offset such as +30d, +2h, +15m "
                          "or -1d.", code="config.clock_offset", params={"value": self.clock_offset[:40]}) from None

    def with_database(self, url: str) -> EngineConfig:
        """The same settings on another database."""
        return dataclasses.replace(self, database_url=url)

    @classmethod
    def from_env(cls, environ=None) -> EngineConfig:
        env = os.environ if environ is None else environ
        url = env.get("DSDT_DATABASE_URL")
        if not url:
            DEFAULT_INSTANCE_DIR.mkdir(exist_ok=True)
            url = embedded_url()
        return cls(
            database_url=url,
            script_time_limit=float(env.get("DSDT_SCRIPT_TIME_LIMIT", 2.0)),
            script_memory_mb=int(env.get("DSDT_SCRIPT_MEMORY_MB", 256)),
            script_workers=int(env.get("DSDT_SCRIPT_WORKERS", 2)),
            cache_size=int(env.get("DSDT_CACHE_SIZE", 2048)),
            checkpoint_every=int(env.get("DSDT_CHECKPOINT_EVERY", 32)),
            checkpoint_replay_ms=float(env.get("DSDT_CHECKPOINT_REPLAY_MS", 0.0)),
            sqlite_synchronous=env.get("DSDT_SQLITE_SYNCHRONOUS", "FULL"),
            pool=PoolSettings(int(env.get("DSDT_DB_POOL_SIZE", 10)), int(env.get("DSDT_DB_MAX_OVERFLOW", 10)),
                              float(env.get("DSDT_DB_POOL_TIMEOUT", 10.0)), int(env.get("DSDT_DB_POOL_RECYCLE", 1800)),
                              prepare_threshold(env.get("DSDT_DB_PREPARE_THRESHOLD", "5"))),
            seal_key=env.get("DSDT_SEAL_KEY") or None,
            seal_interval_hours=float(env.get("DSDT_SEAL_INTERVAL_HOURS", 24.0)),
            seal_tsa_url=env.get("DSDT_SEAL_TSA_URL") or None,
            public_url=env.get("DSDT_PUBLIC_URL") or DEFAULT_PUBLIC_URL,
            clock_offset=env.get("DSDT_CLOCK_OFFSET") or None,
            environment=(env.get("DSDT_ENV") or "").strip().lower() or None,
        )
