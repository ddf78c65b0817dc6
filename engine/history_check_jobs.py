"""Test against history in the background, for the modeler's page: start, progress, cancel.

Testing every recorded dossier takes seconds to minutes (two replays per dossier), longer than a
request should. :func:`start_check` parses the models to test (a draft's files or a deployed
version's), stores a ``history_check`` row and runs :func:`run_check` in a daemon thread of the
process that received the request; the thread writes its progress (dossiers checked, same path,
divergent ones) to the row after each dossier and reads the row's cancel flag there.

Why a table and not memory: the web app runs as several gunicorn workers, each its own process.
The poll asking for progress and the Cancel button may reach any worker; only the database is
shared. If the process running a check dies, its row stops moving: a running check whose row was
not updated for :data:`STALE_AFTER` is shown as interrupted (``HistoryCheckView.status``).

Bounds: :data:`MAX_RUNNING` checks at once (each holds one core), :data:`MAX_KEPT` divergent
dossiers listed per check (all are counted).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from . import roles
from .bpmn.parser import parse_models
from .commands import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .history_check import count_dossiers, history_results
from .model_drafts import ModelDrafts
from .persistence.models import HistoryCheck
from .versions import version_files

log = logging.getLogger(__name__)

CHECKERS = frozenset({roles.PROCESS_OWNER, roles.ADMIN})
RUNNING, DONE, CANCELLED, FAILED, INTERRUPTED = "running", "done", "cancelled", "failed", "interrupted"
#: the most checks running at once (any worker)
MAX_RUNNING = 2
#: the most divergent dossiers a check lists
MAX_KEPT = 500
#: a running check whose progress has not moved for this long is shown as interrupted
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class HistoryCheckView:
    id: int
    source: str
    started_by: str
    started_at: datetime
    status: str
    total: int
    checked: int
    same: int
    diverged: list[dict]  # HistoryResult.as_dict() of the divergent dossiers, at most MAX_KEPT
    diverged_count: int
    cancel_requested: bool

    @property
    def finished(self) -> bool:
        return self.status != RUNNING


def _allowed(actor: Actor) -> None:
    if not actor.roles & CHECKERS:
        raise Forbidden("Only process owners test models against history", code="history_check.forbidden")


def _files(engine, draft: str | None, version: int | None) -> tuple[str, dict[str, bytes]]:
    if (draft is None) == (version is None):
        raise Invalid("Test a draft or a deployed version", code="history_check.source")
    if draft is not None:
        return f"draft:{draft}", ModelDrafts(engine.db, engine.clock).get(draft).files
    with engine.db.sessions() as session:
        return f"version:{version}", version_files(session, engine.deployments, version)


def create_check(engine, actor: Actor, *, draft: str | None = None, version: int | None = None):
    """Check the request and store the check's row; returns (its id, the parsed models).
    Refused (nothing stored) for another role, an unknown draft or version, models that do not
    parse, or :data:`MAX_RUNNING` checks already running."""
    _allowed(actor)
    source, files = _files(engine, draft, version)
    models = parse_models(files)  # Invalid, naming file and element, when the models do not parse
    now = engine.clock.now()
    with engine.db.sessions.begin() as session:
        running = session.scalars(select(HistoryCheck.updated_at).where(HistoryCheck.status == RUNNING)).all()
        if sum(1 for updated in running if now - updated < STALE_AFTER) >= MAX_RUNNING:
            raise Conflict(f"{MAX_RUNNING} tests against history are already running",
                           code="history_check.busy", params={"max": MAX_RUNNING})
        row = HistoryCheck(source=source, started_by=actor.login, started_at=now, updated_at=now, status=RUNNING,
                           total=count_dossiers(session), checked=0, same=0, cancel_requested=False, diverged=[])
        session.add(row)
        session.flush()
        return row.id, models


def run_check(engine, check_id: int, models) -> str:
    """Test every dossier, writing progress after each; stop when cancelled. Returns the status."""
    checked = same = 0
    diverged: list[dict] = []
    count = 0
    try:
        for result in history_results(engine, models):
            checked += 1
            if result.same_path:
                same += 1
            else:
                count += 1
                if len(diverged) < MAX_KEPT:
                    diverged.append(result.as_dict())
            with engine.db.sessions.begin() as session:
                row = session.get(HistoryCheck, check_id)
                row.checked, row.same, row.diverged = checked, same, list(diverged)
                row.total = max(row.total, checked)
                row.updated_at = engine.clock.now()
                if row.cancel_requested:
                    row.status = CANCELLED
                    return CANCELLED
        status = DONE
        error = None
    except Exception as err:  # recorded on the row and logged: the page says it failed
        log.exception("history check %s failed", check_id)
        status, error = FAILED, f"{type(err).__name__}: {err}"[:2000]
    with engine.db.sessions.begin() as session:
        row = session.get(HistoryCheck, check_id)
        row.status, row.error, row.updated_at = status, error, engine.clock.now()
        row.total = checked if status == DONE else row.total
    return status


def start_check(engine, actor: Actor, *, draft: str | None = None, version: int | None = None) -> int:
    """:func:`create_check`, then :func:`run_check` in a daemon thread; returns the check's id."""
    check_id, models = create_check(engine, actor, draft=draft, version=version)
    threading.Thread(target=run_check, args=(engine, check_id, models), name=f"history-check-{check_id}",
                     daemon=True).start()
    return check_id


def _row(session, check_id: int) -> HistoryCheck:
    row = session.get(HistoryCheck, check_id)
    if row is None:
        raise NotFound(f"No test against history {check_id}", code="history_check.not_found",
                       params={"id": check_id})
    return row


def check_status(engine, actor: Actor, check_id: int) -> HistoryCheckView:
    _allowed(actor)
    with engine.db.sessions() as session:
        row = _row(session, check_id)
        status = row.status
        if status == RUNNING and engine.clock.now() - row.updated_at >= STALE_AFTER:
            status = INTERRUPTED
        diverged = list(row.diverged or [])
        return HistoryCheckView(row.id, row.source, row.started_by, row.started_at, status, row.total, row.checked,
                                row.same, diverged, row.checked - row.same, row.cancel_requested)


def cancel_check(engine, actor: Actor, check_id: int) -> None:
    """Ask a running check to stop: it stops after the dossier it is testing."""
    _allowed(actor)
    with engine.db.sessions.begin() as session:
        _row(session, check_id)
        session.execute(update(HistoryCheck).where(HistoryCheck.id == check_id, HistoryCheck.status == RUNNING)
                        .values(cancel_requested=True))

