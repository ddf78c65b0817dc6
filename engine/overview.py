"""What the home pages of the overseeing roles count: versions of the models, incidents, accounts.

Process owners land on the deployed versions (with the dossiers each one runs) and the open
incidents; administrators on accounts, throttled logins, the outbox and incidents. Each figure
is one aggregate query, whatever the number of dossiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from .persistence.models import Deployment, Incident, Instance, User


@dataclass(frozen=True)
class VersionRow:
    """One deployed version of the models and the dossiers running on it."""

    version: int
    author: str
    comment: str
    created_at: datetime
    current: bool
    dossiers: int
    running: int


@dataclass(frozen=True)
class IncidentCounts:
    open: int  # retried automatically
    set_aside: int  # waiting for someone

    @property
    def unresolved(self) -> int:
        return self.open + self.set_aside


class Overview:
    """Counts for the home pages (read-only)."""

    def __init__(self, db):
        self.db = db

    def versions(self, limit: int = 20) -> list[VersionRow]:
        """The latest deployed versions, newest (the current one) first, with their dossiers."""
        per_version = (select(Instance.deployment_id, func.count().label("dossiers"),
                              func.count(case((Instance.status == "running", 1))).label("running"))
                       .group_by(Instance.deployment_id).subquery())
        query = (select(Deployment.version, Deployment.author, Deployment.comment, Deployment.created_at,
                        func.coalesce(per_version.c.dossiers, 0), func.coalesce(per_version.c.running, 0))
                 .outerjoin(per_version, per_version.c.deployment_id == Deployment.id)
                 .order_by(Deployment.version.desc()).limit(limit))
        with self.db.sessions() as session:
            rows = session.execute(query).all()
        return [VersionRow(version, author, comment or "", created_at, index == 0, dossiers, running)
                for index, (version, author, comment, created_at, dossiers, running) in enumerate(rows)]

    def incidents(self) -> IncidentCounts:
        """Unresolved incidents: those still retried, and those set aside."""
        query = select(func.count(case((Incident.set_aside_at.is_(None), 1))),
                       func.count(case((Incident.set_aside_at.is_not(None), 1)))
                       ).where(Incident.resolved_at.is_(None))
        with self.db.sessions() as session:
            retried, set_aside = session.execute(query).one()
        return IncidentCounts(retried, set_aside)

    def accounts(self) -> tuple[int, int]:
        """(active accounts, all accounts)."""
        with self.db.sessions() as session:
            return tuple(session.execute(select(func.count(case((User.active.is_(True), 1))), func.count())
                                         .select_from(User)).one())
