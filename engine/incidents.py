"""Incidents: a failure of model code on one dossier, recorded apart, retried, shown to process owners.

A timer pass or a person's command that fails while running a model's code (a script, a timer
expression, or storing what they produced) is rolled back; then, in a transaction of its own, an
``incident`` row records the dossier, the BPMN element, the error with its cause and the task
data at that point. The worker's timer pass goes on with the other dossiers; the failing one is
tried again after an exponential back-off (:func:`backoff`) and set aside after
:data:`MAX_ATTEMPTS`. A later successful command of the same kind resolves the incident; a new
deployment or a process owner's retry (:meth:`IncidentCenter.retry`) tries it again.

Kinds: ``timer`` (the worker's pass, or the deadlines a person's command fires first) and
``command`` (a person's command, which the person tries again: the worker never retries it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from SpiffWorkflow.task import Task
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import runtime
from .errors import Conflict, EngineError, NotFound, ScriptFailed
from .persistence.models import Incident, Instance
from .persistence.raw import RawStatement

log = logging.getLogger(__name__)

TIMER, COMMAND = "timer", "command"
#: attempts of the timer pass before a dossier is set aside (a person's retry or a deployment revives it)
MAX_ATTEMPTS = 5
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
#: the data snapshot is for a person to read: cut beyond this many characters
MAX_DATA_CHARS = 20_000
MAX_ERROR_CHARS = 4_000
#: the database itself failing: no dossier's fault, so no incident; the pass stops and the worker
#: tries again later
INFRASTRUCTURE = (OperationalError, DisconnectionError, PoolTimeout)

_TABLE = Incident.__table__
# Every successful timer fire or completion runs this (an indexed UPDATE that usually changes nothing).
_RESOLVE = RawStatement(
    "UPDATE incident SET resolved_at = :now WHERE instance_id = :instance_id AND kind = :kind"
    " AND resolved_at IS NULL",
    {"now": _TABLE.c.resolved_at, "instance_id": _TABLE.c.instance_id, "kind": _TABLE.c.kind})


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1 min, 2, 4, 8… at most 6 hours."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


# -- turning any failure of model code into the engine's error -----------------------------------


def _chain(err: BaseException):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _task_in_traceback(err: BaseException) -> Task | None:
    """The innermost SpiffWorkflow task a frame of the traceback was working on.

    SpiffWorkflow calls timer definitions and other spec hooks with the task as ``my_task``
    without wrapping what they raise: the frames still say which element was running.
    """
    found = None
    for link in _chain(err):
        tb = link.__traceback__
        while tb is not None:
            for name in ("my_task", "task"):
                value = tb.tb_frame.f_locals.get(name)
                if isinstance(value, Task):
                    found = value
            tb = tb.tb_next
        if found is not None:
            return found
    return None


def _unstorable(data) -> bool:
    try:
        orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    except (TypeError, ValueError):
        return True
    return False


def failing_task(err: BaseException, wf) -> Task | None:
    """The task where ``err`` arose: the one an error names, else the one a traceback frame was
    running, else the first task (creation order) whose data the journal cannot store, which is
    where an unstorable value was produced."""
    for link in _chain(err):
        task = getattr(link, "task", None)
        if isinstance(task, Task):
            return task
    task = _task_in_traceback(err)
    if task is not None or wf is None:
        return task
    return next((task for task in runtime.all_tasks(wf) if _unstorable(task.data)), None)


def model_failure(err: Exception, wf, instance_id: int | None) -> ScriptFailed:
    """``err``, raised while running model code or storing its results, as a :class:`ScriptFailed`
    naming the element, with the task data at that point (raise it ``from err``)."""
    task = failing_task(err, wf)
    return ScriptFailed(
        f"The model failed: {type(err).__name__}: {err}. Fix the model (or the data it was given) "
        "and deploy again; the dossier is retried then",
        instance_id=instance_id,
        bpmn_id=task.task_spec.bpmn_id if task is not None else None,
        data=dict(task.data) if task is not None else None,
    )


def complete_failure(err: ScriptFailed, wf) -> None:
    """Fill in the element and data of a :class:`ScriptFailed` raised without them."""
    if err.bpmn_id is None or err.data is None:
        task = failing_task(err, wf)
        if task is not None:
            err.bpmn_id = err.bpmn_id or task.task_spec.bpmn_id
            err.data = dict(task.data) if err.data is None else err.data


# -- the incident rows -------------------------------------------------------------------------


def snapshot(data) -> str | None:
    """The data as indented JSON for a person to read (anything JSON cannot hold shown by ``repr``),
    cut to :data:`MAX_DATA_CHARS`."""
    if data is None:
        return None
    try:
        text = json.dumps(data, default=repr, ensure_ascii=False, sort_keys=True, indent=1)
    except (TypeError, ValueError, RecursionError):  # keys of mixed or odd types: their repr still helps
        text = repr(data)
    if len(text) > MAX_DATA_CHARS:
        text = text[:MAX_DATA_CHARS] + "\n… (cut)"
    return text


def describe(err: BaseException) -> str:
    """The error and its causes, one per line, bounded."""
    lines = [str(err) if isinstance(err, EngineError) else f"{type(err).__name__}: {err}"]
    lines += [f"caused by {type(cause).__name__}: {cause}" for cause in list(_chain(err))[1:]]
    return "\n".join(lines)[:MAX_ERROR_CHARS]


def record(connection: Connection, instance_id: int, kind: str, err: BaseException, now: datetime) -> int:
    """Record ``err`` against the dossier's open incident of ``kind`` (one more attempt), or open one."""
    row = connection.execute(
        select(Incident.id, Incident.attempts).where(
            Incident.instance_id == instance_id, Incident.kind == kind, Incident.resolved_at.is_(None))
    ).first()
    attempts = row.attempts + 1 if row is not None else 1
    set_aside = kind == TIMER and attempts >= MAX_ATTEMPTS
    values = {
        "bpmn_id": (getattr(err, "bpmn_id", None) or None) and str(err.bpmn_id)[:120],
        "error": describe(err),
        "data": snapshot(getattr(err, "data", None)),
        "last_seen_at": now,
        "attempts": attempts,
        "next_attempt_at": now + backoff(attempts) if kind == TIMER and not set_aside else None,
        "set_aside_at": now if set_aside else None,
    }
    if row is None:
        return connection.execute(
            insert(Incident).values(instance_id=instance_id, kind=kind, first_seen_at=now, **values)
            .returning(Incident.id)).scalar_one()
    connection.execute(update(Incident).where(Incident.id == row.id).values(**values))
    return row.id


def record_apart(db, instance_id: int, kind: str, err: BaseException, now: datetime) -> int:
    """:func:`record` in a transaction of its own (the failed command's was rolled back).

    Two workers failing on one dossier at once may both try to open its incident: the one that
    loses the unique index's race records its attempt on the other's row.
    """
    for attempt in (1, 2):
        try:
            with db.engine.begin() as connection:
                incident_id = record(connection, instance_id, kind, err, now)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if isinstance(err, ScriptFailed):
        err.incident_id = incident_id
    log.info("instance %s: %s failure recorded as incident %s", instance_id, kind, incident_id)
    return incident_id


def resolve(connection: Connection, instance_id: int, kind: str, now: datetime) -> None:
    """A command of ``kind`` succeeded on the dossier: its open incident of that kind is resolved."""
    _RESOLVE.defer(connection, {"now": now, "instance_id": instance_id, "kind": kind})


def retry_all(connection, now: datetime) -> int:
    """Every open timer incident is tried again at the next pass (after a deployment)."""
    return connection.execute(
        update(Incident).where(Incident.kind == TIMER, Incident.resolved_at.is_(None))
        .values(next_attempt_at=now, set_aside_at=None)).rowcount


@dataclass(frozen=True)
class IncidentRow:
    id: int
    instance_id: int
    dossier_ref: str
    kind: str
    bpmn_id: str | None
    error: str
    data: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    set_aside_at: datetime | None
    resolved_at: datetime | None

    @property
    def status(self) -> str:
        """``open`` (to be retried), ``set_aside`` or ``resolved``."""
        if self.resolved_at is not None:
            return "resolved"
        return "set_aside" if self.set_aside_at is not None else "open"


class IncidentCenter:
    """Lists incidents and lets a process owner retry or close one.

    ``fire(instance_id) -> bool`` fires one dossier's due timers now, recording a new attempt if
    it fails (:meth:`engine.service.WorkflowEngine.fire_timers_of`).
    """

    def __init__(self, db, clock, fire: Callable[[int], bool]):
        self.db = db
        self.clock = clock
        self.fire = fire

    def list(self, limit: int = 200) -> list[IncidentRow]:
        """Open incidents first, then set aside, then resolved; the most recent first within each."""
        query = (
            select(Incident, Instance.ref).join(Instance, Instance.id == Incident.instance_id)
            .order_by(Incident.resolved_at.is_not(None), Incident.set_aside_at.is_not(None),
                      Incident.last_seen_at.desc(), Incident.id.desc())
            .limit(limit))
        with self.db.sessions() as session:
            return [_row(incident, ref) for incident, ref in session.execute(query)]

    def unresolved(self, limit: int) -> tuple[list[IncidentRow], int]:
        """The ``limit`` unresolved incidents :meth:`list` shows first, and how many there are in all."""
        limit = max(0, min(limit, 200))
        pending = Incident.resolved_at.is_(None)
        query = (
            select(Incident, Instance.ref).join(Instance, Instance.id == Incident.instance_id).where(pending)
            .order_by(Incident.set_aside_at.is_not(None), Incident.last_seen_at.desc(), Incident.id.desc())
            .limit(limit))
        with self.db.sessions() as session:
            rows = [_row(incident, ref) for incident, ref in session.execute(query)]
            total = session.scalar(select(func.count()).select_from(Incident).where(pending))
        return rows, total

    def get(self, incident_id: int) -> IncidentRow:
        with self.db.sessions() as session:
            found = session.execute(select(Incident, Instance.ref).join(Instance, Instance.id == Incident.instance_id)
                                    .where(Incident.id == incident_id)).first()
        if found is None:
            raise NotFound(f"Incident {incident_id} does not exist",
                           code="incident.not_found", params={"incident_id": incident_id})
        return _row(*found)

    def retry(self, incident_id: int) -> bool:
        """Try a timer incident's dossier again now; True if it went through (the incident is resolved)."""
        incident = self.get(incident_id)
        if incident.status == "resolved":
            raise Conflict("This incident is already resolved", code="incident.resolved")
        if incident.kind != TIMER:
            raise Conflict("Only the person whose command failed can run it again: close the incident "
                           "once the model is fixed", code="incident.not_retryable")
        with self.db.engine.begin() as connection:
            connection.execute(update(Incident).where(Incident.id == incident_id, Incident.resolved_at.is_(None))
                               .values(next_attempt_at=self.clock.now(), set_aside_at=None))
        moved = self.fire(incident.instance_id)
        if self.get(incident_id).status == "resolved":
            return True
        if not moved and self.get(incident_id).last_seen_at == incident.last_seen_at:
            # Nothing was due any more (a person's command fired the timers meanwhile): nothing fails.
            self.close(incident_id)
            return True
        return False

    def close(self, incident_id: int) -> None:
        """Mark an incident resolved (a process owner has dealt with it)."""
        with self.db.engine.begin() as connection:
            changed = connection.execute(update(Incident).where(Incident.id == incident_id,
                                                                Incident.resolved_at.is_(None))
                                         .values(resolved_at=self.clock.now())).rowcount
        if not changed:
            self.get(incident_id)  # NotFound when it does not exist
            raise Conflict("This incident is already resolved", code="incident.resolved")


def _row(incident: Incident, ref: str) -> IncidentRow:
    return IncidentRow(incident.id, incident.instance_id, ref, incident.kind, incident.bpmn_id, incident.error,
                       incident.data, incident.first_seen_at, incident.last_seen_at, incident.attempts,
                       incident.next_attempt_at, incident.set_aside_at, incident.resolved_at)

