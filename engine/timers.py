"""The timer table and the worker that fires due timers.

Every command rewrites its instance's pending timers from the workflow. The worker takes due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the table and each timer fires
once) and applies a ``fire_timers`` command to their instance.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from .persistence.models import Timer

log = logging.getLogger(__name__)


_TABLE = Timer.__table__
# Statements built once: they run on every command.
_OF_INSTANCE = select(_TABLE.c.task_ref, _TABLE.c.due_at).where(_TABLE.c.instance_id == bindparam("instance_id"))
_DELETE = delete(_TABLE).where(_TABLE.c.instance_id == bindparam("instance_id"))
_INSERT = insert(_TABLE)


def refresh(
    session: Session,
    instance_id: int,
    pending: list[tuple[str, datetime]],
    previous: list[tuple[str, datetime]] | None,
) -> list[tuple[str, datetime]]:
    """Make the instance's timer rows match ``pending`` (``previous``: the rows, if known).

    Plain Core statements on the session's connection: the ORM's unit of work has nothing to add
    for rows nobody loads as objects, and it costs on every command.
    """
    connection = session.connection()
    if previous is None:
        previous = [tuple(row) for row in connection.execute(_OF_INSTANCE, {"instance_id": instance_id})]
    if set(previous) != set(pending):
        connection.execute(_DELETE, {"instance_id": instance_id})
        if pending:
            connection.execute(_INSERT, [{"instance_id": instance_id, "task_ref": ref, "due_at": due}
                                         for ref, due in pending])
    return pending


def next_due_instance(session: Session, now: datetime, exclude: set[int] = frozenset()) -> int | None:
    """The instance whose timer is the most overdue (a plain read: candidates, not claims)."""
    query = select(Timer.instance_id).where(Timer.due_at <= now).order_by(Timer.due_at, Timer.id).limit(1)
    if exclude:
        query = query.where(Timer.instance_id.not_in(sorted(exclude)))
    return session.scalar(query)


def lock_due(session: Session, instance_id: int, now: datetime, skip_locked: bool) -> bool:
    """Lock the instance's due timer rows for this transaction; False if none (or another worker has them)."""
    query = select(Timer.id).where(Timer.instance_id == instance_id, Timer.due_at <= now)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return bool(session.scalars(query).all())


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
