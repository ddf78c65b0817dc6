"""Jury sessions in action (engine.jury_sessions): a territorial session declared impossible by a
regional officer, or impossible by a failed quorum recorded by its president, sends the dossiers
waiting for it to the regional jury by the model's own path (a BPMN message caught on the
territorial examination), one journaled command per dossier that verify replays (the scenario
conftest checks it in every restore mode) and the history shows."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import Conflict, Forbidden, Invalid, NotFound
from engine.commands import Actor
from engine.history import read_history
from engine.jury_minutes import minutes_hash, read_minutes
from engine.jury_sessions import CAUSE_DECLARED, CAUSE_QUORUM, JurySessions, forward_waiting
from engine.persistence.models import OpenTask
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


def test_quorum_met_is_recorded_and_moves_nothing(walker, engine):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    before = engine.instance(iid).journal_seq
    present = ["jury.cab.president", "jury.cab.elu1", "jury.region.elu1"]
    attendance = JurySessions(engine).record_attendance(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN, present)
    assert attendance.quorum_met and attendance.reached == []
    assert engine.instance(iid).journal_seq == before + 1
    assert set(walker.steps(iid)) == {"examen_territorial"}
    entry = read_history(engine, iid).entries[-1]
    assert entry.command == "jury_record" and entry.administrative and entry.actor == PRESIDENT_CAB.login
    assert entry.reason.startswith("présences : 3 membre(s)")
    # the minutes list who was recorded present, not who happened to examine
    minutes = read_minutes(engine.db, "TERR-CAB", CAMPAIGN)
    assert minutes.present_recorded and sorted(minutes.present) == sorted(present)
    assert [d.instance_id for d in minutes.dossiers] == [iid]


def test_the_president_confirms_the_minutes_with_their_hash(walker, engine):
    dossiers = _two_cab_dossiers(walker)
    sessions = JurySessions(engine)
    sessions.record_attendance(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN,
                               ["jury.cab.president", "jury.cab.elu1", "jury.cab.elu2", "jury.region.elu1"])
    walker.jury(dossiers[0], score=4)
    with pytest.raises(Forbidden):
        sessions.confirm_minutes(INSTRUCTEUR, "TERR-CAB", CAMPAIGN)
    minutes = read_minutes(engine.db, "TERR-CAB", CAMPAIGN)
    assert minutes.confirmation is None and not minutes.confirmed_current
    digest = sessions.confirm_minutes(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN)
    assert digest == minutes_hash(minutes) and len(digest) == 64
    for iid in dossiers:
        entry = read_history(engine, iid).entries[-1]
        assert entry.command == "jury_record" and entry.actor == PRESIDENT_CAB.login
    confirmed = read_minutes(engine.db, "TERR-CAB", CAMPAIGN)
    assert confirmed.confirmation.minutes_hash == digest and confirmed.confirmed_current
    with pytest.raises(Conflict) as err:
        sessions.confirm_minutes(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN)
    assert err.value.code == "jury.minutes_confirmed"
    # the journal moves on (another examination): the confirmation no longer matches
    walker.jury(dossiers[1], score=3)
    assert not read_minutes(engine.db, "TERR-CAB", CAMPAIGN).confirmed_current
    assert sessions.confirm_minutes(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN) != digest


def test_a_reconvened_regional_jury_sits_on_its_new_date(walker, engine):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    walker.jury(iid, conflicts=4)  # the territorial jury without quorum: the regional session's date
    regional = walker.view(iid, "examen_regional").data
    assert regional["jury_code"] == "REGIONAL"
    assert regional["jury_session"] == regional["campagne"]["jurys"]["regional"]["session"]
    walker.jury(iid, conflicts=3)
    walker.do(iid, "reconstitution_jury", date_session="2015-04-02")
    assert walker.view(iid, "examen_regional").data["jury_session"] == "2015-04-02"
    with engine.db.engine.connect() as connection:
        dues = set(connection.execute(select(OpenTask.due_at).where(OpenTask.instance_id == iid)).scalars())
    assert dues == {datetime(2015, 4, 2, 9, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)}


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
    # no dossier waits for CAVM's session yet: the impossibility is stored, declared once only
    assert sessions.declare_impossibility(INSTRUCTEUR, "TERR-CAVM", CAMPAIGN, "motif") == []
    with pytest.raises(Conflict) as err:
        sessions.declare_impossibility(INSTRUCTEUR, "TERR-CAVM", CAMPAIGN, "autre motif")
    assert err.value.code == "jury.already_impossible"
    with pytest.raises(Forbidden):
        sessions.record_attendance(INSTRUCTEUR, "TERR-CAB", CAMPAIGN, [])
    with pytest.raises(Invalid) as err:
        sessions.record_attendance(PRESIDENT_CAB, "TERR-CAB", CAMPAIGN, ["jury.region.president"])
    assert err.value.code == "jury.not_member"
    assert engine.instance(iid).journal_seq == before
    assert set(walker.steps(iid)) == {"examen_territorial"}


def test_a_dossier_reaching_an_impossible_session_later_goes_to_the_regional_jury(walker, engine):
    assert JurySessions(engine).declare_impossibility(INSTRUCTEUR, "TERR-CAB", CAMPAIGN, "Conseil dissous") == []
    iid = walker.start(PORTEUR)
    walker.to_jury(iid, epci="CAB")
    assert set(walker.steps(iid)) == {"examen_territorial"}  # until the worker's pass
    other = walker.start(OTHER_PORTEUR)
    walker.to_jury(other, epci="CAVM")  # another jury's session: its own examination
    assert forward_waiting(engine) == 1
    assert forward_waiting(engine) == 0  # sent once
    assert set(walker.steps(iid)) == {"examen_regional"}
    data = walker.view(iid, "examen_regional").data
    assert data["jury_impossibilite"]["cause"] == CAUSE_DECLARED
    assert data["jury_impossibilite"]["motif"] == "Conseil dissous"
    entry = read_history(engine, iid).entries[-1]
    assert entry.command == "message" and entry.actor == "system" and entry.reason == "Conseil dissous"
    assert set(walker.steps(other)) == {"examen_territorial"}
    JurySessions(engine).reconvene(INSTRUCTEUR, "TERR-CAB", CAMPAIGN)  # convened again: dossiers wait
    third = walker.start(OTHER_PORTEUR)
    walker.to_jury(third, epci="CAB")
    assert forward_waiting(engine) == 0
    assert set(walker.steps(third)) == {"examen_territorial"}


def test_moving_a_sessions_date_keeps_its_waiting_dossiers_reachable(walker, engine):
    from datetime import timedelta

    from engine.jury_admin import JuryAdmin

    dossiers = _two_cab_dossiers(walker)
    session = JurySessions(engine).session("TERR-CAB", CAMPAIGN).session
    JuryAdmin(engine.db).set_session("TERR-CAB", CAMPAIGN, session.day + timedelta(days=7), session.quorum)
    assert JurySessions(engine).session("TERR-CAB", CAMPAIGN).session.day == session.day + timedelta(days=7)
    reached = JurySessions(engine).declare_impossibility(INSTRUCTEUR, "TERR-CAB", CAMPAIGN, "Report impossible")
    assert sorted(reached) == sorted(dossiers)
    for iid in dossiers:
        assert set(walker.steps(iid)) == {"examen_regional"}
