"""The auditor's reads: find dossiers, and check their records with ``verify``'s own code.

Nothing here changes state, and nothing here filters what is read: the pages that call it are
for the overseeing roles (auditors, process owners, administrators), who read every dossier and
every field (:data:`engine.disclosure.OVERSEERS`). A dossier's history, step by step, is
:mod:`engine.history`; its state after any entry, for the replay on the diagram, :mod:`engine.replay_steps`.

Integrity runs :func:`engine.replay.verify_instance`, the very function ``dsdt verify`` runs, one
dossier at a time, so a page can check every dossier in batches (:meth:`Audit.verify_batch`) and
show its progress without holding one request for the whole database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from .errors import Invalid, NotFound
from .history import History, existing_instance, read_history
from .persistence.models import Deployment, Instance, OpenTask
from .replay import verify_instance
from .replay_steps import ReplayView, replay_to
from .verification import verify_chunk

#: an ``outcome`` filter value for the dossiers still running (they have no outcome yet)
RUNNING = "en_cours"
#: the dates a date range may bound
DATE_FIELDS = ("created", "updated")
#: the most rows one export writes: beyond it the auditor narrows the search (never a silently cut file)
EXPORT_LIMIT = 10_000
#: outcomes the search form offers at most (read with a bounded query on every search page)
MAX_OUTCOMES = 100
#: the most dossiers one integrity batch replays (a page request stays within seconds)
MAX_BATCH = 50


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor looks for. Empty fields do not filter; text fields match exactly, except
    ``ref``, which matches any part of the reference (case ignored)."""

    ref: str | None = None
    porteur: str | None = None
    epci: str | None = None
    campaign: str | None = None
    step: str | None = None  # the BPMN id of a step open now
    outcome: str | None = None  # an outcome, or RUNNING
    version: int | None = None  # the process version (deployment) the dossier is pinned to
    date_field: str = "created"
    since: datetime | None = None  # inclusive, timezone-aware
    before: datetime | None = None  # exclusive, timezone-aware

    def __post_init__(self):
        if self.date_field not in DATE_FIELDS:
            raise Invalid(f"date_field must be one of {', '.join(DATE_FIELDS)}, not {self.date_field!r}",
                          code="audit.date_field", params={"value": self.date_field},
                          errors={"date_field": [f"one of {', '.join(DATE_FIELDS)}"]})


@dataclass(frozen=True)
class AuditRow:
    """One dossier as the search lists it."""

    id: int
    ref: str
    title: str | None
    campaign_code: str
    epci: str | None
    porteur: str
    status: str
    outcome: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    open_steps: list[str] = field(default_factory=list)  # names of the steps open now


@dataclass(frozen=True)
class IntegrityResult:
    """One dossier checked: the chain, the replay on its pinned version, the stored state."""

    instance_id: int
    ref: str
    chain_ok: bool
    replay_ok: bool
    problem: str | None  # verify's own words (English, for the record); None when all holds
    entry: int | None  # the first journal entry in cause, when the problem names one

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class IntegrityBatch:
    results: list[IntegrityResult]
    last_id: int | None  # the last dossier checked: the next batch starts after it
    done: int  # dossiers checked so far, this batch included
    total: int  # dossiers in the database


class Audit:
    """Read-only audit queries over a :class:`~engine.service.WorkflowEngine`'s database."""

    def __init__(self, engine):
        self.engine = engine
        self.db = engine.db

    # -- search ------------------------------------------------------------------------------------

    def _query(self, flt: AuditFilter):
        query = select(Instance, Deployment.version).join(Deployment, Deployment.id == Instance.deployment_id)
        if flt.ref:
            query = query.where(func.lower(Instance.ref).contains(flt.ref.lower(), autoescape=True))
        for column, value in ((Instance.porteur, flt.porteur), (Instance.epci, flt.epci),
                              (Instance.campaign_code, flt.campaign)):
            if value:
                query = query.where(column == value)
        if flt.step:
            query = query.where(
                select(OpenTask.id).where(OpenTask.instance_id == Instance.id, OpenTask.bpmn_id == flt.step).exists()
            )
        if flt.outcome == RUNNING:
            query = query.where(Instance.status == "running")
        elif flt.outcome:
            query = query.where(Instance.outcome == flt.outcome)
        if flt.version is not None:
            query = query.where(Deployment.version == flt.version)
        column = Instance.created_at if flt.date_field == "created" else Instance.updated_at
        if flt.since is not None:
            query = query.where(column >= flt.since)
        if flt.before is not None:
            query = query.where(column < flt.before)
        return query

    def search(self, flt: AuditFilter, page: int = 1, per_page: int = 50) -> tuple[list[AuditRow], int]:
        """One page of the dossiers matching ``flt`` (oldest reference first) and their count."""
        page = max(page, 1)
        query = self._query(flt)
        with self.db.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            if (page - 1) * per_page >= total:
                return [], total  # past the last page: no offset the database cannot hold
            rows = session.execute(query.order_by(Instance.id).limit(per_page).offset((page - 1) * per_page)).all()
            return self._rows(session, rows), total

    def export(self, flt: AuditFilter, limit: int = EXPORT_LIMIT) -> list[AuditRow]:
        """Every dossier matching ``flt``, for a file; :class:`Invalid` beyond ``limit`` rows."""
        rows, total = self.search(flt, 1, limit)
        if total > limit:
            raise Invalid(f"{total} dossiers match; narrow the search to {limit} at most to export them",
                          code="audit.export_too_large", params={"total": total, "limit": limit})
        return rows

    def _rows(self, session, rows) -> list[AuditRow]:
        ids = [instance.id for instance, _ in rows]
        steps: dict[int, list[str]] = {i: [] for i in ids}
        for instance_id, name in session.execute(
            select(OpenTask.instance_id, OpenTask.name).where(OpenTask.instance_id.in_(ids)).order_by(OpenTask.id)
        ):
            steps[instance_id].append(name)
        return [
            AuditRow(i.id, i.ref, i.title, i.campaign_code, i.epci, i.porteur, i.status, i.outcome, version,
                     i.created_at, i.updated_at, steps[i.id])
            for i, version in rows
        ]

    def choices(self) -> dict[str, list]:
        """The values the search form offers: the process versions and the outcomes recorded."""
        with self.db.sessions() as session:
            versions = list(session.scalars(select(Deployment.version).order_by(Deployment.version.desc())))
            # Bounded: the search offers at most MAX_OUTCOMES outcomes, whatever the models record.
            outcomes = list(session.scalars(
                select(Instance.outcome).where(Instance.outcome.is_not(None), Instance.outcome != "")
                .distinct().order_by(Instance.outcome).limit(MAX_OUTCOMES)))
        return {"versions": versions, "outcomes": outcomes}

    def find(self, ref_or_id: str) -> int:
        """The id of the dossier whose reference (or id) is ``ref_or_id``."""
        text = ref_or_id.strip()
        with self.db.sessions() as session:
            found = session.scalar(select(Instance.id).where(Instance.ref == text))
            if found is None and text.isdigit() and len(text) < 19:
                found = session.scalar(select(Instance.id).where(Instance.id == int(text)))
        if found is None:
            raise NotFound(f"No dossier {text!r}", code="dossier.not_found", params={"instance_id": text})
        return found

    def refs(self, instance_ids) -> list[tuple[int, str]]:
        """(id, reference) of the dossiers among ``instance_ids`` that exist, in the order given."""
        ids = list(instance_ids)
        with self.db.sessions() as session:
            found = dict(session.execute(select(Instance.id, Instance.ref).where(Instance.id.in_(ids))).all())
        return [(i, found[i]) for i in ids if i in found]

    # -- history -----------------------------------------------------------------------------------

    def history(self, instance_id: int) -> History:
        """Every journal entry of the dossier with what it changed (:mod:`engine.history`)."""
        return read_history(self.engine, instance_id)

    def replay(self, instance_id: int, entry: int) -> ReplayView:
        """The dossier as it stood after journal entry ``entry``, replayed (:mod:`engine.replay_steps`)."""
        return replay_to(self.engine, instance_id, entry)

    # -- integrity ---------------------------------------------------------------------------------

    def verify_one(self, instance_id: int) -> IntegrityResult:
        """Replay one dossier on its pinned version and check its chain (``dsdt verify``'s code)."""
        with self.db.sessions() as session:
            return self._verify(session, existing_instance(session, instance_id))

    def verify_batch(self, after_id: int = 0, size: int = 10) -> IntegrityBatch:
        """The next ``size`` dossiers after ``after_id`` (by id) checked, and how far the run is."""
        size = min(max(size, 1), MAX_BATCH)
        with self.db.sessions() as session:
            total = session.scalar(select(func.count(Instance.id))) or 0
            done = session.scalar(select(func.count(Instance.id)).where(Instance.id <= after_id)) or 0
            ids = list(session.scalars(
                select(Instance.id).where(Instance.id > after_id).order_by(Instance.id).limit(size)))
            engine = self.engine
            # dsdt verify's chunk: the batch's rows and journals read at once, then each replayed
            reports = verify_chunk(session, ids, engine.deployments, engine.script_engine,
                                   engine.serializer) if ids else []
            results = [_integrity(report) for report in reports]
        return IntegrityBatch(results, ids[-1] if ids else None, done + len(results), total)

    def _verify(self, session, instance: Instance) -> IntegrityResult:
        engine = self.engine
        return _integrity(verify_instance(session, instance, engine.deployments, engine.script_engine,
                                          engine.serializer))


def _integrity(report) -> IntegrityResult:
    return IntegrityResult(report.instance_id, report.ref, report.chain_ok, report.replay_ok, report.problem,
                           report.entry)
