"""Step-by-step replay for auditors: what a dossier looked like after its journal entry ``k``.

The state after entry ``k`` is not read from a log of pictures: the journal is re-applied with
:func:`engine.replay.replay_states`, the code ``dsdt verify`` runs, entry by entry, so every entry's
journaled fingerprint is checked on the way. A migrated dossier is replayed on the version it was
created on up to its ``migrate`` entry, then on the version it moved to: the view names the version
the state after entry ``k`` is on. What the replayed
workflow holds after entry ``k`` is then described per BPMN process (the main process and each
phase it called):

- ``done``: the elements completed at least once (tasks, events, gateways, call activities);
- ``active``: where a token stands, a ready task or a call activity whose phase is running;
- ``waiting``: events waiting for something to happen (a deadline, the porteur's withdrawal).

with the open steps (the task list of that moment) and the dossier's data as it stood. When an
entry cannot be re-applied or reaches another state than journaled (an altered journal, a model
that no longer loads), the states before it are still shown and the ones from it say why not.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity as CallActivityMixin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from . import journal
from .errors import EngineError, Invalid
from .history import diff, existing_instance, flatten
from .persistence.models import Deployment
from .queries import bpmn_id_of
from .replay import ReplayError, dossier_models, replay_states

#: the most journal entries one replay re-applies: a dossier's lifecycle has a few dozen, and a
#: request must stay within seconds (beyond it the auditor uses ``dsdt verify``)
MAX_ENTRIES = 2000
ACTIVE_STATES = (TaskState.READY, TaskState.STARTED)


@dataclass(frozen=True)
class ProcessMarks:
    """The elements of one BPMN process (its id) in each state, each list sorted."""

    process: str
    done: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StepThen:
    bpmn_id: str
    name: str
    role: str


@dataclass(frozen=True)
class EntryLabel:
    """One journal entry as the replay's list of entries names it."""

    seq: int
    at: datetime  # UTC
    actor: str
    command: str
    bpmn_id: str | None
    step_name: str | None


@dataclass(frozen=True)
class ReplayPoint:
    """The replayed state after one entry."""

    entry: EntryLabel
    processes: dict[str, ProcessMarks]  # process id → its marks, for the processes entered so far
    open_steps: list[StepThen]  # the task list of that moment
    finished: bool
    data: dict[str, object]  # the dossier's data as it stood, flattened (``a.b`` → value)
    changed: list[str]  # the fields this entry changed (added, removed or new value)


@dataclass(frozen=True)
class ReplayView:
    """A dossier replayed up to ``entry``: ``point`` is None when the replay stopped before it."""

    instance_id: int
    ref: str
    version: int  # the version the state after ``entry`` is on (a migrated dossier's changes)
    deployment_id: int  # that version's deployment
    entries: list[EntryLabel]
    entry: int
    point: ReplayPoint | None
    problem: str | None  # why the replay stopped (verify's own words, English)

    @property
    def total(self) -> int:
        return len(self.entries)


def _process_of(top, workflow) -> str:
    """The BPMN process whose diagram shows ``workflow``'s elements: a called phase is its own
    process; an embedded subprocess is drawn inside its parent's."""
    while workflow.parent_task_id is not None:
        parent = top.get_task_from_id(workflow.parent_task_id)
        if isinstance(parent.task_spec, CallActivityMixin):
            return workflow.spec.name
        workflow = workflow.parent_workflow
    return workflow.spec.name


def process_marks(wf) -> dict[str, ProcessMarks]:
    """Done, active and waiting element ids of a workflow and every subprocess, per process."""
    found: dict[str, tuple[set, set, set]] = {}
    for workflow in (wf, *wf.subprocesses.values()):
        done, active, waiting = found.setdefault(_process_of(wf, workflow), (set(), set(), set()))
        for task in workflow.tasks.values():
            bpmn_id = task.task_spec.bpmn_id
            if not bpmn_id:
                continue  # SpiffWorkflow's own start/end tasks: nothing in the diagram
            if task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.state in ACTIVE_STATES:
                active.add(bpmn_id)
            elif task.state == TaskState.WAITING:
                waiting.add(bpmn_id)
    return {process: ProcessMarks(process, sorted(d), sorted(a), sorted(w)) for process, (d, a, w) in found.items()}


def _row(row):
    """A copy of a journal row for replay: re-applying must not change the row a reader holds."""
    return SimpleNamespace(seq=row.seq, command=row.command, at=row.at, actor=row.actor,
                           payload=copy.deepcopy(row.payload), state_hash=row.state_hash)


def _point(label: EntryLabel, state, before: dict) -> ReplayPoint:
    visible = state.visible()
    data = flatten(copy.deepcopy(visible.data))
    return ReplayPoint(
        entry=label,
        processes=process_marks(state.wf),
        open_steps=[StepThen(human.bpmn_id, human.name, human.role) for human in visible.ready],
        finished=visible.finished,
        data=data,
        changed=[change.path for change in diff(before, data)],
    )


def replay_to(engine, instance_id: int, entry: int) -> ReplayView:
    """Dossier ``instance_id`` replayed from its start up to journal entry ``entry`` (1 = the start).

    :class:`Invalid` (``replay.entry``) when the journal has no entry ``entry``, and
    (``replay.too_long``) for a journal longer than :data:`MAX_ENTRIES`.
    """
    with engine.db.sessions() as session:
        instance = existing_instance(session, instance_id)
        rows = journal.entries(session, instance_id)
        version = session.scalar(select(Deployment.version).where(Deployment.id == instance.deployment_id))
        ref, deployment_id, family = instance.ref, instance.deployment_id, instance.family
        if len(rows) > MAX_ENTRIES:
            raise Invalid(f"{ref} has {len(rows)} journal entries; the step-by-step replay stops at {MAX_ENTRIES}: "
                          "use dsdt verify", code="replay.too_long", params={"total": len(rows), "limit": MAX_ENTRIES})
        if not 1 <= entry <= len(rows):
            raise Invalid(f"{ref} has no journal entry {entry} (it has entries 1 to {len(rows)})",
                          code="replay.entry", params={"entry": entry, "total": len(rows)},
                          errors={"entry": [f"between 1 and {len(rows)}"]})
        problem, known = None, None
        try:
            known = dossier_models(session, engine.deployments, rows, deployment_id, family)
        except EngineError as err:
            problem = f"its deployment {deployment_id} cannot be loaded: {err}"
        rows = [_row(row) for row in rows]
    names = {}
    for models in (known.by_deployment.values() if known is not None else ()):
        names.update({bpmn_id: spec.bpmn_name or bpmn_id for bpmn_id, spec in models.user_tasks.items()})
    labels = []
    for row in rows:
        task = row.payload.get("task") if isinstance(row.payload, dict) else None
        bpmn_id = bpmn_id_of(task) if isinstance(task, str) else None
        labels.append(EntryLabel(row.seq, row.at, row.actor, row.command,
                                 bpmn_id, names.get(bpmn_id) if bpmn_id else None))
    point, state = None, None
    if problem is None:
        before = {}
        try:
            for step in replay_states(rows[:entry], known.origin, engine.script_engine, switch=known.switch,
                                      serializer=engine.serializer):
                if step.row.seq == entry - 1:
                    before = flatten(copy.deepcopy(step.state.visible().data))
                state, models = step.state, step.models
        except ReplayError as err:
            problem = err.message
        else:
            point = _point(labels[entry - 1], state, before)
            deployment_id = known.deployment_of(models)
            version = known.versions.get(deployment_id, version)
    return ReplayView(instance_id, ref, version, deployment_id, labels, entry, point, problem)
