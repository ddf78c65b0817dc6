"""The simulated lifecycle (``dsdt simulate``'s) on a store or in memory, each command timed.

The same seeded run goes through :class:`~engine.simulation.DurableDriver` on each database and
through :class:`~engine.simulation.MemoryDriver` (plain SpiffWorkflow objects); the people's
commands (start, complete, withdraw) are timed one by one, the worker's timer passes in the total.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from sqlalchemy import func, select, text

from .. import campaigns_api
from ..clock import FixedClock
from ..persistence.models import Instance
from ..simulation import DurableDriver, MemoryDriver, campaign_people, create_accounts, simulate
from .stores import START, build, store_name

ROOT = Path(__file__).resolve().parents[2]


class Timed:
    """A driver whose people's commands are timed (milliseconds, in ``times``)."""

    def __init__(self, driver):
        self.driver = driver
        self.clock = driver.clock
        self.times: list[float] = []

    def __getattr__(self, name):
        return getattr(self.driver, name)

    def _timed(self, call, *args):
        began = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.times.append((time.perf_counter() - began) * 1000)

    def start(self, *args):
        return self._timed(self.driver.start, *args)

    def complete(self, *args):
        return self._timed(self.driver.complete, *args)

    def withdraw(self, *args):
        return self._timed(self.driver.withdraw, *args)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 3)


def summary(times: list[float], commands: int, seconds: float) -> dict:
    return {"commands": commands, "seconds": round(seconds, 3),
            "commands_per_second": round(commands / seconds, 1) if seconds else None,
            "command_p50_ms": round(statistics.median(times), 3) if times else None,
            "command_p95_ms": percentile(times, 0.95)}


def durable(url: str, synchronous: str, applications: int, seed: int, prepare=None) -> tuple[dict, dict, dict]:
    """The lifecycle on the engine at ``url``; returns (its summary, the campaign's forms, the
    campaign's data as a dossier's start read it, juries included, for :func:`in_memory`)."""
    code, libelle, data = campaigns_api.historical_campaign()
    engine = build(url, synchronous, prepare, start=START)
    try:
        with engine.db.engine.begin() as connection:
            create_accounts(connection, campaign_people(data, applications), START)
        engine.deploy_directory(ROOT, author="bench")
        engine.save_campaign(code, libelle, data)
        forms = engine.current_forms()
        engine.clock.set(START)
        driver = Timed(DurableDriver(engine, engine.clock))
        result = simulate(driver, forms, code, applications, seed, START)
        report = summary(driver.times, result.commands, result.seconds)
        report.update(store=store_name(engine), applications=applications, unfinished=result.unfinished,
                      **sizes(engine))
        with engine.db.engine.connect() as connection:
            saved = campaigns_api.get(connection, code).data
        return report, forms, saved
    finally:
        engine.close()


def in_memory(forms: dict, data: dict, applications: int, seed: int) -> dict:
    """The same lifecycle on plain SpiffWorkflow objects, on ``data`` (the durable run's campaign
    as its dossiers' start read it: the juries are data in the database, :func:`durable`)."""
    code, libelle, _ = campaigns_api.historical_campaign()
    gc.collect()
    driver = Timed(MemoryDriver(ROOT, FixedClock(START), (code, libelle, data)))
    result = simulate(driver, forms, code, applications, seed, START)
    report = summary(driver.times, result.commands, result.seconds)
    report.update(store="in_memory", applications=applications, unfinished=result.unfinished)
    return report


def sizes(engine) -> dict:
    """Journal and stored-state bytes per dossier (what the columns hold, as the database returns them)."""
    with engine.db.engine.connect() as connection:
        dossiers = connection.execute(select(func.count()).select_from(Instance)).scalar_one() or 1
        journal = connection.execute(text(
            "SELECT coalesce(sum(length(CAST(payload AS TEXT)) + length(command) + length(actor) + length(state_hash)"
            " + length(prev_hash) + length(entry_hash) + 40), 0) FROM journal_entry")).scalar_one()
        state, stored = connection.execute(text(
            "SELECT coalesce(sum(length(state)), 0), count(*) FROM instance WHERE state_seq > 0")).one()
    return {"journal_bytes_per_dossier": round(journal / dossiers),
            "state_bytes_per_dossier": round(state / dossiers),
            "dossiers_with_stored_state": stored, "dossiers": dossiers}
