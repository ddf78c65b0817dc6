"""The timer table and the worker that fires due timers.

Every command rewrites its instance's pending timers from the workflow. The worker applies a
``fire_timers`` command to an instance with due rows. On PostgreSQL it locks the instance row first
(``FOR UPDATE SKIP LOCKED``: a row another worker or a person's command holds is skipped, that one
fires the timers), then the due timer rows: the order every command takes its locks in, so a
worker and a command never deadlock, and each timer fires once.

Workers share the work (:func:`run_pass`): on deadline day every timer of a campaign falls due at
the same instant, and workers that all went for the one most overdue dossier spun on each other's
locks. A worker claims a batch of due dossiers at once: their instance rows ``FOR UPDATE SKIP
LOCKED LIMIT n`` (rows another worker is claiming or firing, or a person's command holds, are
skipped), and for each a session-level advisory lock that outlives the claim's short transaction
and marks the dossier as this worker's until it has fired it; other workers' claims leave out the
dossiers so marked. Each dossier then fires in its own transaction, which locks its instance row
again (the one lock order). The advisory locks are only ever tried, never waited for, so they add
no deadlock; they go with the claiming connection if the worker dies.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, or_, select, text

from .persistence.models import Incident, Instance, Timer
from .persistence.raw import RawStatement

log = logging.getLogger(__name__)


_TABLE = Timer.__table__
# Raw statements (:mod:`engine.persistence.raw`): they run on every command and every worker pass.
_OF_INSTANCE = RawStatement("SELECT task_ref, due_at FROM timer WHERE instance_id = :instance_id",
                            {"instance_id": _TABLE.c.instance_id}, [_TABLE.c.task_ref, _TABLE.c.due_at])
_DELETE = RawStatement("DELETE FROM timer WHERE instance_id = :instance_id", {"instance_id": _TABLE.c.instance_id})
_INSERT = RawStatement("INSERT INTO timer (instance_id, task_ref, due_at) VALUES (:instance_id, :task_ref, :due_at)",
                       {name: _TABLE.c[name] for name in ("instance_id", "task_ref", "due_at")})
def _waiting(now: datetime):
    """A dossier whose last timer pass failed waits for its back-off, or for a person, when set
    aside (see engine.incidents); the NOT EXISTS reads the small index of open incidents."""
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
        _DELETE.defer(connection, {"instance_id": instance_id})
        if pending:
            _INSERT.execute_many(connection, [{"instance_id": instance_id, "task_ref": ref, "due_at": due}
                                              for ref, due in pending])
    return pending


#: dossiers a worker claims at once
BATCH = 20
# Advisory locks belong to the database, not the schema: the claims' key space is derived from
# the schema's name, so workers of two schemas never take each other's claims.
_SPACE = text("SELECT hashtext('dsdt-timers:' || current_schema()) & 2147483647")
# NOT IN an uncorrelated subquery: PostgreSQL reads pg_locks once (a hashed subplan), not per row.
_NOT_CLAIMED = text(
    "instance.id NOT IN (SELECT CAST(pg_locks.objid AS bigint) FROM pg_locks WHERE pg_locks.locktype = 'advisory'"
    " AND pg_locks.classid = :space AND pg_locks.objsubid = 2)")
# One statement for the batch (no LIMIT: every candidate is tried exactly once).
_TRY_CLAIMS = text("SELECT id FROM unnest(CAST(:ids AS integer[])) AS id"
                   " WHERE pg_try_advisory_lock(CAST(:space AS integer), id)")


def claim_space(connection: Connection) -> int:
    """The advisory lock space of this schema's timer claims (PostgreSQL)."""
    return connection.execute(_SPACE).scalar_one()


def due_batch(connection: Connection, now: datetime, limit: int, exclude: set[int] = frozenset(),
              space: int | None = None) -> list[int]:
    """Up to ``limit`` dossiers with due timers, most overdue first, leaving out ``exclude`` and
    those waiting for their back-off. On PostgreSQL, locks their instance rows (``FOR UPDATE SKIP
    LOCKED``) and leaves out those another worker has claimed in ``space`` (see the module's
    docstring; default: this schema's)."""
    query = select(Instance.id).where(
        Instance.id.in_(select(Timer.instance_id).where(Timer.due_at <= now, ~_waiting(now))))
    if exclude:
        query = query.where(Instance.id.not_in(sorted(exclude)))
    if connection.dialect.name == "postgresql":
        space = claim_space(connection) if space is None else space
        query = query.where(_NOT_CLAIMED.bindparams(space=space)).with_for_update(skip_locked=True, of=Instance)
    return list(connection.scalars(query.order_by(Instance.next_timer_at, Instance.id).limit(limit)))


def run_pass(db, now: Callable[[], datetime], fire_one: Callable[[int], bool | None], limit: int,
             batch: int = BATCH, counts: Counter | None = None) -> int:
    """Fire due timers batch after batch, at most ``limit`` dossiers; returns how many moved.

    ``fire_one(instance_id)`` fires one dossier in its own transaction: True if it moved, False
    if it had nothing due any more or another held it, None if it failed (an incident is
    recorded: the pass goes on with the others, and leaves that one out). ``counts`` (optional)
    adds up ``claimed``, ``fired``, ``missed`` (claimed, then found taken or no longer due) and
    ``failed``.
    """
    counts = Counter() if counts is None else counts
    fired, tried, skipped = 0, 0, set()
    while tried < limit:
        if db.is_sqlite:  # one process (SQLite allows one writer): no claims to share
            with db.engine.connect() as connection:
                ids = due_batch(connection, now(), min(batch, limit - tried), skipped)
            counts["claimed"] += len(ids)
            moved, attempted = _fire_all(ids, fire_one, skipped, counts)
        else:
            with db.engine.connect() as claimer:
                space = claim_space(claimer)
                claimer.commit()
                ids = _claim(claimer, space, now(), min(batch, limit - tried), skipped, counts)
                try:
                    # Claims held until the batch is done: a dossier fired has nothing due left,
                    # and one that failed waits for its back-off, so no other worker wants them.
                    moved, attempted = _fire_all(ids, fire_one, skipped, counts)
                finally:
                    claimer.execute(text("SELECT pg_advisory_unlock_all()"))
                    claimer.commit()
        if not ids:
            break
        fired += moved
        tried += attempted
    return fired


def _claim(claimer: Connection, space: int, now: datetime, limit: int, exclude: set[int],
           counts: Counter) -> list[int]:
    """Claim up to ``limit`` due dossiers for this worker (advisory locks held by ``claimer``)."""
    with claimer.begin():
        candidates = due_batch(claimer, now, limit, exclude, space)
        won = set(claimer.scalars(_TRY_CLAIMS, {"space": space, "ids": candidates})) if candidates else set()
        ids = [iid for iid in candidates if iid in won]
    counts["missed"] += len(candidates) - len(ids)
    counts["claimed"] += len(ids)
    return ids


def _fire_all(ids, fire_one, skipped: set[int], counts: Counter) -> tuple[int, int]:
    moved = 0
    for instance_id in ids:
        outcome = fire_one(instance_id)
        if outcome is None:
            skipped.add(instance_id)
            counts["failed"] += 1
        elif outcome:
            moved += 1
            counts["fired"] += 1
        else:
            counts["missed"] += 1
    return moved, len(ids)


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
