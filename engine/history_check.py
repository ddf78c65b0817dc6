"""Test against history: would each recorded dossier take the same path on other models?

A process owner about to deploy a draft (or to migrate dossiers to a deployed version) asks, for
every dossier journaled so far: replaying its recorded commands on the new models, is every
command still accepted, and does it open the same steps as it did? Each dossier's journal is
replayed twice in lockstep with :func:`engine.replay.replay_states` (the code ``verify`` runs):
on the versions it really ran on (its migrations followed), and on the new models (its
``migrate`` entries then move nothing). After each entry the open steps (BPMN ids) and whether
the process finished are compared; the first entry where they differ, or that the new models
refuse, is where the dossier diverges.

:func:`history_results` yields one :class:`HistoryResult` per dossier, one dossier in memory at
a time, so a caller shows progress and can stop between two dossiers (the page's background
job, :mod:`engine.history_check_jobs`); :func:`check_history` is ``dsdt deploy --check-history``'s
summary of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from . import journal
from .bpmn.parser import ParsedModels
from .errors import EngineError
from .persistence.models import Instance
from .replay import ReplayError, VerifyReport, dossier_models, replay_states

#: why a dossier diverges (``HistoryResult.kind``)
REFUSED = "refused"  # the new models refuse one of its recorded commands
OTHER_STEPS = "other_steps"  # an entry opens other steps (or finishes, or not) on the new models
UNREPLAYABLE = "unreplayable"  # its own record cannot be replayed (``verify`` reports why)
NO_FAMILY = "no_family"  # the new models do not run its process family
#: the most step ids a result names on each side
MAX_STEPS = 20


@dataclass(frozen=True)
class HistoryResult:
    """One dossier tested against new models: ``same_path``, else where and how it diverges."""

    instance_id: int
    ref: str
    same_path: bool
    kind: str | None = None
    entry: int | None = None  # the first journal entry that diverges
    command: str | None = None  # that entry's command
    recorded: tuple[str, ...] = ()  # the steps open after it as recorded (``OTHER_STEPS``)
    found: tuple[str, ...] = ()  # the steps open after it on the new models
    detail: str | None = None  # the engine's own words (English), for the record

    def as_dict(self) -> dict:
        return {"instance": self.instance_id, "ref": self.ref, "same_path": self.same_path, "kind": self.kind,
                "entry": self.entry, "command": self.command, "recorded": list(self.recorded),
                "found": list(self.found), "detail": self.detail}


def _path(state) -> tuple[tuple[str, ...], bool]:
    visible = state.visible()
    return tuple(sorted(human.bpmn_id for human in visible.ready))[:MAX_STEPS], visible.finished


def _describe(path: tuple[tuple[str, ...], bool]) -> tuple[str, ...]:
    steps, finished = path
    return (*steps, "(end)") if finished else steps


def compare_dossier(instance_id: int, ref: str, rows, known, models: ParsedModels, script_engine) -> HistoryResult:
    """One dossier's journal ``rows`` on the versions it ran on (``known``, a
    :class:`~engine.replay.DossierModels`) and on ``models``, entry by entry."""
    recorded = replay_states(rows, known.origin, script_engine, switch=known.switch, copy_payloads=True)
    candidate = replay_states(rows, models, script_engine, switch=lambda _deployment: models, copy_payloads=True)
    for row in rows:
        try:
            before = _path(next(recorded).state)
        except ReplayError as err:
            return HistoryResult(instance_id, ref, False, UNREPLAYABLE, err.seq, row.command, detail=err.message)
        try:
            after = _path(next(candidate).state)
        except ReplayError as err:
            return HistoryResult(instance_id, ref, False, REFUSED, err.seq, row.command, detail=err.message)
        if before != after:
            return HistoryResult(instance_id, ref, False, OTHER_STEPS, row.seq, row.command,
                                 _describe(before), _describe(after),
                                 f"entry {row.seq} ({row.command}) opens {list(_describe(after))} on the new "
                                 f"models where the record opened {list(_describe(before))}")
    return HistoryResult(instance_id, ref, True)


def count_dossiers(session) -> int:
    return session.scalar(select(func.count()).select_from(Instance))


def history_results(engine, models: ParsedModels) -> Iterator[HistoryResult]:
    """Each recorded dossier (by id) tested against ``models`` (see the module's docstring).
    ``engine``: a WorkflowEngine. A dossier deleted meanwhile is skipped."""
    with engine.db.sessions() as session:
        ids = list(session.scalars(select(Instance.id).order_by(Instance.id)))
    for instance_id in ids:
        with engine.db.sessions() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                continue
            ref, family = instance.ref, instance.family
            rows = journal.entries(session, instance_id)
            try:
                known = dossier_models(session, engine.deployments, rows, instance.deployment_id, family)
            except EngineError as err:
                yield HistoryResult(instance_id, ref, False, UNREPLAYABLE, detail=err.message)
                continue
            session.expunge_all()
        try:
            candidate = models.family(family)
        except EngineError as err:
            yield HistoryResult(instance_id, ref, False, NO_FAMILY, detail=err.message)
            continue
        yield compare_dossier(instance_id, ref, rows, known, candidate, engine.script_engine)


def check_history(engine, models: ParsedModels) -> VerifyReport:
    """``dsdt deploy --check-history``: every recorded dossier against ``models``; ``diverged``
    lists those that no longer take the same path, with the entry and the reason."""
    report = VerifyReport()
    for result in history_results(engine, models):
        report.instances += 1
        if result.same_path:
            report.verified += 1
        else:
            report.diverged.append({"instance": result.instance_id, "ref": result.ref, "entry": result.entry,
                                    "problem": result.detail or result.kind})
    return report
