"""The inbox projection: one ``open_task`` row per ready human task, and the inbox queries.

Rows are refreshed by every command on their instance (inside its transaction), so an inbox is
one indexed query, never a walk through workflow states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from .commands import Actor
from .persistence.models import Instance, OpenTask
from .persistence.raw import RawStatement
from .roles import JURY_REGIONAL, JURY_TERRITORIAL, PORTEUR, PRESIDENT_JURY, REGIONAL_ROLES
from .runtime import HumanTask

_TABLE = OpenTask.__table__
# Raw statements (:mod:`engine.persistence.raw`): they run on every command.
_INSERTED = ("instance_id", "task_ref", "bpmn_id", "name", "role", "epci", "campaign_code", "assignee", "claimed_by",
             "due_at", "created_at", "dossier_ref", "title")
_CURRENT = RawStatement(
    "SELECT task_ref, claimed_by, due_at, epci, title FROM open_task WHERE instance_id = :instance_id",
    {"instance_id": _TABLE.c.instance_id},
    [_TABLE.c.task_ref, _TABLE.c.claimed_by, _TABLE.c.due_at, _TABLE.c.epci, _TABLE.c.title],
)
_DELETE = RawStatement("DELETE FROM open_task WHERE instance_id = :instance_id AND task_ref = :task_ref",
                       {"instance_id": _TABLE.c.instance_id, "task_ref": _TABLE.c.task_ref})
_INSERT = RawStatement(
    f"INSERT INTO open_task ({', '.join(_INSERTED)}) VALUES ({', '.join(':' + name for name in _INSERTED)})",
    {name: _TABLE.c[name] for name in _INSERTED},
)
_UPDATE = RawStatement(
    "UPDATE open_task SET claimed_by = :claimed_by, due_at = :due_at, epci = :epci, title = :title "
    "WHERE instance_id = :instance_id AND task_ref = :task_ref",
    {name: _TABLE.c[name] for name in ("claimed_by", "due_at", "epci", "title", "instance_id", "task_ref")},
)


def current(connection: Connection, instance_id: int) -> dict[str, tuple]:
    """What the instance's ``open_task`` rows hold, in the shape :func:`refresh` returns."""
    rows = _CURRENT.all(connection, {"instance_id": instance_id})
    return {ref: tuple(values) for ref, *values in rows}


def refresh(
    connection: Connection,
    instance: Instance,
    ready: list[HumanTask],
    claims: dict[str, str],
    due_at: datetime | None,
    now: datetime,
    previous: dict[str, tuple] | None,
    service_days: dict[str, int] | None = None,
) -> dict[str, tuple]:
    """Make the instance's ``open_task`` rows match ``ready``; return what they now hold.

    ``previous`` is what the last refresh returned, when the caller still has it for the current
    version of the instance: the rows are then known and need not be read back. A task is due at
    the instance's next timer (``due_at``: a deadline the engine enforces) or else, for a step
    given a processing time in ``service_days`` (days, by BPMN id: the campaign's
    ``delais_traitement``), that many days after it opened.
    """
    if previous is None:
        previous = current(connection, instance.id)
    wanted = {
        human.ref: (claims.get(human.ref), _due(human, previous.get(human.ref), due_at, service_days, now),
                    instance.epci, instance.title)
        for human in ready
    }
    gone = [{"instance_id": instance.id, "task_ref": ref} for ref in previous if ref not in wanted]
    if gone:
        _DELETE.execute_many(connection, gone)
    new_rows = [
        dict(instance_id=instance.id, task_ref=human.ref, bpmn_id=human.bpmn_id, name=human.name, role=human.role,
             epci=instance.epci, campaign_code=instance.campaign_code, assignee=human.assignee,
             claimed_by=wanted[human.ref][0], due_at=wanted[human.ref][1], created_at=now, dossier_ref=instance.ref,
             title=instance.title)
        for human in ready
        if human.ref not in previous
    ]
    if new_rows:
        _INSERT.execute_many(connection, new_rows)
    changed = [
        {"instance_id": instance.id, "task_ref": ref, "claimed_by": values[0], "due_at": values[1],
         "epci": instance.epci, "title": instance.title}
        for ref, values in wanted.items()
        if ref in previous and previous[ref] != values
    ]
    if changed:
        _UPDATE.execute_many(connection, changed)
    return wanted


#: roles whose tasks are due when their jury sits: the session date the dossier's jury snapshot
#: gives (``jury_session`` in the task's data, set by the model's ``constituer_jury``)
JURY_ROLES = frozenset({JURY_TERRITORIAL, JURY_REGIONAL, PRESIDENT_JURY})
#: a session opens at this hour, Europe/Paris: the jury's tasks are due then
SESSION_HOUR = time(9)
_PARIS = ZoneInfo("Europe/Paris")


def session_due(human: HumanTask) -> datetime | None:
    """A jury task's due instant: its session's opening (None: not a jury task, or no session date)."""
    if human.role not in JURY_ROLES:
        return None
    day = getattr(human.task, "data", {}).get("jury_session")
    try:
        found = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        return None
    return datetime.combine(found, SESSION_HOUR, _PARIS).astimezone(UTC) if found else None


def _due(human: HumanTask, row: tuple | None, timer_due: datetime | None, service_days: dict[str, int] | None,
         now: datetime) -> datetime | None:
    """A task's due instant: the instance's next timer, else a jury task's session, else its
    step's processing time from its opening.

    An open row keeps the instant computed when it opened (its opening time is not read back).
    """
    if timer_due is not None:
        return timer_due
    session = session_due(human)
    if session is not None:
        return session
    days = (service_days or {}).get(human.bpmn_id)
    if not days:
        return None
    if row is not None and row[1] is not None:
        return row[1]
    return now + timedelta(days=days)


def opened(previous: dict[str, tuple] | None, ready: list[HumanTask]) -> list[HumanTask]:
    """Tasks of ``ready`` that were not open before (``previous`` as given to :func:`refresh`)."""
    return [human for human in ready if previous is None or human.ref not in previous]


@dataclass(frozen=True)
class InboxFilter:
    step: str | None = None  # bpmn id
    epci: str | None = None
    campaign: str | None = None
    due_before: datetime | None = None
    mine_only: bool = False
    page: int = 1
    per_page: int = 50


def _scopes(actor: Actor) -> list[object]:
    """Disjoint SQL conditions, one per (role) or (role, EPCI) the actor works in.

    Each one is an equality prefix of an inbox index (``ix_open_task_inbox_regional`` or
    ``ix_open_task_inbox_local``), so SQLite walks the index already in due order and stops at the
    page; an OR of them (or ``role IN (...)``) would read every matching row and sort them.
    """
    staff_roles = sorted(role for role in actor.roles if role != PORTEUR)
    scopes: list[object] = [OpenTask.role == role for role in staff_roles if role in REGIONAL_ROLES]
    if actor.epci:
        scopes += [
            and_(OpenTask.role == role, OpenTask.epci == epci)
            for role in staff_roles
            if role not in REGIONAL_ROLES
            for epci in sorted(actor.epci)
        ]
    return scopes


def _personal(actor: Actor) -> list[object]:
    return [
        or_(OpenTask.assignee.is_(None), OpenTask.assignee == actor.login),
        or_(OpenTask.claimed_by.is_(None), OpenTask.claimed_by == actor.login),
    ]


def _mine(actor: Actor):
    return or_(OpenTask.claimed_by == actor.login, OpenTask.assignee == actor.login)


def _filters(actor: Actor, flt: InboxFilter) -> list[object]:
    conditions = _personal(actor)
    if flt.mine_only:
        conditions.append(_mine(actor))
    if flt.step:
        conditions.append(OpenTask.bpmn_id == flt.step)
    if flt.epci:
        conditions.append(OpenTask.epci == flt.epci)
    if flt.campaign:
        conditions.append(OpenTask.campaign_code == flt.campaign)
    if flt.due_before:
        conditions.append(OpenTask.due_at <= flt.due_before)
    return conditions


def _count(session: Session, scopes: list[object], conditions: list[object]) -> int:
    """One count per scope, summed (the scopes are disjoint): each reads one index range only."""
    total = 0
    for scope in scopes:
        total += session.scalar(select(func.count()).select_from(OpenTask).where(scope, *conditions)) or 0
    return total


#: soonest due first, undated last, then creation order. ``due_at IS NULL`` is the leading
#: expression of the inbox indexes, so this order is read from the index rather than sorted.
def _order(due_at, task_id) -> tuple:
    return (due_at.is_(None), due_at, task_id)


def inbox(session: Session, actor: Actor, flt: InboxFilter) -> tuple[list[OpenTask], int]:
    """One page of the actor's open tasks (soonest due first) and the total count."""
    scopes = _scopes(actor)
    if not scopes:
        return [], 0
    conditions = _filters(actor, flt)
    total = _count(session, scopes, conditions)
    offset = (max(flt.page, 1) - 1) * flt.per_page
    if total <= offset:
        return [], total
    if len(scopes) == 1:
        page = session.scalars(
            select(OpenTask)
            .where(scopes[0], *conditions)
            .order_by(*_order(OpenTask.due_at, OpenTask.id))
            .limit(flt.per_page)
            .offset(offset)
        ).all()
        return list(page), total
    # Several scopes: a UNION ALL of index-ordered id lists, merged by SQLite (no sort of the whole
    # inbox), then the page's rows by primary key.
    arms = [
        select(OpenTask.id.label("id"), OpenTask.due_at.is_(None).label("undated"), OpenTask.due_at.label("due"))
        .where(scope, *conditions)
        for scope in scopes
    ]
    merged = union_all(*arms)
    ids = session.execute(
        merged.order_by(merged.selected_columns.undated, merged.selected_columns.due, merged.selected_columns.id)
        .limit(flt.per_page)
        .offset(offset)
    ).scalars().all()
    rows = {row.id: row for row in session.scalars(select(OpenTask).where(OpenTask.id.in_(ids)))}
    return [rows[task_id] for task_id in ids if task_id in rows], total


def counts(session: Session, actor: Actor) -> tuple[int, int]:
    """(tasks assigned to or claimed by the actor, all tasks open to the actor) in one pass per scope."""
    scopes = _scopes(actor)
    mine = _mine(actor)
    own, everything = 0, 0
    for scope in scopes:
        row = session.execute(
            select(func.count(), func.count().filter(mine)).select_from(OpenTask).where(scope, *_personal(actor))
        ).one()
        everything += row[0] or 0
        own += row[1] or 0
    return own, everything
