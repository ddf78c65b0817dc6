"""One failing dossier never stops the others: its failure becomes an incident, retried with
back-off, set aside after a few attempts, resolved by a later success."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Actor, ScriptFailed, campaigns_api, runtime
from engine.incidents import MAX_ATTEMPTS
from engine.persistence.models import Instance, JournalEntry
from tests.factories import Walker, with_contract

DATA = Path(__file__).parents[1] / "data"
MODEL = with_contract({"processes/dsdt_candidature.bpmn": (DATA / "incidents.bpmn").read_bytes()})


@pytest.fixture
def incident_engine(bare_engine):
    """An engine running tests/data/incidents.bpmn (the path depends on the porteur's login)."""
    bare_engine.deploy(MODEL, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    bare_engine.campaign_code = code
    return bare_engine


def _start(engine, login: str) -> int:
    return engine.start(Actor(login, frozenset({"porteur"})), engine.campaign_code)


def _status(engine, instance_id: int) -> str:
    with engine.db.engine.connect() as connection:
        return connection.execute(select(Instance.status).where(Instance.id == instance_id)).scalar_one()


def _incident(engine, instance_id: int):
    found = [i for i in engine.incidents.list() if i.instance_id == instance_id]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_failing_dossier_never_stops_the_timers_of_the_others(incident_engine, clock):
    listed, huge, healthy = (_start(incident_engine, login) for login in ("p_liste", "p_entier", "p_sain"))
    clock.advance(hours=2)

    assert incident_engine.fire_due_timers() == 1  # the healthy one, after the two broken ones

    assert _status(incident_engine, healthy) == "completed"
    assert _incident(incident_engine, healthy) is None
    first, second = _incident(incident_engine, listed), _incident(incident_engine, huge)
    # The timer expression evaluated to a list (an AttributeError deep in SpiffWorkflow).
    assert first.kind == "timer" and first.bpmn_id == "echeance" and first.dossier_ref.endswith(f"{listed:05d}")
    assert "list" in first.error and '"echeances"' in first.data
    # The script's result is not JSON-safe (an integer past 2^53): refused where it is made, naming it.
    assert second.kind == "timer" and second.bpmn_id == "calcul"
    assert "2^53" in second.error and "montant" in second.error
    for incident in (first, second):
        assert incident.status == "open" and incident.attempts == 1
        assert incident.next_attempt_at > clock.now() and incident.set_aside_at is None
    # Nothing of the failed command was kept: the dossiers still wait at their first timer.
    assert _status(incident_engine, listed) == "running"
    with incident_engine.db.engine.connect() as connection:
        commands = connection.execute(select(JournalEntry.command).where(JournalEntry.instance_id == listed)).scalars()
        assert list(commands) == ["start"]


def test_a_failing_dossier_is_retried_with_back_off_then_set_aside(incident_engine, clock):
    listed = _start(incident_engine, "p_liste")
    clock.advance(hours=2)
    incident_engine.fire_due_timers()
    assert _incident(incident_engine, listed).attempts == 1

    assert incident_engine.fire_due_timers() == 0  # in back-off: not tried again at once
    assert _incident(incident_engine, listed).attempts == 1
    delays = []
    for attempt in range(2, MAX_ATTEMPTS + 1):
        incident = _incident(incident_engine, listed)
        delays.append(incident.next_attempt_at - incident.last_seen_at)
        clock.set(incident.next_attempt_at)
        incident_engine.fire_due_timers()
        assert _incident(incident_engine, listed).attempts == attempt
    assert delays == sorted(delays) and delays[-1] > delays[0]  # exponential, not every pass

    incident = _incident(incident_engine, listed)
    assert incident.status == "set_aside" and incident.set_aside_at == clock.now()
    clock.advance(days=30)
    assert incident_engine.fire_due_timers() == 0
    assert _incident(incident_engine, listed).attempts == MAX_ATTEMPTS  # set aside: never tried again

    # A process owner's retry runs it at once (and it fails again, so it is set aside again).
    assert incident_engine.incidents.retry(incident.id) is False
    assert _incident(incident_engine, listed).attempts == MAX_ATTEMPTS + 1
    assert _incident(incident_engine, listed).status == "set_aside"


def test_a_new_deployment_retries_incidents_set_aside(incident_engine, clock):
    listed = _start(incident_engine, "p_liste")
    clock.advance(hours=2)
    for _ in range(MAX_ATTEMPTS):
        incident_engine.fire_due_timers()
        clock.set(_incident(incident_engine, listed).next_attempt_at or clock.now())
    assert _incident(incident_engine, listed).status == "set_aside"

    incident_engine.deploy({**MODEL, "processes/autre.bpmn": MODEL["processes/dsdt_candidature.bpmn"].replace(
        b'id="dsdt_candidature"', b'id="autre"')}, author="tests")
    incident = _incident(incident_engine, listed)
    assert incident.status == "open" and incident.next_attempt_at == clock.now()
    incident_engine.fire_due_timers()
    assert _incident(incident_engine, listed).attempts == MAX_ATTEMPTS + 1


def test_a_later_successful_fire_resolves_the_incident(incident_engine, clock, monkeypatch):
    healthy = _start(incident_engine, "p_sain")
    clock.advance(hours=2)

    def broken(wf):
        raise RuntimeError("sandbox pool restarting")

    monkeypatch.setattr(runtime, "fire_timers", broken)
    assert incident_engine.fire_due_timers() == 0
    incident = _incident(incident_engine, healthy)
    assert incident.status == "open" and "RuntimeError: sandbox pool restarting" in incident.error

    monkeypatch.undo()
    clock.set(incident.next_attempt_at)
    assert incident_engine.fire_due_timers() == 1
    assert _status(incident_engine, healthy) == "completed"
    incident = _incident(incident_engine, healthy)
    assert incident.status == "resolved" and incident.resolved_at == clock.now()


@pytest.mark.parametrize("signal", [KeyboardInterrupt, SystemExit])
def test_the_worker_is_still_stopped_by_an_interrupt(incident_engine, clock, monkeypatch, signal):
    healthy = _start(incident_engine, "p_sain")
    clock.advance(hours=2)

    def interrupted(wf):
        raise signal()

    monkeypatch.setattr(runtime, "fire_timers", interrupted)
    with pytest.raises(signal):
        incident_engine.fire_due_timers()
    assert _incident(incident_engine, healthy) is None  # the worker's stop is not the dossier's fault


def test_a_script_failing_on_a_persons_command_records_an_incident(bare_engine, clock, models):
    script = models / "processes/phase_contact.bpmn"
    script.write_text(script.read_text().replace('epci = contact["epci"]\n', 'epci = contact["epci"]\nratio = 1 / 0\n'))
    bare_engine.deploy_directory(models, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    walker = Walker(bare_engine, clock)
    iid = walker.start()

    with pytest.raises(ScriptFailed) as failure:
        walker.do(iid, "contact", epci="CAB")

    incident = _incident(bare_engine, iid)
    assert failure.value.incident_id == incident.id
    assert incident.kind == "command" and incident.bpmn_id == "contact_portee"
    assert "ZeroDivisionError" in incident.error and '"CAB"' in incident.data
    assert incident.next_attempt_at is None  # a person's command is not retried by the worker
