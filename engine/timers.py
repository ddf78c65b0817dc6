"""The timer table and the worker that fires due timers.

Every command rewrites its instance's pending timers from the workflow. The worker applies a
``fire_timers`` command to an instance with due rows. On PostgreSQL it locks the instance row first
(``FOR UPDATE SKIP LOCKED``: a row another worker or a person's command holds is skipped, that one
fires the timers), then the due timer rows: the order every command takes its locks in, so a
worker and a command never deadlock, and each timer fires once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import Connection, or_, select

from .persistence.models import Incident, Timer
from .persistence.raw import RawStatement

log = logging.getLogger(__name__)


_TABLE = Timer.__table__
# Raw statements (:mod:`engine.persistence.raw`): they run on every command and every worker pass.
_OF_INSTANCE = RawStatement("SELECT task_ref, due_at FROM timer WHERE instance_id = :instance_id",
                            {"instance_id": _TABLE.c.instance_id}, [_TABLE.c.task_ref, _TABLE.c.due_at])
_DELETE = RawStatement("DELETE FROM timer WHERE instance_id = :instance_id", {"instance_id": _TABLE.c.instance_id})
_INSERT = RawStatement("INSERT INTO timer (instance_id, task_ref, due_at) VALUES (:instance_id, :task_ref, :due_at)",
                       {name: _TABLE.c[name] for name in ("instance_id", "task_ref", "due_at")})
# A dossier whose last timer pass failed waits for its back-off, or for a person, when set aside
# (see engine.incidents); the NOT EXISTS reads the small index of open incidents.
_NEXT_DUE = RawStatement(
    "SELECT instance_id FROM timer WHERE due_at <= :now AND NOT EXISTS (SELECT 1 FROM incident"
    " WHERE incident.instance_id = timer.instance_id AND incident.kind = 'timer' AND incident.resolved_at IS NULL"
    " AND (incident.set_aside_at IS NOT NULL OR incident.next_attempt_at > :now)) ORDER BY due_at, id LIMIT 1",
    {"now": _TABLE.c.due_at})


def _waiting(now: datetime):
    """The condition of :data:`_NEXT_DUE`'s NOT EXISTS, for the query built with exclusions."""
    return select(Incident.id).where(
        Incident.instance_id == Timer.instance_id, Incident.kind == "timer", Incident.resolved_at.is_(None),
        or_(Incident.set_aside_at.is_not(None), Incident.next_attempt_at > now)).exists()


def refresh(
    connection: Connection,
    instance_id: int,
    pending: list[tuple[str, datetime]],
    previous: list[tuple[str, datetime]] | None,
) -> list[tuple[str, datetime]]:
    """Make the instance's timer rows match ``pending`` (``previous``: the rows, if known)."""
    if previous is None:
        previous = _OF_INSTANCE.all(connection, {"instance_id": instance_id})
    if set(previous) != set(pending):
        _DELETE.execute(connection, {"instance_id": instance_id})
        if pending:
            _INSERT.execute_many(connection, [{"instance_id": instance_id, "task_ref": ref, "due_at": due}
                                              for ref, due in pending])
    return pending


def next_due_instance(connection: Connection, now: datetime, exclude: set[int] = frozenset()) -> int | None:
    """The instance whose timer is the most overdue (a plain read: candidates, not claims), leaving
    out dossiers whose last pass failed until their back-off has passed."""
    if not exclude:
        row = _NEXT_DUE.first(connection, {"now": now})
        return None if row is None else row[0]
    query = select(Timer.instance_id).where(Timer.due_at <= now, Timer.instance_id.not_in(sorted(exclude)),
                                            ~_waiting(now))
    return connection.execute(query.order_by(Timer.due_at, Timer.id).limit(1)).scalar()


def lock_due(connection: Connection, instance_id: int, now: datetime, skip_locked: bool) -> bool:
    """Lock the instance's due timer rows for this transaction (its instance row already locked, see
    the module's docstring); False if none (or another worker has them)."""
    query = select(Timer.id).where(Timer.instance_id == instance_id, Timer.due_at <= now)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return bool(connection.scalars(query).all())


class Worker:
    """Fires due timers until stopped (``dsdt worker``, or a thread of the embedded web app).

    ``jobs`` are other periodic duties run after each pass (sending the e-mail outbox, say); a
    failing job or pass is logged and the worker goes on.
    """

    def __init__(self, engine, interval: float = 5.0, jobs=()):
        self.engine = engine
        self.interval = interval
        self.jobs = list(jobs)
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            busy = self._safely(self.engine.fire_due_timers, "timer pass")
            for job in self.jobs:
                busy += self._safely(job, getattr(job, "__name__", "job"))
            if not busy:
                self._stop.wait(self.interval)

    @staticmethod
    def _safely(job, name: str) -> int:
        try:
            return job() or 0
        except Exception:  # a worker must survive one bad instance or an SMTP outage
            log.exception("worker %s failed", name)
            return 0

    def stop(self) -> None:
        self._stop.set()
