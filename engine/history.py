"""A dossier's history for an auditor: every journal entry, who made it in which role, what it
submitted and what it changed, field by field.

What an entry changed is found the way ``verify`` checks it: the journal is replayed on the
dossier's versions (:func:`engine.replay.replay_states`, the code of the command path and
``verify``: a migrated dossier starts on the version it was created on and moves at its ``migrate``
entry), and the data the workflow shows (``LiveState.visible().data``) before and after each
entry are compared. The history is then the record's own account, not a second bookkeeping that
could disagree with it. When an entry cannot be re-applied (an altered journal, models that no
longer load), the entries are still all listed, and from that one on without their changes.

Administrative acts (moving a dossier to another version, reassigning a step, correcting data)
must give a reason: an entry of such a command without one is marked as such.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from . import commands, journal, roles
from .errors import EngineError, dossier_not_found
from .persistence.models import Deployment, Instance, User
from .queries import bpmn_id_of
from .replay import dossier_models, replay_states

#: commands that are administrative acts, not a step of the process: their reason is mandatory.
#: Any command this engine does not know is treated as one too (a record must explain itself).
ADMINISTRATIVE = frozenset({"migrate", "reassign", "correct_data", "jury_record"})
#: payload keys that carry the reason of a command
REASON_KEYS = ("reason", "motif")
#: nested levels of data compared field by field; deeper values are compared whole
DIFF_DEPTH = 4


@dataclass(frozen=True)
class FieldChange:
    """One field an entry changed; ``before``/``after`` is None with ``added``/``removed``."""

    path: str
    before: object
    after: object
    added: bool = False
    removed: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: datetime  # UTC, as stored
    actor: str
    actor_name: str | None  # the account's full name, when the account exists
    role: str | None  # the role the entry was made in (the step's lane; porteur; None: the system)
    command: str
    bpmn_id: str | None
    step_name: str | None
    submitted: dict  # what the command carried (form data, a reason, a login…)
    reason: str | None
    administrative: bool
    version: int  # the process version the entry ran on
    #: data fields the entry changed; None when the replay could not reach this entry
    changes: list[FieldChange] | None = None
    opened: list[str] = field(default_factory=list)  # steps it opened
    closed: list[str] = field(default_factory=list)  # steps it closed
    timers_fired: list[str] = field(default_factory=list)  # the timer events that were due

    @property
    def reason_missing(self) -> bool:
        return self.administrative and not self.reason


@dataclass(frozen=True)
class History:
    instance_id: int
    ref: str
    version: int
    entries: list[HistoryEntry]
    replay_problem: str | None  # why the changes stop at some entry (English, for the record)


def flatten(data, prefix: str = "", depth: int = DIFF_DEPTH) -> dict[str, object]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``, down to ``depth`` levels (lists are values)."""
    if not isinstance(data, dict) or depth == 0 or (prefix and not data):
        return {prefix: data} if prefix else {}
    found: dict[str, object] = {}
    for key, value in data.items():
        found.update(flatten(value, f"{prefix}.{key}" if prefix else str(key), depth - 1))
    return found


def diff(before: dict, after: dict) -> list[FieldChange]:
    """The fields whose value differs between two flattened data, in path order."""
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if path not in before:
            changes.append(FieldChange(path, None, after[path], added=True))
        elif path not in after:
            changes.append(FieldChange(path, before[path], None, removed=True))
        elif before[path] != after[path]:
            changes.append(FieldChange(path, before[path], after[path]))
    return changes


def _seen(state) -> tuple[dict, dict[str, str], set[str]]:
    """(flattened data, open step ref → name, pending timer refs) of a state, copied."""
    if state is None:
        return {}, {}, set()
    visible = state.visible()
    return (flatten(copy.deepcopy(visible.data)), {human.ref: human.name for human in visible.ready},
            {ref for ref, _ in visible.timers})


def _submitted(command: str, payload: dict) -> dict:
    if command in (commands.START, commands.COMPLETE):
        return copy.deepcopy(payload.get("data") or {})
    return {key: copy.deepcopy(value) for key, value in payload.items() if key != "task"}


def _role(command: str, bpmn_id: str | None, step_roles: dict[str, str | None]) -> str | None:
    if command in (commands.START, commands.WITHDRAW):
        return roles.PORTEUR
    if bpmn_id is not None:
        return step_roles.get(bpmn_id)
    return None


def existing_instance(session, instance_id: int) -> Instance:
    """The dossier ``instance_id``, or NotFound (the history's and the audit's shared check)."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise dossier_not_found(instance_id)
    return instance


def _step_names(models) -> tuple[dict[str, str], dict[str, str | None]]:
    """(BPMN id → step name, BPMN id → role) of one version's user tasks."""
    if models is None:
        return {}, {}
    return ({bpmn_id: spec.bpmn_name or bpmn_id for bpmn_id, spec in models.user_tasks.items()},
            {bpmn_id: roles.role_for_lane(spec.lane) for bpmn_id, spec in models.user_tasks.items()})


def read_history(engine, instance_id: int) -> History:
    """The history of one dossier (see the module's docstring). ``engine``: a WorkflowEngine."""
    with engine.db.sessions() as session:
        instance = existing_instance(session, instance_id)
        rows = journal.entries(session, instance_id)
        version = session.scalar(select(Deployment.version).where(Deployment.id == instance.deployment_id))
        logins = {row.actor for row in rows}
        names = dict(session.execute(select(User.login, User.full_name).where(User.login.in_(logins))).all())
        problem, known = None, None
        try:
            known = dossier_models(session, engine.deployments, rows, instance.deployment_id, instance.family)
        except EngineError as err:
            problem = f"its deployment {instance.deployment_id} cannot be loaded: {err}"
        ref = instance.ref
    models = known.origin if known is not None else None
    replayed = replay_states(rows, models, engine.script_engine, switch=known.switch,
                             copy_payloads=True) if known is not None else iter(())
    state, entries = None, []
    for row in rows:
        # the entry ran on the version the dossier was on before it (a migrate entry: its origin)
        step_names, step_roles = _step_names(models)
        entry_version = known.versions.get(known.deployment_of(models), version) if known is not None else version
        payload = row.payload if isinstance(row.payload, dict) else {}
        bpmn_id = bpmn_id_of(payload.get("task")) if isinstance(payload.get("task"), str) else None
        reason = next((str(payload[key]) for key in REASON_KEYS if payload.get(key)), None)
        entry = dict(
            seq=row.seq, at=row.at, actor=row.actor, actor_name=names.get(row.actor) or None,
            role=_role(row.command, bpmn_id, step_roles), command=row.command, bpmn_id=bpmn_id,
            step_name=step_names.get(bpmn_id) if bpmn_id else None, submitted=_submitted(row.command, payload),
            reason=reason, version=entry_version,
            administrative=row.command in ADMINISTRATIVE or row.command not in commands.COMMANDS,
        )
        if problem is None:
            before, open_before, timers_before = _seen(state)
            try:
                step = next(replayed)
            except EngineError as err:
                problem = err.message
            else:
                state, models = step.state, step.models
                after, open_after, timers_after = _seen(state)
                entry.update(
                    changes=diff(before, after),
                    opened=[name for ref, name in open_after.items() if ref not in open_before],
                    closed=[name for ref, name in open_before.items() if ref not in open_after],
                    timers_fired=sorted(bpmn_id_of(ref) or ref for ref in timers_before - timers_after)
                    if row.command == commands.FIRE_TIMERS else [],
                )
        entries.append(HistoryEntry(**entry))
    return History(instance_id, ref, version, entries, problem)
