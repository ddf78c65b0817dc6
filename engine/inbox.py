"""The inbox projection: one ``open_task`` row per ready human task, and the inbox queries.

Rows are refreshed by every command on their instance (inside its transaction), so an inbox is
one indexed query, never a walk through workflow states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from .commands import Actor
from .persistence.models import Instance, OpenTask
from .roles import PORTEUR, REGIONAL_ROLES
from .runtime import HumanTask

# Bulk statements on rows this session has not loaded: skip the ORM's identity-map bookkeeping.
_NO_SYNC = {"synchronize_session": False}


def current(session: Session, instance_id: int) -> dict[str, tuple]:
    """What the instance's ``open_task`` rows hold, in the shape :func:`refresh` returns."""
    return {
        row.task_ref: (row.claimed_by, row.due_at, row.epci, row.title)
        for row in session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id))
    }


def refresh(
    session: Session,
    instance: Instance,
    ready: list[HumanTask],
    claims: dict[str, str],
    due_at: datetime | None,
    now: datetime,
    previous: dict[str, tuple] | None,
) -> dict[str, tuple]:
    """Make the instance's ``open_task`` rows match ``ready``; return what they now hold.

    ``previous`` is what the last refresh returned, when the caller still has it for the current
    version of the instance: the rows are then known and need not be read back.
    """
    if previous is None:
        previous = {
            row.task_ref: (row.claimed_by, row.due_at, row.epci, row.title)
            for row in session.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id))
        }
    wanted = {human.ref: (claims.get(human.ref), due_at, instance.epci, instance.title) for human in ready}
    gone = [ref for ref in previous if ref not in wanted]
    if gone:
        session.execute(
            delete(OpenTask).where(OpenTask.instance_id == instance.id, OpenTask.task_ref.in_(gone)),
            execution_options=_NO_SYNC,
        )
    new_rows = [
        dict(
            instance_id=instance.id,
            task_ref=human.ref,
            bpmn_id=human.bpmn_id,
            name=human.name,
            role=human.role,
            epci=instance.epci,
            campaign_code=instance.campaign_code,
            assignee=human.assignee,
            claimed_by=wanted[human.ref][0],
            due_at=due_at,
            created_at=now,
            dossier_ref=instance.ref,
            title=instance.title,
        )
        for human in ready
        if human.ref not in previous
    ]
    if new_rows:
        session.execute(insert(OpenTask), new_rows)
    for ref, values in wanted.items():
        if ref in previous and previous[ref] != values:
            session.execute(
                update(OpenTask)
                .where(OpenTask.instance_id == instance.id, OpenTask.task_ref == ref)
                .values(claimed_by=values[0], due_at=due_at, epci=instance.epci, title=instance.title),
                execution_options=_NO_SYNC,
            )
    return wanted


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


def visible_to(actor: Actor) -> object:
    """SQL condition: open tasks this actor may work on (role, assignee, EPCI scope)."""
    staff_roles = [role for role in actor.roles if role != PORTEUR]
    regional = [role for role in staff_roles if role in REGIONAL_ROLES]
    local = [role for role in staff_roles if role not in REGIONAL_ROLES]
    by_role = []
    if regional:
        by_role.append(OpenTask.role.in_(regional))
    if local and actor.epci:
        by_role.append(and_(OpenTask.role.in_(local), OpenTask.epci.in_(sorted(actor.epci))))
    role_ok = or_(*by_role) if by_role else false()
    return and_(
        role_ok,
        or_(OpenTask.assignee.is_(None), OpenTask.assignee == actor.login),
        or_(OpenTask.claimed_by.is_(None), OpenTask.claimed_by == actor.login),
    )


def inbox_query(actor: Actor, flt: InboxFilter) -> Select:
    query = select(OpenTask).where(visible_to(actor))
    if flt.mine_only:
        query = query.where(or_(OpenTask.claimed_by == actor.login, OpenTask.assignee == actor.login))
    if flt.step:
        query = query.where(OpenTask.bpmn_id == flt.step)
    if flt.epci:
        query = query.where(OpenTask.epci == flt.epci)
    if flt.campaign:
        query = query.where(OpenTask.campaign_code == flt.campaign)
    if flt.due_before:
        query = query.where(OpenTask.due_at <= flt.due_before)
    return query


def inbox(session: Session, actor: Actor, flt: InboxFilter) -> tuple[list[OpenTask], int]:
    """One page of the actor's open tasks (soonest due first) and the total count."""
    query = inbox_query(actor, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.id)
        .limit(flt.per_page)
        .offset((max(flt.page, 1) - 1) * flt.per_page)
    ).all()
    return list(rows), total or 0
