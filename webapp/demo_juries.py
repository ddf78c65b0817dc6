"""Demo jury sessions of the open campaign, through the engine's own commands
(:class:`engine.JurySessions`): the Boulonnais' territorial session whose president records an
attendance below the quorum, and Valenciennes Métropole's declared impossible by a regional
officer. Each sends its waiting dossier to the regional jury by the model's path; both happen
before the other demo dossiers reach these sessions, which are then convened again
(:meth:`engine.JurySessions.reconvene`) and wait for them as usual."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import Actor, JurySessions, roles

from .demo_stages import Stage

PRESIDENT_CAB = Actor("jury.cab.president", frozenset({roles.JURY_TERRITORIAL, roles.PRESIDENT_JURY}),
                      frozenset({"CAB"}))
INSTRUCTEUR = Actor("instructeur1", frozenset({roles.INSTRUCTEUR}))
MOTIF = "Conseil communautaire convoqué le jour de la session : les élus intercommunaux ne peuvent siéger."


def seed_jury_sessions(driver, campaign_code: str, now: datetime) -> list[int]:
    """Two dossiers sent to the regional jury (quorum failed, impossibility); returns their ids."""
    sessions = JurySessions(driver.engine)
    quorum = driver.drive(campaign_code, Stage("examen_territorial", "CAB", "porteur4", 5), now)
    driver.clock.set(now - timedelta(days=4))
    sessions.record_attendance(PRESIDENT_CAB, "TERR-CAB", campaign_code, ["jury.cab.president", "jury.cab.elu1"])
    declared = driver.drive(campaign_code, Stage("examen_territorial", "CAVM", "porteur4", 4), now)
    driver.clock.set(now - timedelta(days=3))
    sessions.declare_impossibility(INSTRUCTEUR, "TERR-CAVM", campaign_code, MOTIF)
    # both juries are convened again: the other demo dossiers wait for their examination
    sessions.reconvene(INSTRUCTEUR, "TERR-CAB", campaign_code)
    sessions.reconvene(INSTRUCTEUR, "TERR-CAVM", campaign_code)
    return [quorum, declared]
