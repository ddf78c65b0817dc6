"""Jury sessions in action: "impossibilité" of a territorial jury, declared or by a failed quorum.

"Jurys territoriaux … ou … un jury uniquement régional si impossibilité pour les jurys locaux."
A regional officer (instructeur) declares a territorial jury's session impossible, with a reason;
or the session's president records who attended and, below the session's quorum, the session is
impossible too. Either way the session's dossiers that wait for its examination go to the
regional jury by the model's own path: the BPMN message :data:`MESSAGE` caught by the boundary
event on the territorial examination (``processes/phase_jury.bpmn``), correlated on the jury and
the jury's code each dossier's ``constituer_jury`` set from its journaled jury snapshot, among the
dossiers of the session's campaign (a jury has one session per campaign: the session is the
jury and the campaign, not its date, so moving the date keeps its waiting dossiers reachable).
Each dossier reached gets its own journaled ``message`` command, replayed by ``verify`` and shown
in its history; the model, not this module, decides where the dossier goes next.

The impossibility is stored on the session: a dossier that reaches the examination of an
impossible session later gets the same message at the worker's next pass, journaled as a system
``message`` command (:func:`forward_waiting`). Until a regional officer convenes the session
again (:meth:`JurySessions.reconvene`).

The session, its quorum and its members are read from the administration's tables
(:mod:`engine.juries`): the members in term on the session date.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from . import commands, juries, runtime
from .commands import SYSTEM, Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .limits import MAX_TEXT, check_text
from .persistence.models import Instance, JurySession
from .roles import INSTRUCTEUR

#: the BPMN message the territorial examination's boundary event catches
MESSAGE = "impossibilite_jury"
#: why a session is impossible: declared by a regional officer, or its quorum was not met
CAUSE_DECLARED = "declaree"
CAUSE_QUORUM = "quorum"
#: what a ``jury_record`` journal entry records: the members present, the minutes confirmed
RECORD_ATTENDANCE = "presences"
RECORD_MINUTES = "proces_verbal"
#: most dossiers one worker pass sends on per impossible session (the next pass takes the rest)
MAX_FORWARDED = 200
#: who declares an impossibility: the Région's officers
DECLARER_ROLES = frozenset({INSTRUCTEUR})


@dataclass(frozen=True)
class Session:
    """A jury's session for a campaign, with the members in term on its date."""

    jury: juries.JuryRow
    session: juries.SessionRow
    members: list[juries.Seat]

    @property
    def president(self) -> str | None:
        return next((seat.login for seat in self.members if seat.president), None)

    @property
    def correlation(self) -> dict:
        """What the waiting dossiers' data hold for this session (``constituer_jury``), among the
        dossiers of its campaign: the jury, not the date (which the administration may move)."""
        return {"jury_code": self.jury.code}

    @property
    def record(self) -> dict:
        """What a session's ``jury_record`` entry names: the jury and the session's date."""
        return {"jury_code": self.jury.code, "jury_session": self.session.day.isoformat()}


@dataclass(frozen=True)
class Attendance:
    """The president's record: who attended, whether the quorum was met, the dossiers sent on."""

    present: list[str]
    quorum: int
    quorum_met: bool
    reached: list[int]


class JurySessions:
    """Commands on jury sessions over one engine (:class:`engine.service.WorkflowEngine`)."""

    def __init__(self, engine):
        self.engine = engine

    def session(self, jury_code: str, campaign_code: str) -> Session:
        with self.engine.db.engine.connect() as connection:
            row = juries.jury(connection, jury_code)
            found = [s for s in juries.sessions(connection, campaign_code) if s.jury_code == jury_code]
            if not found:
                raise NotFound(f"Jury {jury_code} has no session for campaign {campaign_code}",
                               code="jury.session_not_found", params={"jury": jury_code, "campaign": campaign_code})
            members = juries.sitting(juries.seats(connection, jury_code), found[0].day)
        return Session(row, found[0], members)

    def declare_impossibility(self, actor: Actor, jury_code: str, campaign_code: str, motif: str) -> list[int]:
        """A regional officer declares the territorial session impossible, with ``motif``: its
        waiting dossiers go to the regional jury. Returns the dossiers' ids."""
        if not actor.roles & DECLARER_ROLES:
            raise Forbidden("Only a regional officer (instructeur) declares a jury session impossible",
                            code="jury.impossibility_forbidden")
        motif = (motif or "").strip() if isinstance(motif, str) else ""
        if not motif:
            raise Invalid("Give the reason of the impossibility", code="jury.motif_required",
                          errors={"motif": ["required"]})
        motif = check_text("motif", motif, MAX_TEXT)
        session = self._territorial(jury_code, campaign_code)
        self._store_impossibility(session, CAUSE_DECLARED, motif)
        return self._send(actor, session, {"cause": CAUSE_DECLARED, "motif": motif, "presents": None})

    def record_attendance(self, actor: Actor, jury_code: str, campaign_code: str, present: list[str]) -> Attendance:
        """The session's president records the members present. Below the session's quorum the
        territorial session is impossible: its waiting dossiers go to the regional jury."""
        session = self._territorial(jury_code, campaign_code)
        if actor.login != session.president:
            raise Forbidden("Only the session's president records its attendance", code="jury.not_president",
                            params={"jury": jury_code})
        if not isinstance(present, list | tuple) or len(present) > juries.MAX_MEMBERS:
            raise Invalid("Give the members present", code="jury.bad_attendance", errors={"present": ["list"]})
        members = {seat.login for seat in session.members}
        chosen = []
        for login in present:
            if not isinstance(login, str) or login not in members:
                raise Invalid(f"{login!r} does not sit on jury {jury_code} on the session date",
                              code="jury.not_member", params={"login": str(login)[:80], "jury": jury_code},
                              errors={"present": ["not a member"]})
            if login not in chosen:
                chosen.append(login)
        quorum = session.session.quorum
        if len(chosen) >= quorum:
            # journaled in each dossier on the session's agenda: the minutes list who was there
            motif = f"présences : {len(chosen)} membre(s) pour un quorum de {quorum}"
            record = {"record": RECORD_ATTENDANCE, **session.record, "presents": chosen, "quorum": quorum,
                      "motif": motif}
            self._send(actor, session, record, commands.JURY_RECORD)
            return Attendance(chosen, quorum, True, [])
        motif = f"quorum non atteint : {len(chosen)} présent(s) pour un quorum de {quorum}"
        self._store_impossibility(session, CAUSE_QUORUM, motif)
        reached = self._send(actor, session, {"cause": CAUSE_QUORUM, "motif": motif, "presents": chosen})
        return Attendance(chosen, quorum, False, reached)

    def reconvene(self, actor: Actor, jury_code: str, campaign_code: str) -> None:
        """A regional officer lifts an impossible session's impossibility (the territorial jury is
        convened again): the dossiers that reach it from now on wait for its examination. Those
        already sent to the regional jury stay there (their journals say so)."""
        if not actor.roles & DECLARER_ROLES:
            raise Forbidden("Only a regional officer (instructeur) reconvenes a jury session",
                            code="jury.impossibility_forbidden")
        session = self._territorial(jury_code, campaign_code)
        with self.engine.db.engine.begin() as connection:
            done = connection.execute(
                update(JurySession).where(JurySession.id == session.session.id,
                                          JurySession.impossible_cause.is_not(None))
                .values(impossible_cause=None, impossible_motif=None)).rowcount
        if not done:
            raise Conflict(f"The session of jury {jury_code} is not impossible", code="jury.not_impossible",
                           params={"jury": jury_code})

    # -- machinery --------------------------------------------------------------------------------

    def _territorial(self, jury_code: str, campaign_code: str) -> Session:
        session = self.session(jury_code, campaign_code)
        if session.jury.kind != juries.TERRITORIAL:
            raise Invalid("Only a territorial jury's session can be impossible: the regional jury is the last "
                          "resort", code="jury.not_territorial", params={"jury": jury_code},
                          errors={"jury": ["regional"]})
        return session

    def confirm_minutes(self, actor: Actor, jury_code: str, campaign_code: str) -> str:
        """The session's president confirms its procès-verbal: the minutes' hash
        (:func:`engine.jury_minutes.minutes_hash`) journaled in each open dossier they list, as a
        ``jury_record`` entry that verify replays and the history shows. Returns the hash."""
        from .jury_minutes import minutes_hash, read_minutes

        session = self.session(jury_code, campaign_code)
        if actor.login != session.president:
            raise Forbidden("Only the session's president confirms its procès-verbal", code="jury.not_president",
                            params={"jury": jury_code})
        minutes = read_minutes(self.engine.db, jury_code, campaign_code)
        if not minutes.dossiers:
            raise Conflict(f"The minutes of jury {jury_code} list no dossier yet", code="jury.minutes_empty",
                           params={"jury": jury_code})
        digest = minutes_hash(minutes)
        if minutes.confirmation is not None and minutes.confirmation.minutes_hash == digest:
            raise Conflict("These minutes are already confirmed", code="jury.minutes_confirmed",
                           params={"jury": jury_code})
        payload = {"record": RECORD_MINUTES, **session.record, "campagne": campaign_code,
                   "minutes_hash": digest, "dossiers": [d.ref for d in minutes.dossiers],
                   "motif": "procès-verbal confirmé par le président de séance"}
        written = 0
        for dossier in minutes.dossiers:
            try:
                self.engine._run(actor, dossier.instance_id, commands.JURY_RECORD,
                                 lambda connection, instance, state: (payload, None))
            except Conflict as err:
                if err.code != "dossier.closed":
                    raise
                continue  # a closed dossier's journal is final: the open ones' entries name it
            written += 1
        if not written:
            raise Conflict("Every dossier of these minutes is closed: nothing records the confirmation",
                           code="jury.minutes_closed", params={"jury": jury_code})
        return digest

    def _store_impossibility(self, session: Session, cause: str, motif: str) -> None:
        """The session is impossible from now on (refused if it already is)."""
        with self.engine.db.engine.begin() as connection:
            done = connection.execute(
                update(JurySession).where(JurySession.id == session.session.id,
                                          JurySession.impossible_cause.is_(None))
                .values(impossible_cause=cause, impossible_motif=motif)).rowcount
        if not done:
            raise Conflict(f"The session of jury {session.jury.code} is already impossible",
                           code="jury.already_impossible", params={"jury": session.jury.code})

    def _send(self, actor: Actor, session: Session, data: dict, command: str = commands.MESSAGE) -> list[int]:
        """The message (or a session's record) to every dossier of the session's campaign waiting
        for its examination, one journaled command each. An impossibility reaching no dossier
        yet is kept on the session: the dossiers arriving later are sent on then."""
        reached = _deliver(self.engine, actor, session.session.campaign_code, session.jury.code, data, command)
        if not reached and command != commands.MESSAGE:
            raise Conflict(f"No dossier waits for the examination of jury {session.jury.code} on "
                           f"{session.session.day.isoformat()}", code="jury.nothing_waiting",
                           params={"jury": session.jury.code, "day": session.session.day.isoformat()})
        return reached


def _deliver(engine, actor: Actor, campaign_code: str, jury_code: str, data: dict, command: str,
             candidates: list[int] | None = None) -> list[int]:
    correlation = {"jury_code": jury_code}
    if command == commands.MESSAGE:
        # "motif" beside the message: the history shows it as the entry's reason
        payload = {"message": MESSAGE, "correlation": correlation, "data": data, "motif": data["motif"]}
    else:
        payload = data
    if candidates is None:
        with engine.db.engine.connect() as connection:
            candidates = list(connection.execute(
                select(Instance.id).where(Instance.status == "running", Instance.campaign_code == campaign_code)
                .order_by(Instance.id)).scalars())

    return engine.deliver(actor, command, candidates,
                          lambda state: runtime.awaits(state.wf, runtime.BpmnMessage, MESSAGE, correlation), payload)


def forward_waiting(engine) -> int:
    """The worker's pass: the dossiers that reached the examination of an impossible territorial
    session since it was declared get the impossibility message, one journaled system ``message``
    command each (verify replays it). Read from the inbox projection: the territorial jury's open
    tasks of the session's EPCI and campaign; the command itself checks the dossier waits for it.
    Returns how many dossiers moved."""
    from .persistence.models import Jury, OpenTask
    from .roles import JURY_TERRITORIAL

    with engine.db.engine.connect() as connection:
        rows = connection.execute(
            select(JurySession.jury_code, JurySession.campaign_code, JurySession.impossible_cause,
                   JurySession.impossible_motif, Jury.epci)
            .join(Jury, Jury.code == JurySession.jury_code)
            .where(JurySession.impossible_cause.is_not(None), Jury.kind == juries.TERRITORIAL)).all()
        work = []
        for jury_code, campaign_code, cause, motif, epci in rows:
            candidates = list(connection.execute(
                select(OpenTask.instance_id).distinct()
                .where(OpenTask.campaign_code == campaign_code, OpenTask.epci == epci,
                       OpenTask.role == JURY_TERRITORIAL)
                .order_by(OpenTask.instance_id)
                .limit(MAX_FORWARDED)).scalars())
            if candidates:
                work.append((jury_code, campaign_code, {"cause": cause, "motif": motif, "presents": None},
                             candidates))
    moved = 0
    for jury_code, campaign_code, data, candidates in work:
        moved += len(_deliver(engine, SYSTEM, campaign_code, jury_code, data, commands.MESSAGE, candidates))
    return moved
