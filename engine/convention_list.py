"""Reading conventions: the list per EPCI and one convention's state, for the pages and the API.

Who reads a convention is decided here, once: regional staff (officers, the service conventions,
auditors, administrators, process owners) read every EPCI's; a technician of an EPCI reads that
EPCI's only; nobody else. A convention's state is its data as the model writes it (``statut``,
the versions negotiated, the signed priorities, the history of signed versions and the avenants
not concluded) beside the instance's status, outcome and reason, as a dossier's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from . import campaigns
from .commands import Actor
from .conventions import FAMILY
from .errors import Forbidden, NotFound
from .persistence.models import Instance, OpenTask
from .roles import ADMIN, AUDITOR, INSTRUCTEUR, PROCESS_OWNER, SERVICE_CONVENTIONS, TECHNICIEN_EPCI

#: roles that read every EPCI's conventions
READ_ALL = frozenset({INSTRUCTEUR, SERVICE_CONVENTIONS, AUDITOR, ADMIN, PROCESS_OWNER})
#: at most this many conventions are listed (newest first)
MAX_LISTED = 200


@dataclass(frozen=True)
class ConventionSummary:
    """One convention as its readers see it."""

    id: int
    ref: str
    campaign_code: str
    epci: str | None
    status: str  #: the instance: ``running`` or ``completed``
    state: str  #: the model's ``statut``: en_preparation, en_negociation, signee, refusee…
    outcome: str | None
    reason: str | None
    version: int  #: signed version (0: never signed; 2 and more: amended by avenant)
    negotiation: int  #: versions proposed so far
    priorities: list[str]  #: the signed priorities (empty until signed)
    proposed: list[str]  #: the last version proposed
    open_steps: list[str] = field(default_factory=list)  #: names of the steps open now
    versions: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    failed_amendments: list[dict] = field(default_factory=list)
    updated_at: datetime | None = None


def reads_all(actor: Actor) -> bool:
    return bool(actor.roles & READ_ALL)


def readable_epci(actor: Actor) -> frozenset[str] | None:
    """The EPCI whose conventions ``actor`` reads: None for all of them; refused for others."""
    if reads_all(actor):
        return None
    if actor.has(TECHNICIEN_EPCI):
        return frozenset(actor.epci)
    raise Forbidden("Only regional staff or a technician of the EPCI read its conventions",
                    code="convention.read_forbidden")


def openable_epci(engine, actor: Actor, campaign_code: str) -> list[str]:
    """The EPCI of the campaign whose convention ``actor`` may open (the rule of
    :func:`engine.conventions.start_convention`)."""
    with engine.db.engine.connect() as connection:
        epcis = sorted(campaigns.get(connection, campaign_code).data.get("epci") or {})
    if actor.has(INSTRUCTEUR):
        return epcis
    if actor.has(TECHNICIEN_EPCI):
        return [epci for epci in epcis if epci in actor.epci]
    return []


def _summary(row: Instance, data: dict, steps: list[str]) -> ConventionSummary:
    versions = [v for v in data.get("versions") or [] if isinstance(v, dict)]
    return ConventionSummary(
        id=row.id, ref=row.ref, campaign_code=row.campaign_code, epci=row.epci, status=row.status,
        state=str(data.get("statut") or ""), outcome=row.outcome, reason=row.reason,
        version=int(data.get("version_convention") or 0), negotiation=int(data.get("version_negociation") or 0),
        priorities=list(data.get("priorites_signees") or []),
        proposed=list(versions[-1].get("priorites") or []) if versions else [],
        open_steps=steps, versions=versions, history=list(data.get("historique_convention") or []),
        failed_amendments=list(data.get("avenants_non_conclus") or []), updated_at=row.updated_at)


def _read(engine, rows: list[Instance], session) -> list[ConventionSummary]:
    ids = [row.id for row in rows]
    steps: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for task in session.scalars(select(OpenTask).where(OpenTask.instance_id.in_(ids)).order_by(OpenTask.id)):
            steps[task.instance_id].append(task.name or task.bpmn_id)
    return [_summary(row, engine.data(row.id), steps[row.id]) for row in rows]


def list_conventions(engine, actor: Actor, epci: str | None = None) -> list[ConventionSummary]:
    """The conventions ``actor`` reads (of ``epci`` if given), newest first, at most
    :data:`MAX_LISTED`."""
    scope = readable_epci(actor)
    query = select(Instance).where(Instance.family == FAMILY)
    if scope is not None:
        query = query.where(Instance.epci.in_(sorted(scope)))
    if epci:
        query = query.where(Instance.epci == epci)
    with engine.db.sessions() as session:
        rows = list(session.scalars(query.order_by(Instance.id.desc()).limit(MAX_LISTED)))
        return _read(engine, rows, session)


def get_convention(engine, actor: Actor, instance_id: int) -> ConventionSummary:
    """One convention; NotFound if there is none with that id or ``actor`` may not read it."""
    scope = readable_epci(actor)
    with engine.db.sessions() as session:
        row = session.get(Instance, instance_id)
        if row is None or row.family != FAMILY or (scope is not None and row.epci not in scope):
            raise NotFound(f"No convention {instance_id} you may read", code="convention.not_found",
                           params={"id": instance_id})
        return _read(engine, [row], session)[0]
