"""Stored states are checkpoints: a load restores the last one and replays the journal after it.

Whatever path a load takes (the cache, a catch-up from the journal onto a stale cached copy, a
checkpoint plus its tail, or the whole journal), it must reach the same state as the live run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, text

from engine import Database, WorkflowEngine, runtime
from engine.bpmn.parser import parse_models
from engine.bpmn.serializer import StateSerializer
from engine.deployments import DeploymentStore
from engine.errors import EngineError
from engine.fingerprint import state_fingerprint
from engine.persistence.models import Instance
from tests.factories import PORTEUR, Walker

SERIALIZER = StateSerializer()
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("members_before", [1, 3])
def test_a_jury_restored_mid_examination_in_a_fresh_process_completes(engine, clock, script_engine,
                                                                      members_before):
    """A stored state in the middle of the parallel multi-instance examination, loaded by a process
    that parsed the specs itself: the remaining members' evaluations must still be merged."""
    engine.checkpoint_every = 1
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    views = [view for view in engine.task_views(iid) if view.bpmn_id == "examen_territorial"]
    decisions = {"conflit_interet": False, "qualite_inventivite": 4, "partenariat": 4,
                 "mise_en_reseau": 4, "gouvernance_evaluation": 4}
    for view in views[:members_before]:
        engine.complete(walker.actor_for(view, None), iid, view.ref, walker.form(view, **decisions))
    assert _row(engine, iid).state_seq == _row(engine, iid).journal_seq  # a stored state mid-jury
    DeploymentStore.forget_parsed()  # as in a process that never ran this jury
    other = WorkflowEngine(Database(engine.db.url), clock, script_engine, checkpoint_every=1)
    try:
        walker = Walker(other, clock)
        walker.porteur = PORTEUR
        for view in [view for view in other.task_views(iid) if view.bpmn_id == "examen_territorial"]:
            other.complete(walker.actor_for(view, None), iid, view.ref, walker.form(view, **decisions))
        assert walker.steps(iid) == ["confirmation_president"]
        report = other.verify()
        assert (report.verified, report.diverged) == (1, [])
    finally:
        other.db.dispose()


def test_sequential_multi_instance_and_standard_loop_restored_onto_fresh_specs_complete():
    """Each step restored onto specs parsed anew (a new process every time), as in production."""
    files = {"processes/loops.bpmn": (ROOT / "tests" / "data" / "loops.bpmn").read_bytes(),
             "forms/relire.schema.json": b'{"type": "object", "properties": {}}'}
    models = parse_models(files, main_process="loops")
    wf = BpmnWorkflow(models.spec, models.subprocess_specs)
    runtime.start(wf, {"relecteurs": ["a", "b", "c"]})
    done = []
    for _ in range(10):
        models = parse_models(files, main_process="loops")
        wf = SERIALIZER.loads(SERIALIZER.dumps(wf), models.spec, models.subprocess_specs, wf.script_engine)
        ready = [task for task in runtime.all_tasks(wf) if task.state == TaskState.READY and task.task_spec.manual]
        if not ready:
            break
        task = ready[0]
        done.append(task.task_spec.bpmn_id)
        if "relecteur" in task.data:
            task.data["avis_relecteur"] = task.data["relecteur"].upper()
        task.run()
        runtime.run_engine_steps(wf)
    assert runtime.is_finished(wf)
    assert done == ["relire"] * 3 + ["relancer"] * 3
    assert wf.data["avis"] == ["A", "B", "C"]
