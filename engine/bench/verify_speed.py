"""``verify``'s speed: every dossier of a database replayed and its chain checked, per second."""

from __future__ import annotations

import time

from sqlalchemy import text

from .stores import build


def measure(url: str) -> dict:
    engine = build(url, "FULL")
    try:
        with engine.db.engine.connect() as connection:
            entries = connection.execute(text("SELECT count(*) FROM journal_entry")).scalar_one()
        began = time.perf_counter()
        report = engine.verify()
        seconds = time.perf_counter() - began
    finally:
        engine.close()
    return {"dossiers": report.instances, "journal_entries": entries, "seconds": round(seconds, 3),
            "dossiers_per_second": round(report.instances / seconds, 1) if seconds else None,
            "entries_per_second": round(entries / seconds, 1) if seconds else None,
            "clean": not report.diverged and report.chain_ok}
