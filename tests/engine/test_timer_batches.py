"""Timer workers share the work (issue 12, item 4): on a campaign's deadline every timer falls due
at the same instant; workers claim batches of dossiers (``FOR UPDATE SKIP LOCKED LIMIT n`` and an
advisory claim), each timer fires once, and one failing dossier never stops a batch."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from engine import Database, WorkflowEngine, timers
from tests.factories import Walker

DEADLINE_PASSED = datetime(2014, 12, 2, 12, tzinfo=UTC)  # after the fiche deadline of the campaign


def _at_fiche(engine, clock, count: int) -> list[int]:
    """``count`` dossiers waiting for their fiche, each started on the campaign's first day (the
    walker moves the clock on a day a step: later ones would reach the deadline on the way)."""
    walker = Walker(engine, clock)
    first_day = clock.now()
    ids = []
    for _ in range(count):
        clock.set(first_day)
        iid = walker.start()
        walker.through_contact(iid)
        ids.append(iid)
    return ids


def _fired_per_instance(engine) -> Counter:
    with engine.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT instance_id FROM journal_entry WHERE command = 'fire_timers'"))
        return Counter(iid for (iid,) in rows)


def _verified(engine) -> None:
    report = engine.verify()
    assert report.chain_ok and not report.diverged and report.verified == report.instances


def test_a_pass_fires_every_due_dossier_in_batches(engine, clock):
    ids = _at_fiche(engine, clock, 7)
    clock.set(DEADLINE_PASSED)
    assert engine.fire_due_timers(batch=3) == 7  # batches of 3, 3 and 1
    assert engine.timer_counts["claimed"] == 7 and engine.timer_counts["missed"] == 0
    assert _fired_per_instance(engine) == Counter(ids)
    assert engine.fire_due_timers(batch=3) == 0
    _verified(engine)


def test_a_pass_stops_at_its_limit(engine, clock):
    _at_fiche(engine, clock, 5)
    clock.set(DEADLINE_PASSED)
    assert engine.fire_due_timers(limit=2, batch=10) == 2
    assert engine.fire_due_timers() == 3


def test_one_failing_dossier_is_recorded_and_the_batch_goes_on(engine, clock, monkeypatch):
    ids = _at_fiche(engine, clock, 4)
    clock.set(DEADLINE_PASSED)
    broken = ids[1]
    real = engine._execute

    def execute(connection, actor, instance, *args):
        if instance is not None and instance.id == broken:
            raise RuntimeError("a stored state that cannot be read")
        return real(connection, actor, instance, *args)

    monkeypatch.setattr(engine, "_execute", execute)
    assert engine.fire_due_timers(batch=4) == 3
    assert engine.timer_counts["failed"] == 1
    assert [incident.instance_id for incident in engine.incidents.list()] == [broken]
    assert set(_fired_per_instance(engine)) == set(ids) - {broken}


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return database_url


def test_the_claims_of_one_worker_are_left_to_it_by_the_others(postgres_url, engine, clock, script_engine):
    ids = _at_fiche(engine, clock, 4)
    clock.set(DEADLINE_PASSED)
    with engine.db.engine.connect() as holder:
        space = timers.claim_space(holder)
        holder.commit()
        with holder.begin():
            mine = timers.due_batch(holder, clock.now(), 2)
            assert sorted(holder.scalars(timers._TRY_CLAIMS, {"space": space, "ids": mine})) == sorted(mine)
        # The claim's transaction is over (no row lock left): the advisory claim alone keeps them.
        with engine.db.engine.connect() as other:
            assert set(timers.due_batch(other, clock.now(), 10)) == set(ids) - set(mine)
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
        holder.commit()


def test_three_workers_on_a_deadline_fire_each_timer_once(postgres_url, engine, clock, script_engine):
    """Before: every worker went for the one most overdue dossier; 94 % of the lock attempts failed
    and 3 workers were no faster than 1."""
    ids = _at_fiche(engine, clock, 30)
    clock.set(DEADLINE_PASSED)  # every fiche deadline is due at once
    workers = [WorkflowEngine(Database(postgres_url), clock, script_engine) for _ in range(3)]
    barrier = threading.Barrier(len(workers))
    fired, failures = [], []

    def work(worker):
        barrier.wait()
        try:
            fired.append(worker.fire_due_timers(batch=4))
        except BaseException as err:  # noqa: BLE001 - every failure is the test's finding
            failures.append(err)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures
        assert sum(fired) == len(ids), [w.timer_counts for w in workers]
        assert _fired_per_instance(engine) == Counter(ids)  # each timer fired once
        assert sum(worker.timer_counts["fired"] for worker in workers) == len(ids)
        missed = sum(worker.timer_counts["missed"] for worker in workers)
        assert missed <= len(ids) // 2  # the claims share the dossiers; before, nearly all attempts missed
        assert {engine.instance(iid).outcome for iid in ids} == {"hors_delai"}
        _verified(engine)
    finally:
        for worker in workers:
            worker.db.dispose()
