"""The checkpoint policy: the state is stored once replaying the entries since the last stored
state would cost as much as storing one (issue 13), so the default settings do store states, a
cold load replays a bounded tail whatever the dossier's age, and verify checks the stored states."""

from __future__ import annotations

from sqlalchemy import select, text

from engine import Database, EngineConfig, WorkflowEngine, campaigns_api
from engine.persistence import instances
from engine.persistence.models import Instance
from tests.conftest import ROOT
from tests.factories import Walker

HAPPY = {"contact": {"epci": "CAB"}, "avis_commune": {"avis": "favorable"},
         "verification_contact": {"decision": "adapte"}, "adequation_epci": {"decision": "adequate"}}


def _seqs(engine, iid: int) -> tuple[int, int]:
    with engine.session() as session:
        row = session.scalars(select(Instance).where(Instance.id == iid)).one()
        return row.journal_seq, row.state_seq


def _walk(engine, clock, steps=("contact", "avis_commune", "verification_contact", "fiche", "adequation_epci",
                                "dossier")):
    walker = Walker(engine, clock)
    iid = walker.start()
    seen = [_seqs(engine, iid)]
    for step in steps:
        walker.do(iid, step, **HAPPY.get(step, {}))
        seen.append(_seqs(engine, iid))
    return iid, seen


def test_the_default_settings_store_states_by_replay_cost_and_verify_compares_them(database_url, clock,
                                                                                     script_engine):
    defaults = EngineConfig(database_url)
    assert defaults.checkpoint_replay_ms == 0.0  # auto: the measured cost of storing a state
    db = Database(database_url)
    db.upgrade()
    engine = WorkflowEngine(db, clock, script_engine, checkpoint_every=defaults.checkpoint_every,
                            checkpoint_replay_ms=defaults.checkpoint_replay_ms)
    try:
        engine.deploy_directory(ROOT, author="tests")
        engine.save_campaign(*campaigns_api.historical_campaign())
        iid, seen = _walk(engine, clock)
        journal_seq, state_seq = seen[-1]
        assert state_seq > 0, seen  # before, nothing was stored before entry 32: no dossier has as many
        assert engine._store_ms is not None and engine._store_ms > 0  # measured, not assumed
        assert engine._cache[iid][2].replay_ms >= 0
        report = engine.verify()
        assert (report.verified, report.diverged) == (1, [])
        # verify replays up to the stored state and compares: a stored state from elsewhere is caught
        with engine.db.engine.begin() as connection:
            connection.execute(text("UPDATE instance SET state = replace(state, '\"porteur\":\"', "
                                    "'\"porteur\":\"x') WHERE id = :iid"), {"iid": iid})
        report = engine.verify()
        assert [item["instance"] for item in report.diverged] == [iid]
        assert f"the stored state (after entry {state_seq})" in report.diverged[0]["problem"]
    finally:
        db.dispose()


def test_a_tiny_replay_budget_stores_every_state_and_none_stores_by_count_only(engine, clock):
    engine.checkpoint_replay_ms = 1e-9
    _, seen = _walk(engine, clock, steps=("contact", "avis_commune"))
    assert all(journal == state for journal, state in seen), seen
    engine.checkpoint_replay_ms = None
    engine.checkpoint_every = 3
    _, seen = _walk(engine, clock, steps=("contact", "avis_commune", "verification_contact", "fiche"))
    assert [state for _, state in seen] == [0, 0, 3, 3, 3]


def test_a_cold_load_replays_only_the_tail_and_carries_its_measured_cost(engine, clock):
    engine.checkpoint_replay_ms = 1e9  # never by cost here: the tail stays
    iid, seen = _walk(engine, clock, steps=("contact", "avis_commune"))
    assert seen[-1] == (3, 0)
    with engine.db.engine.connect() as connection:
        state = engine._deserialize(connection, instances.fetch(connection, iid))  # the journal's 3 entries
    assert state.replay_ms > 0
    # the next command adds its own cost to what a load would replay
    owed = engine._cache[iid][2].replay_ms
    Walker(engine, clock).do(iid, "verification_contact", decision="adapte")
    assert engine._cache[iid][2].replay_ms > owed
