"""Several processes on one PostgreSQL database: a task is completed once, a timer fires once.

Each ``WorkflowEngine`` here stands for a separate process (its own cache, pool of connections
and locks); threads make them race. Runs where PostgreSQL is available (CI)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine import Conflict, Database, WorkflowEngine
from engine.persistence.models import JournalEntry
from tests.conftest import POSTGRES_URL
from tests.factories import Walker, technicien

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DSDT_TEST_POSTGRES_URL)")


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return database_url


@pytest.fixture
def processes(postgres_url, clock, script_engine):
    """``processes(n)``: n engines on the test database, disposed afterwards."""
    made = []

    def make(count):
        made.extend(WorkflowEngine(Database(postgres_url), clock, script_engine) for _ in range(count))
        return made[-count:]

    yield make
    for engine in made:
        engine.db.dispose()


def _race(functions):
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(n, function):
        barrier.wait()
        try:
            function()
            results[n] = "ok"
        except Conflict:
            results[n] = "conflict"

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _entries(engine, command):
    with engine.session() as session:
        return session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.command == command))


def test_a_task_is_completed_once_when_processes_race(processes, engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    view = walker.view(iid, "avis_commune")
    actor = technicien("technicien_commune", "CAB")
    others = processes(4)
    for other in others:  # every process has the instance cached at the same version
        other.task_views(iid)
    results = _race([lambda o=o: o.complete(actor, iid, view.ref, walker.form(view, avis="favorable")) for o in others])
    assert results.count("ok") == 1 and results.count("conflict") == 3
    assert _entries(engine, "complete") == 2  # contact + one avis_commune
    assert engine.verify().verified == 1


def test_each_timer_fires_once_with_several_workers(processes, engine, clock):
    walker = Walker(engine, clock)
    ids = []
    for _ in range(6):
        iid = walker.start()
        walker.through_contact(iid)
        ids.append(iid)
    clock.set(datetime(2014, 12, 2, 12, tzinfo=UTC))  # the fiche deadline has passed for all six
    workers = processes(3)
    fired = []
    _race([lambda w=w: fired.append(w.fire_due_timers()) for w in workers])
    assert sum(fired) == 6
    assert _entries(engine, "fire_timers") == 6
    assert {engine.instance(iid).outcome for iid in ids} == {"hors_delai"}
