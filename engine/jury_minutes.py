"""The procès-verbal of a jury session, read from the journal.

For one jury's session of a campaign: its date, quorum, president and members (in term on the
session date, :mod:`engine.juries`), who was present (the members whose examinations or
confirmations the journal holds, and the attendance a failed quorum recorded), and each dossier
the session dealt with: every member's journaled examination (conflict of interest or the four
scores and the comment), the president's journaled confirmation (final opinion, motivation,
amount), an impossibility that sent it to the regional jury, and the hash of every journal entry
cited, with whether each dossier's chain checks out now. Nothing is typed twice: the minutes are
what the journal recorded, and anyone can compare the hashes with ``dsdt verify``.

Nothing here decides who may read the minutes: the web layer does (the session's president,
regional officers, administrators).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from . import commands, journal, juries
from .errors import NotFound
from .jury_sessions import MESSAGE, RECORD_ATTENDANCE, RECORD_MINUTES
from .persistence.models import Instance
from .queries import bpmn_id_of

CRITERIA = ("qualite_inventivite", "partenariat", "mise_en_reseau", "gouvernance_evaluation")
#: most dossiers one session's minutes list (a session examines a few dozen)
MAX_DOSSIERS = 500


@dataclass(frozen=True)
class Examination:
    member: str
    at: datetime
    conflict: bool
    scores: dict  # criterion → score (empty for a conflict of interest)
    comment: str | None
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class Confirmation:
    president: str
    at: datetime
    opinion: str | None  # favorable, defavorable, ajourne
    motivation: str | None
    amount: float | None
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class Impossibility:
    actor: str
    at: datetime
    cause: str
    motif: str
    present: list[str] | None
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class Record:
    """A session's ``jury_record`` entry in one dossier's journal: attendance or confirmation."""

    actor: str
    at: datetime
    record: str
    present: list[str] | None
    minutes_hash: str | None
    seq: int
    entry_hash: str


@dataclass
class DossierMinutes:
    instance_id: int
    ref: str
    title: str | None
    epci: str | None
    chain_ok: bool
    examinations: list[Examination] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)
    impossibilities: list[Impossibility] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        """The mean of the scores of the members without a conflict (as the model computes it)."""
        scored = [e for e in self.examinations if not e.conflict and e.scores]
        if not scored:
            return None
        per_criterion = [sum(e.scores[c] for e in scored) / len(scored) for c in CRITERIA]
        return round(sum(per_criterion) / len(per_criterion), 2)


@dataclass(frozen=True)
class Minutes:
    jury: juries.JuryRow
    campaign_code: str
    day: date
    quorum: int
    president: str | None
    members: list[juries.Seat]
    present: list[str]
    dossiers: list[DossierMinutes]
    #: whether ``present`` is what the president recorded (attendance or failed quorum), not
    #: inferred from who examined (sessions before attendance was recorded)
    present_recorded: bool = False
    #: the latest confirmation of these minutes by the president, and whether its hash is the
    #: minutes' hash now (False: the journal moved on since, confirm again)
    confirmation: Record | None = None
    confirmed_current: bool = False


def read_minutes(db, jury_code: str, campaign_code: str) -> Minutes:
    """The minutes of ``jury_code``'s session for ``campaign_code`` (:class:`NotFound` if none)."""
    with db.sessions() as session:
        connection = session.connection()
        row = juries.jury(connection, jury_code)
        found = [s for s in juries.sessions(connection, campaign_code) if s.jury_code == jury_code]
        if not found:
            raise NotFound(f"Jury {jury_code} has no session for campaign {campaign_code}",
                           code="jury.session_not_found", params={"jury": jury_code, "campaign": campaign_code})
        sitting = found[0]
        members = juries.sitting(juries.seats(connection, jury_code), sitting.day)
        logins = {seat.login for seat in members}
        president = next((seat.login for seat in members if seat.president), None)
        examined_step = "examen_territorial" if row.kind == juries.TERRITORIAL else "examen_regional"
        query = select(Instance).where(Instance.campaign_code == campaign_code).order_by(Instance.id)
        if row.kind == juries.TERRITORIAL:
            query = query.where(Instance.epci == row.epci)
        dossiers: list[DossierMinutes] = []
        present: set[str] = set()
        recorded: tuple | None = None  # (at, presents) of the latest attendance recorded
        confirmation: Record | None = None
        for instance in session.scalars(query.limit(MAX_DOSSIERS * 4)):
            rows = journal.entries(session, instance.id)
            minutes = DossierMinutes(instance.id, instance.ref, instance.title, instance.epci,
                                     journal.check_chain(instance, rows).ok)
            for entry in rows:
                _read_entry(minutes, entry, examined_step, logins, president, row.code)
            for record in minutes.records:
                if record.record == RECORD_MINUTES and (confirmation is None or record.at > confirmation.at):
                    confirmation = record
            attendance = [r for r in minutes.records if r.record == RECORD_ATTENDANCE] + [
                i for i in minutes.impossibilities if i.present is not None]
            for found in attendance:
                if recorded is None or found.at > recorded[0]:
                    recorded = (found.at, found.present)
            if minutes.examinations or minutes.impossibilities or minutes.records:
                present |= {e.member for e in minutes.examinations}
                present |= {c.president for c in minutes.confirmations}
                for impossibility in minutes.impossibilities:
                    present |= set(impossibility.present or ()) & logins
                dossiers.append(minutes)
            if len(dossiers) >= MAX_DOSSIERS:
                break
    if recorded is not None:
        present = set(recorded[1]) & logins
    ordered = [seat.login for seat in members if seat.login in present]
    found = Minutes(row, campaign_code, sitting.day, sitting.quorum, president, members, ordered, dossiers,
                    recorded is not None, confirmation)
    if confirmation is None:
        return found
    return dataclasses.replace(found, confirmed_current=confirmation.minutes_hash == minutes_hash(found))


def minutes_hash(minutes: Minutes) -> str:
    """SHA-256 of what the minutes state: the session, who was present, and every journal entry
    they cite (sequence and hash), the confirmations of the minutes themselves left out."""
    body = {
        "jury": minutes.jury.code, "campagne": minutes.campaign_code, "session": minutes.day.isoformat(),
        "quorum": minutes.quorum, "president": minutes.president, "presents": minutes.present,
        "dossiers": [{"id": d.instance_id, "ref": d.ref, "entrees": sorted(
            [e.seq, e.entry_hash] for e in [*d.examinations, *d.confirmations, *d.impossibilities,
                                            *(r for r in d.records if r.record != RECORD_MINUTES)])}
            for d in minutes.dossiers],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _read_entry(minutes: DossierMinutes, entry, examined_step: str, logins: set[str], president: str | None,
                jury_code: str) -> None:
    payload = entry.payload if isinstance(entry.payload, dict) else {}
    if entry.command == commands.COMPLETE:
        step = bpmn_id_of(payload.get("task")) if isinstance(payload.get("task"), str) else None
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if step == examined_step and entry.actor in logins:
            conflict = bool(data.get("conflit_interet"))
            scores = {} if conflict else {c: data[c] for c in CRITERIA if isinstance(data.get(c), int | float)}
            minutes.examinations.append(Examination(entry.actor, entry.at, conflict, scores, data.get("commentaire"),
                                                    entry.seq, entry.entry_hash))
        elif step == "confirmation_president" and entry.actor == president and minutes.examinations:
            amount = data.get("montant_propose")
            minutes.confirmations.append(Confirmation(
                entry.actor, entry.at, data.get("avis_final"), data.get("motivation"),
                amount if isinstance(amount, int | float) else None, entry.seq, entry.entry_hash))
    elif entry.command == commands.JURY_RECORD and payload.get("jury_code") == jury_code:
        presents = payload.get("presents")
        digest = payload.get("minutes_hash")
        minutes.records.append(Record(entry.actor, entry.at, str(payload.get("record")),
                                      list(presents) if isinstance(presents, list) else None,
                                      digest if isinstance(digest, str) else None, entry.seq, entry.entry_hash))
    elif entry.command == commands.MESSAGE and payload.get("message") == MESSAGE:
        correlation = payload.get("correlation") if isinstance(payload.get("correlation"), dict) else {}
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if correlation.get("jury_code") == jury_code:
            presents = data.get("presents")
            minutes.impossibilities.append(Impossibility(
                entry.actor, entry.at, str(data.get("cause")), str(data.get("motif")),
                list(presents) if isinstance(presents, list) else None, entry.seq, entry.entry_hash))
