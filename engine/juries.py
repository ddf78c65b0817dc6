"""Juries as data: standing juries, their members' seats with a term, and sessions per campaign.

"Jurys territoriaux (élus de l'intercommunalité + élus régionaux) ou … un jury uniquement
régional si impossibilité pour les jurys locaux." A territorial jury belongs to one EPCI; the
regional jury to none. Each seat is held by an elected member of one kind (élu intercommunal of
an EPCI, élu régional) for a term. A campaign has one session per jury: its date and quorum.

Who sits is the jury's members *in term on the session date*. The composition rule holds there:
a territorial jury has elected members of both kinds (its EPCI's and the Région's), a regional
jury only regional ones; the president sits; the quorum is reachable. Setting a campaign up
schedules the sessions it lacks and checks every one (:func:`schedule`); the administration
pages check each change (:func:`check_session`).

:func:`snapshot` is the one source of truth for who examines a dossier: the start command
journals it in the dossier's campaign snapshot (``campagne["jurys"]``), the engine assigns the
jury's tasks from it, and the inbox, the dossier page and the API read it back from the journal
(:meth:`engine.queries.Queries.jury_sessions`). A territorial jury that cannot sit on its session
date (composition broken) is left out of the snapshot: its EPCI's dossiers go to the regional
jury, as the call foresees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, select

from .errors import Invalid, NotFound
from .persistence.models import Jury, JuryMember, JurySession

TERRITORIAL = "territorial"
REGIONAL = "regional"
JURY_KINDS = (TERRITORIAL, REGIONAL)
ELU_INTERCOMMUNAL = "elu_intercommunal"
ELU_REGIONAL = "elu_regional"
MEMBER_KINDS = (ELU_INTERCOMMUNAL, ELU_REGIONAL)
#: a session's default date after the campaign's dossier deadline, by jury kind (the regional
#: jury sits after the territorial ones: it examines what they could not)
SESSION_OFFSET = {TERRITORIAL: timedelta(weeks=6), REGIONAL: timedelta(weeks=8)}
#: bounds on what the administration pages may create
MAX_MEMBERS = 40
MAX_QUORUM = MAX_MEMBERS


@dataclass(frozen=True)
class Seat:
    """One member's seat on a jury for a term (``term_end`` None: still sitting)."""

    id: int
    jury_code: str
    login: str
    full_name: str
    kind: str
    epci: str | None
    president: bool
    term_start: date
    term_end: date | None

    def in_term(self, day: date) -> bool:
        return self.term_start <= day and (self.term_end is None or day <= self.term_end)


@dataclass(frozen=True)
class JuryRow:
    code: str
    kind: str
    epci: str | None
    libelle: str
    quorum: int


@dataclass(frozen=True)
class SessionRow:
    id: int
    jury_code: str
    campaign_code: str
    day: date
    quorum: int
    #: set once the session is impossible (:mod:`engine.jury_sessions`): the cause and the reason
    impossible_cause: str | None = None
    impossible_motif: str | None = None


def _refuse(message: str, code: str, **params) -> Invalid:
    return Invalid(message, code=code, params=params)


def composition_errors(jury: JuryRow, seats: list[Seat], quorum: int) -> list[tuple[str, dict]]:
    """What breaks the composition rule for ``seats`` (the members sitting), as (code, params).

    Empty when the jury may sit: a territorial jury has at least one élu intercommunal of its
    EPCI and one élu régional, and no élu of another EPCI; a regional jury only élus régionaux;
    exactly one president among them; a quorum from 1 to the number of members.
    """
    errors: list[tuple[str, dict]] = []
    kinds = {seat.kind for seat in seats}
    if jury.kind == TERRITORIAL:
        if not any(s.kind == ELU_INTERCOMMUNAL and s.epci == jury.epci for s in seats):
            errors.append(("jury.no_intercommunal", {"jury": jury.code}))
        if ELU_REGIONAL not in kinds:
            errors.append(("jury.no_regional", {"jury": jury.code}))
        if any(s.kind == ELU_INTERCOMMUNAL and s.epci != jury.epci for s in seats):
            errors.append(("jury.other_epci", {"jury": jury.code}))
    elif ELU_INTERCOMMUNAL in kinds or not seats:
        errors.append(("jury.regional_only", {"jury": jury.code}))
    presidents = [s for s in seats if s.president]
    if len(presidents) != 1:
        errors.append(("jury.president", {"jury": jury.code, "count": len(presidents)}))
    if not 1 <= quorum <= len(seats):
        errors.append(("jury.quorum", {"jury": jury.code, "quorum": quorum, "members": len(seats)}))
    return errors


_MESSAGES = {
    "jury.no_intercommunal": "a territorial jury needs an élu intercommunal of its EPCI",
    "jury.no_regional": "a territorial jury needs an élu régional",
    "jury.other_epci": "a territorial jury seats no élu of another EPCI",
    "jury.regional_only": "a regional jury seats élus régionaux only, at least one",
    "jury.president": "a jury needs exactly one president among its members",
    "jury.quorum": "the quorum must be from 1 to the number of members",
}


def check(jury: JuryRow, seats: list[Seat], quorum: int, day: date) -> None:
    """Raise :class:`Invalid` naming the first broken composition rule of ``jury`` on ``day``."""
    errors = composition_errors(jury, [s for s in seats if s.in_term(day)], quorum)
    if errors:
        code, params = errors[0]
        raise _refuse(f"Jury {jury.code} on {day.isoformat()}: {_MESSAGES[code]}", code,
                      day=day.isoformat(), **params)


# -- reads ------------------------------------------------------------------------------------

def juries(connection: Connection) -> list[JuryRow]:
    rows = connection.execute(select(Jury.code, Jury.kind, Jury.epci, Jury.libelle, Jury.quorum)
                              .order_by(Jury.kind.desc(), Jury.code))
    return [JuryRow(*row) for row in rows]


def jury(connection: Connection, code: str) -> JuryRow:
    row = connection.execute(select(Jury.code, Jury.kind, Jury.epci, Jury.libelle, Jury.quorum)
                             .where(Jury.code == code)).first()
    if row is None:
        raise NotFound(f"Jury {code} does not exist", code="jury.not_found", params={"jury": code})
    return JuryRow(*row)


_SEAT_COLUMNS = (JuryMember.id, JuryMember.jury_code, JuryMember.login, JuryMember.full_name, JuryMember.kind,
                 JuryMember.epci, JuryMember.president, JuryMember.term_start, JuryMember.term_end)


def seats(connection: Connection, jury_code: str | None = None) -> list[Seat]:
    """Every seat (of one jury), in the order they were created: the order members score in."""
    query = select(*_SEAT_COLUMNS).order_by(JuryMember.id)
    if jury_code is not None:
        query = query.where(JuryMember.jury_code == jury_code)
    return [Seat(*row) for row in connection.execute(query)]


_SESSION_COLUMNS = (JurySession.id, JurySession.jury_code, JurySession.campaign_code, JurySession.day,
                    JurySession.quorum, JurySession.impossible_cause, JurySession.impossible_motif)


def sessions(connection: Connection, campaign_code: str | None = None) -> list[SessionRow]:
    query = select(*_SESSION_COLUMNS).order_by(JurySession.day, JurySession.jury_code)
    if campaign_code is not None:
        query = query.where(JurySession.campaign_code == campaign_code)
    return [SessionRow(*row) for row in connection.execute(query)]


def sitting(all_seats: list[Seat], day: date) -> list[Seat]:
    """The seats in term on ``day``."""
    return [seat for seat in all_seats if seat.in_term(day)]


def _session_data(jury_row: JuryRow, members: list[Seat], session: SessionRow) -> dict:
    president = next(s.login for s in members if s.president)
    return {"code": jury_row.code, "session": session.day.isoformat(), "quorum": session.quorum,
            "president": president, "membres": [s.login for s in members],
            "types": {s.login: s.kind for s in members}}


def snapshot(connection: Connection, campaign_code: str) -> dict:
    """The juries sitting for ``campaign_code`` (``campagne["jurys"]`` of a dossier's start).

    ``{"territoriaux": {epci: session}, "regional": session}``, each session with its date,
    quorum, president and members (those in term on that date, in seat order). A jury whose
    composition is broken on its session date is left out (its dossiers go to the regional jury);
    so is the regional jury then, and the dossiers that reach it stop with a model error that
    says so (campaign setup refuses such a campaign, :func:`schedule`).
    """
    rows = {row.code: row for row in juries(connection)}
    by_jury: dict[str, list[Seat]] = {}
    for seat in seats(connection):
        by_jury.setdefault(seat.jury_code, []).append(seat)
    found: dict = {"territoriaux": {}}
    for session in sessions(connection, campaign_code):
        jury_row = rows[session.jury_code]
        members = sitting(by_jury.get(jury_row.code, []), session.day)
        if composition_errors(jury_row, members, session.quorum):
            continue
        data = _session_data(jury_row, members, session)
        if jury_row.kind == REGIONAL:
            found["regional"] = data
        else:
            found["territoriaux"][jury_row.epci] = data
    return found


# -- writes -----------------------------------------------------------------------------------

def schedule(connection: Connection, campaign_code: str, dossier_deadline: date) -> list[SessionRow]:
    """Campaign setup: give every standing jury a session for ``campaign_code`` if it has none
    (at :data:`SESSION_OFFSET` after the dossier deadline, with the jury's quorum), then check
    the regional jury's composition on its session date (:class:`Invalid` if broken: without it
    no dossier could be examined). A territorial jury that cannot sit is allowed: its dossiers go
    to the regional jury. Returns the campaign's sessions."""
    existing = {s.jury_code for s in sessions(connection, campaign_code)}
    for row in juries(connection):
        if row.code not in existing:
            connection.execute(JurySession.__table__.insert().values(
                jury_code=row.code, campaign_code=campaign_code,
                day=dossier_deadline + SESSION_OFFSET[row.kind], quorum=row.quorum))
    found = sessions(connection, campaign_code)
    for session in found:
        row = jury(connection, session.jury_code)
        if row.kind == REGIONAL:
            check(row, seats(connection, row.code), session.quorum, session.day)
    return found


def people(connection: Connection) -> dict[str, tuple[set[str], set[str], str]]:
    """login → (roles, EPCI scope, full name) of every jury member with a seat: a territorial
    seat gives the territorial jury role over its jury's EPCI, a regional seat the regional jury
    role, a president's seat the president's role (accounts of demos and simulations)."""
    from .roles import JURY_REGIONAL, JURY_TERRITORIAL, PRESIDENT_JURY

    rows = {row.code: row for row in juries(connection)}
    found: dict[str, tuple[set[str], set[str], str]] = {}
    for seat in seats(connection):
        held, scope, _name = found.setdefault(seat.login, (set(), set(), seat.full_name))
        row = rows[seat.jury_code]
        if row.kind == TERRITORIAL:
            held.add(JURY_TERRITORIAL)
            scope.add(row.epci)
        else:
            held.add(JURY_REGIONAL)
        if seat.president:
            held.add(PRESIDENT_JURY)
    return found
