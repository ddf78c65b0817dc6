"""Administration of the juries (:mod:`engine.juries`): seats and sessions, each change in one
transaction and refused, changing nothing, when it would break the composition rule of a session
of the jury (members in term on the session's date).

A change never touches running dossiers: each journaled its jury at its start. It is for the
dossiers that start afterwards.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Connection, delete, select, update

from . import juries
from .errors import Invalid, NotFound
from .persistence.db import Database
from .persistence.models import Campaign, JuryMember, JurySession

_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
MAX_NAME = 200


def _invalid(message: str, code: str, field: str, **params) -> Invalid:
    return Invalid(message, code=code, params=params, errors={field: [code]})


class JuryAdmin:
    """Reads and changes of juries, seats and sessions over one database."""

    def __init__(self, db: Database):
        self.db = db

    # -- reads ----------------------------------------------------------------------------------

    def juries(self) -> list[juries.JuryRow]:
        with self.db.engine.connect() as connection:
            return juries.juries(connection)

    def jury(self, code: str) -> tuple[juries.JuryRow, list[juries.Seat], list[juries.SessionRow]]:
        """The jury, its seats and its sessions (every campaign's)."""
        with self.db.engine.connect() as connection:
            row = juries.jury(connection, code)
            found = [s for s in juries.sessions(connection) if s.jury_code == code]
            return row, juries.seats(connection, code), found

    def sitting(self, code: str, day: date) -> list[juries.Seat]:
        """The members of jury ``code`` in term on ``day``."""
        with self.db.engine.connect() as connection:
            return juries.sitting(juries.seats(connection, code), day)

    # -- changes --------------------------------------------------------------------------------

    def add_seat(self, jury_code: str, *, login: str, full_name: str, kind: str, epci: str | None,
                 president: bool, term_start: date, term_end: date | None) -> int:
        """Seat a member on ``jury_code`` for a term; returns the seat's id."""
        login = (login or "").strip().lower()
        if not _LOGIN.fullmatch(login):
            raise _invalid("A member's login: lower-case letters, digits, '.', '_' or '-' (2 to 80)",
                           "jury.bad_login", "login")
        full_name = (full_name or "").strip()
        if not full_name or len(full_name) > MAX_NAME:
            raise _invalid(f"A member's name: 1 to {MAX_NAME} characters", "jury.bad_name", "full_name",
                           max=MAX_NAME)
        if kind not in juries.MEMBER_KINDS:
            raise _invalid(f"A member's kind is one of {', '.join(juries.MEMBER_KINDS)}", "jury.bad_kind", "kind")
        epci = (epci or "").strip() or None
        if (kind == juries.ELU_INTERCOMMUNAL) != (epci is not None):
            raise _invalid("An élu intercommunal has an EPCI, an élu régional none", "jury.bad_epci", "epci")
        self._check_term(term_start, term_end)
        with self.db.engine.begin() as connection:
            jury_row = juries.jury(connection, jury_code)
            if len(juries.seats(connection, jury_code)) >= juries.MAX_MEMBERS:
                raise _invalid(f"A jury has at most {juries.MAX_MEMBERS} seats", "jury.too_many", "login",
                               max=juries.MAX_MEMBERS)
            seat_id = connection.execute(JuryMember.__table__.insert().values(
                jury_code=jury_row.code, login=login, full_name=full_name, kind=kind, epci=epci,
                president=bool(president), term_start=term_start, term_end=term_end)).inserted_primary_key[0]
            self._check_sessions(connection, jury_row.code)
            return seat_id

    def set_term_end(self, seat_id: int, term_end: date | None) -> None:
        """End a seat's term on ``term_end`` (the member sits that day, not after; None: open)."""
        with self.db.engine.begin() as connection:
            seat = self._seat(connection, seat_id)
            self._check_term(seat.term_start, term_end)
            connection.execute(update(JuryMember).where(JuryMember.id == seat_id).values(term_end=term_end))
            self._check_sessions(connection, seat.jury_code)

    def remove_seat(self, seat_id: int) -> None:
        """Delete a seat entered by mistake (a member who leaves: :meth:`set_term_end`)."""
        with self.db.engine.begin() as connection:
            seat = self._seat(connection, seat_id)
            connection.execute(delete(JuryMember).where(JuryMember.id == seat_id))
            self._check_sessions(connection, seat.jury_code)

    def set_session(self, jury_code: str, campaign_code: str, day: date, quorum: int) -> None:
        """Set (or create) the session of ``jury_code`` for ``campaign_code``: its date and quorum."""
        if type(quorum) is not int or not 1 <= quorum <= juries.MAX_QUORUM:
            raise _invalid(f"The quorum: a whole number from 1 to {juries.MAX_QUORUM}", "jury.quorum", "quorum",
                           jury=jury_code, quorum=quorum, members=juries.MAX_QUORUM)
        with self.db.engine.begin() as connection:
            juries.jury(connection, jury_code)
            if connection.execute(select(Campaign.code).where(Campaign.code == campaign_code)).first() is None:
                raise NotFound(f"Campaign {campaign_code} does not exist", code="campaign.not_found",
                               params={"campaign": campaign_code})
            table = JurySession.__table__
            where = (JurySession.jury_code == jury_code) & (JurySession.campaign_code == campaign_code)
            if connection.execute(select(JurySession.id).where(where)).first() is None:
                connection.execute(table.insert().values(jury_code=jury_code, campaign_code=campaign_code,
                                                         day=day, quorum=quorum))
            else:
                connection.execute(update(JurySession).where(where).values(day=day, quorum=quorum))
            self._check_sessions(connection, jury_code)

    # -- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _check_term(term_start: date, term_end: date | None) -> None:
        if not isinstance(term_start, date):
            raise _invalid("A term starts on a date", "jury.bad_term", "term_start")
        if term_end is not None and (not isinstance(term_end, date) or term_end < term_start):
            raise _invalid("A term ends on or after its start", "jury.bad_term", "term_end")

    @staticmethod
    def _seat(connection: Connection, seat_id: int) -> juries.Seat:
        found = [s for s in juries.seats(connection) if s.id == seat_id]
        if not found:
            raise NotFound(f"Seat {seat_id} does not exist", code="jury.seat_not_found", params={"seat": seat_id})
        return found[0]

    @staticmethod
    def _check_sessions(connection: Connection, jury_code: str) -> None:
        """The composition rule on every session of the jury (raises, rolling the change back)."""
        row = juries.jury(connection, jury_code)
        all_seats = juries.seats(connection, jury_code)
        for session in juries.sessions(connection):
            if session.jury_code == jury_code:
                juries.check(row, all_seats, session.quorum, session.day)
