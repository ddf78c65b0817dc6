"""The deployed versions as process owners see them: the list, and the diff between two of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from .errors import NotFound
from .model_diff import ModelDiff, diff_models
from .persistence.models import Deployment, Instance

#: the most versions one page lists
MAX_LISTED = 200


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: int
    content_hash: str
    author: str
    comment: str
    created_at: datetime
    dossiers: int  # every dossier pinned to it
    running: int  # those still running


def list_versions(session, limit: int = MAX_LISTED) -> list[VersionInfo]:
    """The versions, newest first, with how many dossiers are pinned to each (one query)."""
    counts = (select(Instance.deployment_id, func.count().label("dossiers"),
                     func.sum(case((Instance.status == "running", 1), else_=0)).label("running"))
              .group_by(Instance.deployment_id).subquery())
    rows = session.execute(
        select(Deployment, counts.c.dossiers, counts.c.running)
        .outerjoin(counts, counts.c.deployment_id == Deployment.id)
        .order_by(Deployment.version.desc()).limit(min(max(limit, 1), MAX_LISTED))).all()
    return [VersionInfo(row.id, row.version, row.content_hash, row.author, row.comment or "", row.created_at,
                        int(dossiers or 0), int(running or 0)) for row, dossiers, running in rows]


def deployment_of(session, version: int) -> Deployment:
    row = session.scalars(select(Deployment).where(Deployment.version == version)).first()
    if row is None:
        raise NotFound(f"Version {version} does not exist", code="version.not_found", params={"version": version})
    return row


def version_files(session, deployments, version: int) -> dict[str, bytes]:
    """The files of a deployed version (path → content)."""
    return deployments.files(session, deployment_of(session, version).id)


def diff_versions(session, deployments, old: int, new: int) -> ModelDiff:
    """What changed from version ``old`` to version ``new``."""
    return diff_models(version_files(session, deployments, old), version_files(session, deployments, new))
