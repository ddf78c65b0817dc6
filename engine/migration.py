"""Migration of running dossiers from one deployed version to another.

A process owner moves one dossier, a selection, or all the running dossiers of a version onto a
new version. Before anything is written, :func:`incompatibilities` compares the dossier's
workflow with the new models: a step the dossier completed or has open (a ready task, a waiting
event) that the new version removed, whose type changed, or whose form lost fields the dossier
filled, refuses the migration, naming the step. Otherwise the migration is a journaled command
(``migrate``, payload: the two deployments, their versions and the mandatory reason; actor: the
process owner): the workflow's task specs are aligned with the new version's by BPMN id
(SpiffWorkflow's :mod:`SpiffWorkflow.bpmn.util.diff`), its open steps re-predicted on the new
paths, and the dossier is pinned to the new deployment. A state is stored with the entry, so a
load never replays across it; ``verify`` and the other replays switch specs at the entry
(:func:`apply_migration`, called by :mod:`engine.replay`). Migrating back is the same command the
other way, journaled too. Dossiers not migrated keep running on their own version.

Known limit: SpiffWorkflow resets the waiting events it re-predicts, so a timer open at the
migration restarts its duration from the migration's instant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from . import runtime
from .bpmn.serializer import StateSerializer
from .errors import Invalid

MIGRATE = "migrate"
#: the longest reason a migration keeps in its journal entry
MAX_REASON = 2000
#: the most dossiers one request may migrate
MAX_DOSSIERS = 10_000

#: states of a task that hold the dossier's history or present: completed, open, running
_LIVE = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class Incompatibility:
    """A step of the dossier the new version cannot take over: its BPMN id and why."""

    element: str
    reason: str  # "removed", "type_changed", "fields_removed", "subprocess_removed"
    detail: str = ""

    def describe(self) -> str:
        return f"{self.element} ({self.reason}{': ' + self.detail if self.detail else ''})"


@functools.cache
def _registry():
    """The serializer registry SpiffWorkflow's spec diff compares task specs with."""
    return StateSerializer()._serializer.registry


def clean_reason(reason: str | None) -> str:
    """The reason stripped; refused when empty or too long (nothing is migrated then)."""
    text = (reason or "").strip()
    if not text:
        raise Invalid("A migration needs a reason: say why these dossiers move to another version",
                      code="migration.reason_required")
    if len(text) > MAX_REASON:
        raise Invalid(f"The reason is too long ({len(text)} characters; {MAX_REASON} at most)",
                      code="migration.reason_too_long", params={"max": MAX_REASON})
    return text


def _fields(form: dict | None) -> set[str]:
    return set(((form or {}).get("properties") or {}).keys())


def _form_of(spec) -> str | None:
    return ((getattr(spec, "extensions", None) or {}).get("properties") or {}).get("formJsonSchemaFilename")


def _check(workflow_diff, old_models, new_models, found: list[Incompatibility]) -> None:
    for task in workflow_diff.removed:
        if task.has_state(_LIVE):
            found.append(Incompatibility(task.task_spec.bpmn_id or task.task_spec.name, "removed"))
    for task, new_spec in workflow_diff.alignment.items():
        if new_spec is None or not task.has_state(_LIVE):
            continue
        old_spec = task.task_spec
        if type(old_spec).__name__ != type(new_spec).__name__:
            found.append(Incompatibility(old_spec.bpmn_id or old_spec.name, "type_changed",
                                         f"{type(old_spec).__name__} → {type(new_spec).__name__}"))
            continue
        if isinstance(old_spec, UserTask) and task.state != TaskState.READY:
            # a completed step's fields are data later steps may read: none may disappear
            old_form, new_form = _form_of(old_spec), _form_of(new_spec)
            lost = _fields(old_models.forms.get(old_form)) - _fields(new_models.forms.get(new_form))
            if lost:
                found.append(Incompatibility(old_spec.bpmn_id, "fields_removed", ", ".join(sorted(lost))))


def _diffs(wf, new_models):
    return diff_workflow(_registry(), wf, new_models.spec, new_models.subprocess_specs)


def incompatibilities(wf, old_models, new_models) -> list[Incompatibility]:
    """What stops ``wf`` (running on ``old_models``) from moving onto ``new_models``, step by step."""
    found: list[Incompatibility] = []
    top, subs = _diffs(wf, new_models)
    _check(top, old_models, new_models, found)
    for sub_id, sub_diff in subs.items():
        sub = wf.subprocesses[sub_id]
        if sub_diff is None:
            if any(task.has_state(_LIVE) for task in sub.tasks.values()):
                found.append(Incompatibility(sub.spec.name, "subprocess_removed"))
            continue
        _check(sub_diff, old_models, new_models, found)
    unique = {(item.element, item.reason): item for item in found}
    return sorted(unique.values(), key=lambda item: (item.element, item.reason))


def refuse(ref: str, problems: list[Incompatibility]) -> Invalid:
    steps = "; ".join(problem.describe() for problem in problems)
    return Invalid(f"Dossier {ref} cannot move to this version: {steps}",
                   code="migration.incompatible", params={"ref": ref, "steps": steps})


def apply_migration(state, new_models) -> None:
    """Move ``state`` (a :class:`~engine.commands.LiveState`) onto ``new_models`` (deterministic:
    the command and every replay of its journal entry do exactly this)."""
    wf = state.wf
    top, subs = _diffs(wf, new_models)
    migrate_workflow(top, wf, new_models.spec)
    wf.subprocess_specs = new_models.subprocess_specs
    for sub_id, sub_diff in subs.items():
        sub = wf.subprocesses[sub_id]
        if sub_diff is not None:
            migrate_workflow(sub_diff, sub, new_models.subprocess_specs[sub.spec.name])
    runtime.run_engine_steps(wf)
    state.seen = None
    if state.claims:
        open_refs = {human.ref for human in state.visible().ready}
        state.claims = {ref: login for ref, login in state.claims.items() if ref in open_refs}


def origin_deployment(rows, current: int) -> int:
    """The deployment a dossier's journal starts on: the first migration's origin, else ``current``."""
    for row in rows:
        if row.command == MIGRATE:
            return int(row.payload["from"])
    return current
