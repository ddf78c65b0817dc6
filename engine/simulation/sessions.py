"""Simulated territorial jury sessions (:mod:`engine.jury_sessions`).

At its session's opening (9:00 Paris on the session date) each territorial jury takes one path:
the quorum is met (the president records the members present), the quorum fails (the president
records fewer than the quorum) or a regional officer declares the session impossible; the last
two send the dossiers waiting for it to the regional jury. The paths are dealt to the sessions
(sorted by jury code) in an order shuffled by the seed, so a run with as many territorial
sessions as paths takes each one. The simulation seats a territorial jury for every campaign EPCI
that has none (:func:`seat_missing_juries`), so that the historical campaign has three sessions.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from .. import juries
from ..jury_admin import JuryAdmin
from ..persistence.models import Jury

QUORUM_MET = "quorum_atteint"
QUORUM_FAILED = "quorum_non_atteint"
DECLARED = "impossibilite_declaree"
PATHS = (QUORUM_MET, QUORUM_FAILED, DECLARED)
PARIS = ZoneInfo("Europe/Paris")
#: what a declared impossibility gives as its reason
MOTIF = "Élus intercommunaux indisponibles à la date de la séance (simulation)."


def opening(day: date) -> datetime:
    """When a session opens: 9:00 Paris on its date (when its jury tasks are due)."""
    return datetime.combine(day, time(9), tzinfo=PARIS)


def plan(territorial: list[tuple[str, date]], seed: int) -> list[tuple[str, date, str]]:
    """(jury code, session date, path) for each territorial session, paths dealt in a seeded order."""
    order = list(PATHS)
    random.Random(f"{seed}:jury-sessions").shuffle(order)
    return [(code, day, order[index % len(order)]) for index, (code, day) in enumerate(sorted(territorial))]


def report() -> dict[str, dict[str, int]]:
    """The empty report: per path, sessions held and the dossiers they sent to the regional jury."""
    return {path: {"sessions": 0, "to_regional": 0} for path in PATHS}


def present(members: list[str], president: str, quorum: int, path: str) -> list[str]:
    """Who the president records: the quorum exactly, or one fewer; the president first."""
    ordered = [president, *(login for login in members if login != president)]
    return ordered[:quorum] if path == QUORUM_MET else ordered[:max(0, quorum - 1)]


def seat_missing_juries(db, epcis: list[str], since: date) -> list[str]:
    """Seat a territorial jury (president and another élu intercommunal, an élu régional; quorum 2)
    for every EPCI of ``epcis`` without one; returns their codes."""
    with db.engine.begin() as connection:
        seated = set(connection.execute(select(Jury.epci).where(Jury.epci.is_not(None))).scalars())
        missing = [epci for epci in sorted(epcis) if epci not in seated]
        if missing:
            connection.execute(insert(Jury), [
                {"code": f"TERR-{epci}", "kind": juries.TERRITORIAL, "epci": epci,
                 "libelle": f"Jury territorial {epci} (simulation)", "quorum": 2} for epci in missing])
    admin = JuryAdmin(db)
    for epci in missing:
        low = epci.lower()
        for login, kind, where, president in ((f"jury.{low}.president", juries.ELU_INTERCOMMUNAL, epci, True),
                                              (f"jury.{low}.elu1", juries.ELU_INTERCOMMUNAL, epci, False),
                                              ("jury.region.elu1", juries.ELU_REGIONAL, None, False)):
            admin.add_seat(f"TERR-{epci}", login=login, full_name=login, kind=kind, epci=where,
                           president=president, term_start=since, term_end=None)
    return [f"TERR-{epci}" for epci in missing]
