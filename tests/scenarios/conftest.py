"""Every scenario runs three ways (:data:`tests.factories.RESTORE_MODES`): with this process's
warm caches, and twice with a cold load from the database before every command (a stored state
after every command; the journal alone). PostgreSQL runs the warm mode only: the restore modes
test the engine's load path, which is the same SQL on both databases, and they cost time.

After each scenario, ``verify`` must find every dossier's journal, fingerprints and stored state
consistent, and a restore mode must really have restored (stored states where they should be).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import Database
from engine.persistence.models import Instance
from tests.factories import CHECKPOINT_EVERY, RESTORE_MODES, ColdEngine, scenario_engine


@pytest.fixture(params=RESTORE_MODES)
def restore_mode(request):
    return request.param


def pytest_collection_modifyitems(config, items):
    slow = [item for item in items
            if getattr(item, "callspec", None) is not None
            and item.callspec.params.get("database_url") == "postgresql"
            and item.callspec.params.get("restore_mode", "warm") != "warm"]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]


@pytest.fixture
def bare_engine(database_url, clock, script_engine, restore_mode):
    """The root fixture's engine, loading as ``restore_mode`` says."""
    db = Database(database_url)
    db.upgrade()
    engine = scenario_engine(db, clock, script_engine, restore_mode)
    yield engine
    db.dispose()


@pytest.fixture
def engine(engine, restore_mode):
    """The root fixture's engine, checked once the scenario is over."""
    yield engine
    report = engine.verify()
    assert report.diverged == [] and report.chain_ok, report.diverged
    with engine.session() as session:
        rows = session.execute(select(Instance.journal_seq, Instance.state_seq)).all()
    if restore_mode == "state":
        assert all(state == journal for journal, state in rows), rows
    if restore_mode == "journal":
        assert all(state == 0 for _, state in rows), rows
    if isinstance(engine, ColdEngine) and any(journal > 1 for journal, _ in rows):
        assert engine.loads > 0
    assert engine.checkpoint_every == CHECKPOINT_EVERY[restore_mode]
