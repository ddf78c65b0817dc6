"""Jury sessions in action (engine.jury_sessions): a territorial session declared impossible by a
regional officer, or impossible by a failed quorum recorded by its president, sends the dossiers
waiting for it to the regional jury by the model's own path (a BPMN message caught on the
territorial examination), one journaled command per dossier that verify replays (the scenario
conftest checks it in every restore mode) and the history shows."""

from __future__ import annotations

import pytest

from engine import Conflict, Forbidden, Invalid, NotFound
from engine.commands import Actor
from engine.history import read_history
from engine.jury_sessions import CAUSE_DECLARED, CAUSE_QUORUM, JurySessions
from tests.factories import CAMPAIGN, INSTRUCTEUR, OTHER_PORTEUR, PORTEUR

PRESIDENT_CAB = Actor("jury.cab.president", frozenset({"membre_jury_territorial", "president_jury"}),
                      frozenset({"CAB"}))


def _two_cab_dossiers(walker) -> list[int]:
    first = walker.start(PORTEUR)
    walker.to_jury(first, epci="CAB")
    second = walker.start(OTHER_PORTEUR)
    walker.to_jury(second, epci="CAB")
    return [first, second]


def test_declared_impossibility_sends_the_sessions_dossiers_to_the_regional_jury(walker, engine):
    dossiers = _two_cab_dossiers(walker)
    other = walker.start(PORTEUR)
    walker.to_jury(other, epci="CAVM")  # another jury's session: untouched
    reached = JurySessions(engine).declare_impossibility(INSTRUCTEUR, "TERR-CAB", CAMPAIGN,
                                                         "Élus intercommunaux indisponibles (conseil)")
    assert sorted(reached) == sorted(dossiers)
    for iid in dossiers:
        assert set(walker.steps(iid)) == {"examen_regional"}
        data = walker.view(iid, "examen_regional").data
        assert data["jury_impossibilite"]["cause"] == CAUSE_DECLARED
        assert data["jury_impossibilite"]["jury"] == "TERR-CAB"
        assert data["jury_type"] == "regional" and data["jury_code"] == "REGIONAL"
        entry = read_history(engine, iid).entries[-1]
        assert entry.command == "message" and entry.actor == INSTRUCTEUR.login
        assert entry.reason == "Élus intercommunaux indisponibles (conseil)"
    assert set(walker.steps(other)) == {"examen_territorial"}
    iid = dossiers[0]
    walker.jury(iid, score=4)
    walker.favourable_opinion(iid, amount=12000)
    walker.through_decision_and_convention(iid)
    assert walker.outcome(iid) == ("completed", "conventionne", "regional")


def test_failed_quorum_recorded_by_the_president_sends_the_dossiers_to_the_regional_jury(walker, engine):
    dossiers = _two_cab_dossiers(walker)
    sessions = JurySessions(engine)
    attendance = sessions.record_attendance(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN,
                                            ["jury.cab.president", "jury.cab.elu1"])
    assert not attendance.quorum_met and attendance.quorum == 3
    assert sorted(attendance.reached) == sorted(dossiers)
    for iid in dossiers:
        data = walker.view(iid, "examen_regional").data
        assert data["jury_impossibilite"]["cause"] == CAUSE_QUORUM
        assert data["jury_impossibilite"]["presents"] == ["jury.cab.president", "jury.cab.elu1"]
    walker.jury(dossiers[1], score=4)
    walker.favourable_opinion(dossiers[1], amount=9000)
    assert set(walker.steps(dossiers[1])) == {"commission_permanente"}


def test_quorum_met_changes_nothing(walker, engine):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    before = engine.instance(iid).journal_seq
    attendance = JurySessions(engine).record_attendance(
        PRESIDENT_CAB, "TERR-CAB", CAMPAIGN, ["jury.cab.president", "jury.cab.elu1", "jury.region.elu1"])
    assert attendance.quorum_met and attendance.reached == []
    assert engine.instance(iid).journal_seq == before
    assert set(walker.steps(iid)) == {"examen_territorial"}


def test_refusals_change_nothing(walker, engine):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    before = engine.instance(iid).journal_seq
    sessions = JurySessions(engine)
    with pytest.raises(Forbidden):
        sessions.declare_impossibility(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN, "motif")
    with pytest.raises(Invalid) as err:
        sessions.declare_impossibility(INSTRUCTEUR, "TERR-CAB", CAMPAIGN, "   ")
    assert err.value.code == "jury.motif_required"
    with pytest.raises(Invalid) as err:
        sessions.declare_impossibility(INSTRUCTEUR, "REGIONAL", CAMPAIGN, "motif")
    assert err.value.code == "jury.not_territorial"
    with pytest.raises(NotFound):
        sessions.declare_impossibility(INSTRUCTEUR, "TERR-XYZ", CAMPAIGN, "motif")
    with pytest.raises(Conflict) as err:
        sessions.declare_impossibility(INSTRUCTEUR, "TERR-CAVM", CAMPAIGN, "motif")
    assert err.value.code == "jury.nothing_waiting"
    with pytest.raises(Forbidden):
        sessions.record_attendance(INSTRUCTEUR, "TERR-CAB", CAMPAIGN, [])
    with pytest.raises(Invalid) as err:
        sessions.record_attendance(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN, ["jury.region.president"])
    assert err.value.code == "jury.not_member"
    assert engine.instance(iid).journal_seq == before
    assert set(walker.steps(iid)) == {"examen_territorial"}
