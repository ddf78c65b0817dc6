"""The step-span projection: when each human step of a dossier opened and closed.

The journal records when a step was *completed*, not when it *opened*: a step opens as a side
effect of another command (the previous step's completion, a timer, a message), which only a
replay can tell. Process analytics need both for every dossier at once, so every command writes
them as it runs, next to the inbox rows (``step_span``, one row per opening):

* a step that appears among the ready tasks opens at the command's instant and journal entry;
  ``before_s`` is the time the dossier spent before it with no step closing, since the last step
  of the dossier closed or, if none did, since its start: 0 when the command that opened it also
  closed a step (a completion leading straight to the next step), the time spent in a timer or
  waiting for a message otherwise;
* a person *takes it up* with the first claim or delegation of it, or else by completing it:
  ``waiting_s`` is ``before_s`` plus the time from its opening to then, that is all the time the
  dossier waited for this step to be worked on (inbox queue included);
* a step that leaves the ready tasks closes at the command's instant: ``completed`` is true when
  that command was a person completing it, false when something else closed it (a deadline, a
  withdrawal, a message; ``waiting_s`` then stays empty if nobody took it up); ``duration_s`` is
  from its opening to its closing.

:func:`spans_from_journal` derives the same rows by replaying a dossier's journal on its versions
(:func:`engine.replay.replay_states`, the code ``verify`` runs; a migrated dossier moves at its
``migrate`` entry): :func:`backfill` fills the dossiers journaled before the
projection existed, and the tests check the projection against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, column, delete, insert, select

from . import commands, journal
from .persistence.models import Instance, StepSpan
from .persistence.raw import RawStatement
from .replay import dossier_models, replay_states

_TABLE = StepSpan.__table__
_INSERTED = ("instance_id", "task_ref", "bpmn_id", "opened_at", "opened_seq", "before_s")
_INSERT = RawStatement(
    f"INSERT INTO step_span ({', '.join(_INSERTED)}) VALUES ({', '.join(':' + name for name in _INSERTED)})",
    {name: _TABLE.c[name] for name in _INSERTED},
)
_OPEN = RawStatement(
    "SELECT id, task_ref, opened_at, before_s, waiting_s FROM step_span "
    "WHERE instance_id = :instance_id AND closed_seq IS NULL",
    {"instance_id": _TABLE.c.instance_id},
    # The seconds as the drivers return them (floats): psycopg's numeric result processor wants a
    # column type code a raw cursor does not give.
    [_TABLE.c.id, _TABLE.c.task_ref, _TABLE.c.opened_at, column("before_s"), column("waiting_s")],
)
_CLOSE = RawStatement(
    "UPDATE step_span SET closed_at = :closed_at, closed_seq = :closed_seq, duration_s = :duration_s, "
    "completed = :completed, waiting_s = :waiting_s WHERE id = :id",
    {name: _TABLE.c[name] for name in ("closed_at", "closed_seq", "duration_s", "completed", "waiting_s", "id")},
)
_TAKE = RawStatement("UPDATE step_span SET waiting_s = :waiting_s WHERE id = :id",
                     {name: _TABLE.c[name] for name in ("waiting_s", "id")})
_LAST_CLOSED = RawStatement(
    "SELECT max(closed_at) FROM step_span WHERE instance_id = :instance_id AND closed_seq IS NOT NULL",
    {"instance_id": _TABLE.c.instance_id},
    [_TABLE.c.closed_at],
)
#: the commands by which a person takes a step up before completing it
TAKE_UP = (commands.CLAIM, commands.DELEGATE)


def _completed(command: str, payload: dict, ref: str) -> bool:
    return command == commands.COMPLETE and payload.get("task") == ref


def _taken(command: str, payload: dict) -> str | None:
    return payload.get("task") if command in TAKE_UP else None


def record(connection: Connection, instance, previous: dict | None, ready: list, command: str, payload: dict,
           now: datetime) -> None:
    """Open, take up and close the dossier's spans after a command (inside its transaction).

    ``previous``: the open steps (task ref → anything) before the command, as the inbox
    projection held them (``{}`` for a start); ``ready``: the open human steps after it;
    ``instance.journal_seq``: the command's journal entry, already appended.
    """
    previous = previous or {}
    now_refs = {human.ref: human for human in ready}
    gone = {ref for ref in previous if ref not in now_refs}
    new = [human for ref, human in now_refs.items() if ref not in previous]
    taken = _taken(command, payload)
    seq = instance.journal_seq
    if gone or taken:
        closes, takes = [], []
        for span_id, ref, opened_at, before, waiting in _OPEN.all(connection, {"instance_id": instance.id}):
            since_open = (now - opened_at).total_seconds()
            if ref in gone:
                completed = _completed(command, payload, ref)
                closes.append({"id": span_id, "closed_at": now, "closed_seq": seq, "duration_s": since_open,
                               "completed": completed,
                               "waiting_s": before + since_open if waiting is None and completed else waiting})
            elif ref == taken and waiting is None:
                takes.append({"id": span_id, "waiting_s": before + since_open})
        if closes:
            _CLOSE.execute_many(connection, closes)
        if takes:
            _TAKE.execute_many(connection, takes)
    if not new:
        return
    if command == commands.START or gone:
        before = 0.0
    else:
        last = _LAST_CLOSED.first(connection, {"instance_id": instance.id})
        since = last[0] if last and last[0] is not None else instance.created_at
        before = max((now - since).total_seconds(), 0.0)
    _INSERT.execute_many(connection, [
        {"instance_id": instance.id, "task_ref": human.ref, "bpmn_id": human.bpmn_id, "opened_at": now,
         "opened_seq": seq, "before_s": before}
        for human in new
    ])


@dataclass
class Span:
    """One span as :func:`spans_from_journal` derives it (the columns of ``step_span``)."""

    task_ref: str
    bpmn_id: str
    opened_at: datetime
    opened_seq: int
    before_s: float
    waiting_s: float | None = None
    closed_at: datetime | None = None
    closed_seq: int | None = None
    duration_s: float | None = None
    completed: bool | None = None


def spans_from_journal(rows, models, script_engine, switch=None) -> list[Span]:
    """The spans of one dossier, from its journal rows (oldest first) replayed on ``models`` (the
    version it started on; ``switch``: the models of a migration's target).

    Raises the replay's :class:`~engine.errors.EngineError` when an entry cannot be re-applied.
    """
    spans, open_spans = [], {}
    started, last_closed = None, None
    before: set[str] = set()
    for step in replay_states(rows, models, script_engine, switch=switch, copy_payloads=True):
        row, state = step.row, step.state
        payload = row.payload if isinstance(row.payload, dict) else {}
        ready = {human.ref: human for human in state.visible().ready}
        previous, before = before, set(ready)
        started = started or row.at
        taken = open_spans.get(_taken(row.command, payload))
        if taken is not None and taken.waiting_s is None:
            taken.waiting_s = taken.before_s + (row.at - taken.opened_at).total_seconds()
        gone = [ref for ref in previous if ref not in ready]
        for ref in gone:
            span = open_spans.pop(ref)
            span.closed_at, span.closed_seq = row.at, row.seq
            span.duration_s = (row.at - span.opened_at).total_seconds()
            span.completed = _completed(row.command, payload, ref)
            if span.completed and span.waiting_s is None:
                span.waiting_s = span.before_s + span.duration_s
            last_closed = row.at
        opened = [human for ref, human in ready.items() if ref not in previous]
        if not opened:
            continue
        if row.command == commands.START or gone:
            waited = 0.0
        else:
            waited = max((row.at - (last_closed or started)).total_seconds(), 0.0)
        for human in opened:
            span = Span(human.ref, human.bpmn_id, row.at, row.seq, waited)
            open_spans[human.ref] = span
            spans.append(span)
    return spans


def backfill(engine, instance_ids: list[int] | None = None) -> int:
    """Rebuild the spans of ``instance_ids`` (default: every dossier that has none) from their
    journals; returns how many dossiers were rebuilt. Each dossier in its own transaction, its
    row locked first (the engine's lock order), so commands running meanwhile stay consistent.
    """
    with engine.db.sessions() as session:
        if instance_ids is None:
            has_spans = select(StepSpan.id).where(StepSpan.instance_id == Instance.id).exists()
            instance_ids = list(session.scalars(select(Instance.id).where(~has_spans).order_by(Instance.id)))
    done = 0
    for instance_id in instance_ids:
        with engine.db.sessions.begin() as session:
            instance = session.scalars(select(Instance).where(Instance.id == instance_id).with_for_update()).one()
            rows = journal.entries(session, instance_id)
            known = dossier_models(session, engine.deployments, rows, instance.deployment_id, instance.family)
            spans = spans_from_journal(rows, known.origin, engine.script_engine, switch=known.switch)
            session.execute(delete(StepSpan).where(StepSpan.instance_id == instance_id))
            if spans:
                session.execute(insert(StepSpan), [{"instance_id": instance_id, **vars(span)} for span in spans])
        done += 1
    return done
