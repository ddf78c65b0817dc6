"""Stored states are checkpoints: a load restores the last one and replays the journal after it.

Whatever path a load takes (the cache, a catch-up from the journal onto a stale cached copy, a
checkpoint plus its tail, or the whole journal), it must reach the same state as the live run.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine import Database, WorkflowEngine
from engine.bpmn.serializer import StateSerializer
from engine.errors import EngineError
from engine.fingerprint import state_fingerprint
from engine.persistence.models import Instance
from tests.factories import Walker

SERIALIZER = StateSerializer()


def _fingerprint(state) -> str:
    return state_fingerprint(SERIALIZER.to_dict(state.wf), state.extra())


def _row(engine, iid: int) -> Instance:
    with engine.session() as session:
        return session.scalars(select(Instance).where(Instance.id == iid)).one()


@pytest.fixture
def other_process(engine, clock, script_engine):
    """A second engine on the same database: its own cache, as another process would have."""
    other = WorkflowEngine(Database(engine.db.url), clock, script_engine)
    other.checkpoint_every = engine.checkpoint_every
    yield other
    other.db.dispose()


def test_the_state_is_stored_every_n_entries_and_a_restore_replays_the_rest(engine, clock):
    engine.checkpoint_every = 3
    walker = Walker(engine, clock)
    iid = walker.start()
    assert _row(engine, iid).state_seq == 0  # nothing stored yet: the start entry rebuilds it
    assert _fingerprint(engine.live_state(iid)) == _fingerprint(engine._cache[iid][2])
    seen = set()
    for step in ("contact", "avis_commune", "verification_contact", "fiche", "adequation_epci"):
        walker.do(iid, step, **{"contact": {"epci": "CAB"}, "avis_commune": {"avis": "favorable"},
                                "verification_contact": {"decision": "adapte"},
                                "adequation_epci": {"decision": "adequate"}}.get(step, {}))
        row = _row(engine, iid)
        seen.add(row.state_seq)
        assert row.state_seq % 3 == 0 and row.journal_seq - row.state_seq < 3
        # A fresh restore (checkpoint + tail) is exactly the live workflow the command left.
        assert _fingerprint(engine.live_state(iid)) == _fingerprint(engine._cache[iid][2])
    assert seen == {0, 3, 6}
    assert engine.verify().verified == 1


def test_another_process_catches_up_from_the_journal(engine, other_process, clock, monkeypatch):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    assert [view.bpmn_id for view in other_process.task_views(iid)] == ["avis_commune"]  # cached there now
    walker.do(iid, "avis_commune", avis="favorable")  # this process moves the dossier on
    monkeypatch.setattr(other_process, "_deserialize", None)  # no restore: a catch-up only
    # The other process re-applies the one entry it missed onto its copy and acts on it.
    other = Walker(other_process, clock)
    other.porteur = walker.porteur
    other.do(iid, "verification_contact", decision="adapte")
    assert walker.steps(iid) == ["fiche"]
    monkeypatch.undo()
    assert _fingerprint(engine.live_state(iid)) == _fingerprint(other_process.live_state(iid))
    assert engine.verify().verified == 1


def test_a_journal_that_cannot_be_replayed_gives_a_clear_error_not_a_crash(engine, other_process, clock):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    with engine.db.engine.begin() as connection:
        connection.execute(text("UPDATE journal_entry SET payload = '{}' WHERE instance_id = :iid AND seq = 2"),
                           {"iid": iid})
    with pytest.raises(EngineError, match="entry 2 .* cannot be re-applied"):
        other_process.task_views(iid)  # no cached copy: it must replay the altered entry
