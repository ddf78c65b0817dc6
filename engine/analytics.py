"""Process analytics for auditors and process owners: outcomes, step durations, waiting times.

Everything is read with a few SQL queries over the instance table and the ``step_span``
projection (:mod:`engine.step_spans`, maintained by every command), never by replaying
journals, so 10,000 dossiers are summed up in well under a second (``benchmarks/analytics_bench.py``).
Filters: campaign, EPCI and process version (the deployment a dossier is pinned to).

Definitions (all times in seconds):

* a step's **duration**: from its opening to a person completing it (steps closed otherwise, by
  a deadline, a withdrawal or a message, are counted apart and not in the durations);
* the **waiting time before a step**: from the dossier's previous step closing (or its start)
  to a person taking this step up (its first claim or delegation, else its completion), that is
  the time spent in timers and events before it opened plus its time in the inbox before anyone
  worked on it; openings nobody took up yet, or closed by a deadline or a withdrawal before
  anyone did, are not in the sample;
* the **lifecycle**: from a closed dossier's start to its last entry (``instance.created_at`` to
  ``instance.updated_at``, the instant of the command that closed it).

Percentiles interpolate linearly between the two nearest ranks (numpy's default, and
``statistics.quantiles(method="inclusive")``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, type_coerce
from sqlalchemy.types import NullType

from . import step_spans
from .audit import RUNNING
from .errors import EngineError
from .persistence.models import Deployment, Instance, StepSpan


@dataclass(frozen=True)
class AnalyticsFilter:
    """Which dossiers are counted; an empty field does not filter."""

    campaign: str | None = None
    epci: str | None = None
    version: int | None = None  # the process version (deployment) the dossiers are pinned to


@dataclass(frozen=True)
class Stats:
    """A sample of durations (seconds): its size, median and 90th percentile (None when empty)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        values = sorted(values)
        return cls(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass(frozen=True)
class StepStats:
    bpmn_id: str
    name: str
    opened: int  # times the step opened
    completed: int  # ... and a person completed it
    closed_otherwise: int  # ... and a deadline, a withdrawal or a message closed it
    open_now: int
    duration: Stats  # opening → completion, completed openings only
    waiting: Stats  # before each opening was taken up


@dataclass(frozen=True)
class ProcessAnalytics:
    dossiers: int
    outcomes: dict[str, int]  # outcome (or RUNNING) → dossiers, most frequent first
    lifecycle: Stats  # closed dossiers, start to close
    steps: list[StepStats]  # in the order the dossiers meet them (mean opening entry)


def percentile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of sorted values, linearly interpolated; None for no values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _filtered(query, flt: AnalyticsFilter):
    if flt.campaign:
        query = query.where(Instance.campaign_code == flt.campaign)
    if flt.epci:
        query = query.where(Instance.epci == flt.epci)
    if flt.version is not None:
        query = query.where(Instance.deployment_id.in_(select(Deployment.id).where(Deployment.version == flt.version)))
    return query


def _seconds_between(dialect: str, start, end):
    """``end - start`` in seconds, computed by the database (no datetime objects for 10,000 rows)."""
    if dialect == "sqlite":  # datetimes stored as ISO text, UTC
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


class Analytics:
    """Read-only analytics over a :class:`~engine.service.WorkflowEngine`'s database."""

    def __init__(self, engine):
        self.engine = engine
        self.db = engine.db

    def compute(self, flt: AnalyticsFilter) -> ProcessAnalytics:
        filtered = flt != AnalyticsFilter()
        with self.db.sessions() as session:
            # Core rows on the session's connection: no ORM row machinery for 100,000 spans.
            connection = session.connection()
            outcomes_rows = connection.execute(_filtered(
                select(Instance.status, Instance.outcome, func.count()).group_by(Instance.status, Instance.outcome),
                flt)).all()
            lifecycle = connection.execute(_filtered(
                select(_seconds_between(connection.dialect.name, Instance.created_at, Instance.updated_at))
                .where(Instance.status == "completed"), flt)).scalars().all()
            # As the driver returns them (no per-value result processing): text, numbers, 0/1 or booleans.
            spans = select(*(type_coerce(column, NullType()) for column in (
                StepSpan.bpmn_id, StepSpan.opened_seq, StepSpan.waiting_s, StepSpan.duration_s, StepSpan.completed,
                StepSpan.closed_seq)))
            if filtered:
                spans = spans.where(StepSpan.instance_id.in_(_filtered(select(Instance.id), flt)))
            spans = connection.execute(spans).all()
            deployments = list(connection.execute(
                _filtered(select(Instance.deployment_id).distinct(), flt)).scalars())
            names = self._names(session, deployments)
        outcomes: dict[str, int] = defaultdict(int)
        for status, outcome, count in outcomes_rows:
            outcomes[RUNNING if status != "completed" else (outcome or "")] += count
        lifecycle = Stats.of([round(float(seconds), 3) for seconds in lifecycle])
        return ProcessAnalytics(
            dossiers=sum(outcomes.values()),
            outcomes=dict(sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))),
            lifecycle=lifecycle,
            steps=_steps(spans, names),
        )

    def _names(self, session, deployment_ids: list[int]) -> dict[str, str]:
        """Step names by BPMN id, from the versions counted (the newest version's name wins)."""
        names: dict[str, str] = {}
        for deployment_id in sorted(deployment_ids):
            try:
                models = self.engine.deployments.models(session, deployment_id)
            except EngineError:
                continue  # a version whose models no longer load: its steps show their ids
            for bpmn_id, spec in models.all_user_tasks.items():
                names[bpmn_id] = spec.bpmn_name or bpmn_id
        return names

    def backfill(self, instance_ids: list[int] | None = None) -> int:
        """Rebuild the spans of dossiers journaled before the projection existed (default: every
        dossier without any) by replaying their journals; returns how many were rebuilt."""
        return step_spans.backfill(self.engine, instance_ids)

    def deployment_id(self, version: int | None) -> int | None:
        """The deployment of process version ``version``, or the newest one when None."""
        with self.db.sessions() as session:
            query = select(Deployment.id)
            query = query.where(Deployment.version == version) if version is not None else query.order_by(
                Deployment.version.desc()).limit(1)
            return session.scalar(query)

    def choices(self) -> dict[str, list]:
        """What the filters offer: campaigns, EPCI and versions that have dossiers."""
        with self.db.sessions() as session:
            campaigns = sorted(c for c in session.scalars(select(Instance.campaign_code).distinct()) if c)
            epcis = sorted(e for e in session.scalars(select(Instance.epci).distinct()) if e)
            versions = sorted(session.scalars(
                select(Deployment.version).where(Deployment.id.in_(select(Instance.deployment_id).distinct()))))
        return {"campaigns": campaigns, "epcis": epcis, "versions": versions}


def _steps(rows, names: dict[str, str]) -> list[StepStats]:
    grouped: dict[str, dict] = defaultdict(
        lambda: {"seq": 0, "opened": 0, "waiting": [], "duration": [], "other": 0, "open": 0})
    for bpmn_id, opened_seq, waited, duration, completed, closed_seq in rows:
        group = grouped[bpmn_id]
        group["seq"] += opened_seq
        group["opened"] += 1
        if waited is not None:
            group["waiting"].append(waited)
        if closed_seq is None:
            group["open"] += 1
        elif completed:
            group["duration"].append(duration)
        else:
            group["other"] += 1
    steps = [
        StepStats(
            bpmn_id=bpmn_id, name=names.get(bpmn_id, bpmn_id), opened=group["opened"],
            completed=len(group["duration"]), closed_otherwise=group["other"], open_now=group["open"],
            duration=Stats.of(group["duration"]), waiting=Stats.of(group["waiting"]),
        )
        for bpmn_id, group in grouped.items()
    ]
    steps.sort(key=lambda step: (grouped[step.bpmn_id]["seq"] / step.opened, step.bpmn_id))
    return steps
