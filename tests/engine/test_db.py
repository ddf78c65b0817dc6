"""The SQLite connection settings every connection of the engine gets."""

from __future__ import annotations

from engine import Database


def test_sqlite_connections_use_wal_with_long_checkpoint_intervals_and_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'pragmas.sqlite'}")
    try:
        with db.engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()
            settings = {name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
                        for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "foreign_keys")}
    finally:
        db.dispose()
    # synchronous 1 = NORMAL: in WAL mode a commit survives a crash of the process, not of the OS.
    assert settings == {"journal_mode": "wal", "synchronous": 1, "wal_autocheckpoint": 10000, "foreign_keys": 1}
