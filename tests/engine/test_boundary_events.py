"""Boundary events on a user task, interrupting and not (tests/data/boundary_events.bpmn).

Every test runs on an engine that loads each dossier from the database before every command
(:class:`tests.factories.ColdEngine`) and ends with a clean ``verify``: the open tasks and the
timer table must survive the reload as BPMN says.
"""

from __future__ import annotations

import pytest

from engine import Actor, Invalid
from tests.engine.test_semantics import DATA, PORTEUR, _deploy, _row, _start, _timers
from tests.engine.test_semantics import cold_engine as cold_engine  # the fixture, re-exported
from tests.factories import with_contract

INSTRUCTEUR = Actor("instructeur1", frozenset({"instructeur"}))


def _open(engine, instance_id: int) -> list[str]:
    return sorted(task.ref.split(".")[0] for task in engine.task_views(instance_id))


def _waiting(engine, instance_id: int) -> list[str]:
    return sorted(ref.split(".")[0] for ref, _ in _timers(engine, instance_id))


def _started(engine) -> int:
    _deploy(engine, "boundary_events.bpmn", "avis.schema.json")
    return _start(engine)


def test_a_non_interrupting_timer_runs_its_path_and_an_interrupting_one_cancels_the_task(cold_engine, clock):
    instance_id = _started(cold_engine)
    assert _open(cold_engine, instance_id) == ["depot"]
    assert _waiting(cold_engine, instance_id) == ["delai", "rappel_j2"]
    clock.advance(days=2, seconds=-1)
    assert cold_engine.fire_due_timers() == 0

    clock.advance(seconds=1)
    assert cold_engine.fire_due_timers() == 1

    # The reminder path ran; the task stays open with its interrupting timer still set.
    assert _open(cold_engine, instance_id) == ["depot"]
    assert _waiting(cold_engine, instance_id) == ["delai"]
    assert _row(cold_engine, instance_id).status == "running"

    clock.advance(days=8)
    assert cold_engine.fire_due_timers() == 1

    row = _row(cold_engine, instance_id)
    assert row.status == "completed" and row.outcome == "expire"
    assert _open(cold_engine, instance_id) == [] and _waiting(cold_engine, instance_id) == []
    data = cold_engine.data(instance_id)
    assert data["relance"] == "envoyee" and "depot" not in data


def test_completing_the_task_clears_its_boundary_timers(cold_engine, clock):
    instance_id = _started(cold_engine)
    clock.advance(days=1)
    (task,) = cold_engine.task_views(instance_id)

    cold_engine.complete(PORTEUR, instance_id, task.ref, {"favorable": True})

    row = _row(cold_engine, instance_id)
    assert row.status == "completed" and row.outcome == "depose"
    assert _waiting(cold_engine, instance_id) == []
    assert "relance" not in cold_engine.data(instance_id)
    clock.advance(days=30)
    assert cold_engine.fire_due_timers() == 0


def test_a_non_interrupting_message_runs_its_path_and_leaves_the_task_open(cold_engine, clock):
    instance_id = _started(cold_engine)

    reached = cold_engine.deliver_message(INSTRUCTEUR, "note", {"porteur": PORTEUR.login}, {"texte": "à compléter"})

    assert reached == [instance_id]
    assert _open(cold_engine, instance_id) == ["depot"]
    assert _waiting(cold_engine, instance_id) == ["delai", "rappel_j2"]
    # Known limit: SpiffWorkflow 3.2 catches a non-interrupting boundary event once per activation of
    # the task (BPMN would catch every occurrence): a second note reaches nobody and changes nothing.
    assert cold_engine.deliver_message(INSTRUCTEUR, "note", {"porteur": PORTEUR.login}, {"texte": "bis"}) == []
    (task,) = cold_engine.task_views(instance_id)
    cold_engine.complete(PORTEUR, instance_id, task.ref, {"favorable": False})
    row = _row(cold_engine, instance_id)
    assert row.status == "completed" and row.outcome == "depose"
    data = cold_engine.data(instance_id)
    assert data["derniere_note"] == {"texte": "à compléter"} and data["depot"] == {"favorable": False}


def test_an_interrupting_message_cancels_the_task_and_its_timers(cold_engine, clock):
    instance_id = _started(cold_engine)
    clock.advance(days=3)
    assert cold_engine.fire_due_timers() == 1

    assert cold_engine.deliver_message(INSTRUCTEUR, "retrait", {"porteur": PORTEUR.login}) == [instance_id]

    row = _row(cold_engine, instance_id)
    assert row.status == "completed" and row.outcome == "retire"
    assert _open(cold_engine, instance_id) == [] and _waiting(cold_engine, instance_id) == []
    # The task is gone: neither message reaches the dossier any more, no timer fires.
    assert cold_engine.deliver_message(INSTRUCTEUR, "note", {"porteur": PORTEUR.login}) == []
    assert cold_engine.deliver_message(INSTRUCTEUR, "retrait", {"porteur": PORTEUR.login}) == []
    clock.advance(days=30)
    assert cold_engine.fire_due_timers() == 0


def test_deploy_refuses_a_non_interrupting_boundary_whose_path_waits(bare_engine):
    """A reminder user task beside the task would end after it and overwrite its outcome."""
    text = (DATA / "boundary_events.bpmn").read_text()
    script = """<bpmn:scriptTask id="rappel" name="Rappel">
      <bpmn:script>relance = "envoyee"</bpmn:script>
    </bpmn:scriptTask>"""
    assert script in text
    text = text.replace("<bpmn:flowNodeRef>depot</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>depot</bpmn:flowNodeRef><bpmn:flowNodeRef>rappel</bpmn:flowNodeRef>")
    user_task = """<bpmn:userTask id="rappel" name="Rappel">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="avis.schema.json" />
        <spiffworkflow:property name="assigneeVariable" value="porteur" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>"""
    models = with_contract({"processes/dsdt_candidature.bpmn": text.replace(script, user_task).encode(),
                            "forms/avis.schema.json": (DATA / "avis.schema.json").read_bytes()})
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy(models, author="tests")
    assert refused.value.bpmn_id == "rappel_j2", str(refused.value)
    assert "non-interrupting" in str(refused.value) and "rappel" in str(refused.value)
    # The same reminder behind an interrupting event is accepted.
    interrupting = text.replace(script, user_task).replace(' cancelActivity="false" attachedToRef="depot">\n'
                                                           '      <bpmn:timerEventDefinition id="rappel_j2_def">',
                                                           ' attachedToRef="depot">\n'
                                                           '      <bpmn:timerEventDefinition id="rappel_j2_def">')
    assert interrupting != text.replace(script, user_task)
    bare_engine.deploy(with_contract({"processes/dsdt_candidature.bpmn": interrupting.encode(),
                                      "forms/avis.schema.json": (DATA / "avis.schema.json").read_bytes()}),
                       author="tests")
