"""Engine settings. Only :meth:`EngineConfig.from_env` reads the environment."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import Invalid

DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"
#: SQLite ``synchronous`` levels accepted. In WAL mode NORMAL syncs only at checkpoints, so a
#: power loss (not a crash of the process) can lose the last commits; FULL syncs the log at every
#: commit; EXTRA also syncs the directory. OFF is not offered: a crash of the OS could corrupt.
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def sqlite_synchronous(value: str) -> str:
    """``value`` as one of :data:`SQLITE_SYNCHRONOUS` (any case); :class:`Invalid` naming them else."""
    level = value.strip().upper() if isinstance(value, str) else value
    if level not in SQLITE_SYNCHRONOUS:
        raise Invalid(f"DSDT_SQLITE_SYNCHRONOUS is {value!r:.40}: set it to NORMAL, FULL or EXTRA "
                      "(FULL, the default, keeps every reported commit through a power loss).",
                      code="config.sqlite_synchronous", params={"value": str(value)[:40]})
    return level


@dataclass(frozen=True)
class EngineConfig:
    database_url: str
    script_time_limit: float = 2.0
    script_memory_mb: int = 256
    script_workers: int = 2
    #: running workflows kept deserialized per process (a few hundred KB each)
    cache_size: int = 2048
    #: journal entries between two stored states (a load replays at most this many commands)
    checkpoint_every: int = 32
    #: SQLite's durability (``PRAGMA synchronous``): FULL by default, this being an administrative record
    sqlite_synchronous: str = "FULL"

    def __post_init__(self):
        object.__setattr__(self, "sqlite_synchronous", sqlite_synchronous(self.sqlite_synchronous))

    def with_database(self, url: str) -> EngineConfig:
        """The same settings on another database."""
        return dataclasses.replace(self, database_url=url)

    @classmethod
    def from_env(cls, environ=None) -> EngineConfig:
        env = os.environ if environ is None else environ
        url = env.get("DSDT_DATABASE_URL")
        if not url:
            DEFAULT_INSTANCE_DIR.mkdir(exist_ok=True)
            url = f"sqlite:///{DEFAULT_INSTANCE_DIR / 'dsdt.sqlite'}"
        return cls(
            database_url=url,
            script_time_limit=float(env.get("DSDT_SCRIPT_TIME_LIMIT", 2.0)),
            script_memory_mb=int(env.get("DSDT_SCRIPT_MEMORY_MB", 256)),
            script_workers=int(env.get("DSDT_SCRIPT_WORKERS", 2)),
            cache_size=int(env.get("DSDT_CACHE_SIZE", 2048)),
            checkpoint_every=int(env.get("DSDT_CHECKPOINT_EVERY", 32)),
            sqlite_synchronous=env.get("DSDT_SQLITE_SYNCHRONOUS", "FULL"),
        )
