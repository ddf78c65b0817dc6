"""Engine settings. Only :meth:`EngineConfig.from_env` reads the environment."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"


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
        )
