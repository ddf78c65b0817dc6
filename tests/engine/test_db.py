"""The SQLite connection settings every connection of the engine gets."""

from __future__ import annotations

import pytest

from engine import Database, EngineConfig, Invalid


def _settings(db: Database) -> dict:
    with db.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        return {name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "foreign_keys")}


def test_sqlite_connections_use_wal_full_sync_long_checkpoint_intervals_and_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'pragmas.sqlite'}")
    try:
        settings = _settings(db)
    finally:
        db.dispose()
    # synchronous 2 = FULL: a commit reported done survives a power loss, not only a crash of the process.
    assert settings == {"journal_mode": "wal", "synchronous": 2, "wal_autocheckpoint": 10000, "foreign_keys": 1}


@pytest.mark.parametrize(("setting", "level"), [("NORMAL", 1), ("full", 2), ("Extra", 3)])
def test_the_synchronous_setting_comes_from_the_environment(tmp_path, setting, level):
    config = EngineConfig.from_env({"DSDT_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.sqlite'}",
                                    "DSDT_SQLITE_SYNCHRONOUS": setting})
    db = Database(config.database_url, synchronous=config.sqlite_synchronous)
    try:
        assert _settings(db)["synchronous"] == level
    finally:
        db.dispose()


def test_full_is_the_default_setting(tmp_path):
    config = EngineConfig.from_env({"DSDT_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.sqlite'}"})
    assert config.sqlite_synchronous == "FULL"


@pytest.mark.parametrize("setting", ["OFF", "0", "full; DROP TABLE app_user", ""])
def test_any_other_synchronous_setting_is_refused_naming_the_accepted_ones(tmp_path, setting):
    with pytest.raises(Invalid) as refused:
        EngineConfig.from_env({"DSDT_DATABASE_URL": "sqlite://", "DSDT_SQLITE_SYNCHRONOUS": setting})
    assert "DSDT_SQLITE_SYNCHRONOUS" in str(refused.value) and "NORMAL, FULL or EXTRA" in str(refused.value)
    with pytest.raises(Invalid):
        Database(f"sqlite:///{tmp_path / 'sync.sqlite'}", synchronous=setting)
