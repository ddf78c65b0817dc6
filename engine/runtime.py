"""Operations on a live SpiffWorkflow workflow, shared by commands, replay and the simulator.

Nothing here touches the database. Task references are ``<spec>.<n>`` paths (``n`` counts the
tasks of that spec in their workflow, in creation order), prefixed by the reference of the call
activity for tasks inside a subprocess: they survive serialization and replay, unlike task UUIDs.
Iteration is flat over ``workflow.tasks`` rather than through SpiffWorkflow's task iterator,
which stops at depth 1000 and would let a long loop look finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BpmnMessage
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from .bpmn.checks import event_definitions
from .errors import Conflict, NotFound, ScriptFailed
from .roles import role_for_lane


@dataclass(frozen=True, slots=True)
class HumanTask:
    """A ready user task, as the engine shows it."""

    ref: str
    bpmn_id: str
    name: str
    lane: str
    role: str
    assignee: str | None
    form: str
    ui_form: str | None
    form_variable: str
    instructions: str | None
    task: object  # the SpiffWorkflow task, for data access inside the engine only


def _properties(spec) -> dict:
    return (getattr(spec, "extensions", None) or {}).get("properties", {})


def _walk(workflow, prefix: str, refs: dict) -> None:
    counts: dict[str, int] = {}
    for task in workflow.tasks.values():
        name = task.task_spec.name.replace(" ", "")
        n = counts.get(name, 0)
        counts[name] = n + 1
        refs[task.id] = f"{prefix}{name}.{n}"


def task_refs(wf: BpmnWorkflow) -> dict:
    """Map every task id (top workflow and subprocesses) to its stable reference."""
    refs: dict = {}
    _walk(wf, "", refs)
    pending = dict(wf.subprocesses)
    while pending:
        progressed = False
        for parent_id, sub in list(pending.items()):
            if parent_id in refs:
                _walk(sub, refs[parent_id] + "/", refs)
                del pending[parent_id]
                progressed = True
        if not progressed:  # orphan subprocess: never expected, but never loop forever
            break
    return refs


def all_tasks(wf: BpmnWorkflow):
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def human_task(ref: str, task) -> HumanTask:
    spec = task.task_spec
    props = _properties(spec)
    assignee_var = props.get("assigneeVariable")
    return HumanTask(
        ref=ref,
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        role=role_for_lane(spec.lane),
        assignee=task.data.get(assignee_var) if assignee_var else None,
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        form_variable=props.get("formDataVariable") or spec.bpmn_id,
        instructions=(spec.extensions or {}).get("instructionsForEndUser"),
        task=task,
    )


def ready_human_tasks(wf: BpmnWorkflow, refs: dict | None = None) -> list[HumanTask]:
    """The ready user tasks (``refs``: :func:`task_refs` of ``wf``, when the caller has it)."""
    found = []
    for task in all_tasks(wf):
        if task.state == TaskState.READY and isinstance(task.task_spec, UserTask):
            refs = refs or task_refs(wf)
            found.append(human_task(refs[task.id], task))
    return found


def find_ready_task(wf: BpmnWorkflow, ref: str, ready: list[HumanTask] | None = None) -> HumanTask:
    """The ready task ``ref`` names (``ready``: the workflow's ready tasks, when known)."""
    for human in ready_human_tasks(wf) if ready is None else ready:
        if human.ref == ref:
            return human
    if ref in task_refs(wf).values():
        raise Conflict(
            f"Task {ref} is no longer open: it was completed, withdrawn or its deadline passed. "
            "Reload the dossier to see its current step.", code="task.not_open", params={"task": ref},
            bpmn_id=ref,
        )
    raise NotFound(f"Task {ref} does not exist in this dossier",
                   code="task.not_found", params={"task": ref}, bpmn_id=ref)


def is_finished(wf: BpmnWorkflow) -> bool:
    """True when every top-level task is finished (not SpiffWorkflow's depth-limited check)."""
    return all(task.has_state(TaskState.FINISHED_MASK) for task in wf.tasks.values())


def _stranded(wf: BpmnWorkflow) -> list:
    return [task for task in all_tasks(wf) if task.state == TaskState.READY and not task.task_spec.manual]


def run_engine_steps(wf: BpmnWorkflow) -> None:
    """Run automatic tasks and refresh timers, wrapping model errors.

    ``do_engine_steps`` finds ready tasks with the depth-limited iterator, so past depth 1000 (a
    long loop) it silently stops; the ready automatic tasks it could not see are run here.
    """
    try:
        wf.do_engine_steps()
        stranded = _stranded(wf)
        while stranded:
            for task in stranded:
                task.run()
            wf.do_engine_steps()
            stranded = _stranded(wf)
    except SpiffWorkflowException as err:
        task = getattr(err, "task", None)
        raise ScriptFailed(f"The model failed: {err}",
                           code="model.failed", bpmn_id=getattr(getattr(task, "task_spec", None),
                                                                         "bpmn_id", None),
                           line=getattr(err, "line_number", None) or None) from err


def start(wf: BpmnWorkflow, data: dict) -> None:
    wf.task_tree.data.update(data)
    # The start task's data seeds everything downstream.
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(data)
    run_engine_steps(wf)


def complete(wf: BpmnWorkflow, human: HumanTask, form_data: dict) -> None:
    human.task.data[human.form_variable] = form_data
    try:
        human.task.run()
    except SpiffWorkflowException as err:
        raise ScriptFailed(
            f"The model failed completing {human.bpmn_id}: {err}", code="model.failed", bpmn_id=human.bpmn_id
        ) from err
    run_engine_steps(wf)


def waiting_tasks(wf: BpmnWorkflow):
    """The waiting catching events of the workflow and its subprocesses."""
    for task in all_tasks(wf):
        if task.state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent):
            yield task


def can_catch(wf: BpmnWorkflow, message: str) -> bool:
    """True when a waiting event (a gateway's branch included) catches the message ``message``."""
    return awaits(wf, BpmnMessage, message)


_MISSING = object()


def _matches(data: dict, correlation: dict) -> bool:
    return all(data.get(key, _MISSING) == value for key, value in correlation.items())


def awaits(wf: BpmnWorkflow, kind: type, name: str, correlation: dict | None = None) -> bool:
    """True when a waiting event catches the ``kind`` event (message or signal definition class)
    ``name``, and its data holds every ``correlation`` key with the value given."""
    return any(isinstance(definition, kind) and definition.name == name and _matches(task.data, correlation or {})
               for task in waiting_tasks(wf) for definition in event_definitions(task.task_spec))


def deliver_message(wf: BpmnWorkflow, message: str, payload: dict, correlation: dict | None = None) -> None:
    """Deliver ``message`` to the dossier: every waiting event that catches it receives it, once one
    of them matches ``correlation`` (the payload lands in their ``messageVariable``)."""
    if not awaits(wf, BpmnMessage, message, correlation):
        raise Conflict(f"Nothing in this dossier waits for {message!r} any more",
                       code="message.not_awaited", params={"message": message})
    wf.catch(BpmnEvent(MessageEventDefinition(message), payload=payload))
    run_engine_steps(wf)


def send_signal(wf: BpmnWorkflow, signal: str, payload: dict) -> None:
    """Send ``signal`` to the dossier: every waiting event that catches it receives it (the payload
    lands in the variable the ``bpmn:signal`` names, ``spiffworkflow:variableName``)."""
    if not awaits(wf, SignalEventDefinition, signal):
        raise Conflict(f"Nothing in this dossier waits for the signal {signal!r}",
                       code="signal.not_awaited", params={"signal": signal})
    wf.catch(BpmnEvent(SignalEventDefinition(signal), payload=payload))
    run_engine_steps(wf)


def fire_timers(wf: BpmnWorkflow) -> None:
    """Fire every timer due at the command's instant (``do_engine_steps`` refreshes timers)."""
    wf.refresh_timers()
    run_engine_steps(wf)


def pending_timers(wf: BpmnWorkflow, refs: dict | None = None) -> list[tuple[str, datetime]]:
    """(task ref, due instant) of every waiting timer event whose date is known.

    A timer behind an event-based gateway is the gateway task's: it keeps the due instant, and
    firing it runs the gateway (deploy allows one timer per gateway, so the instant is its own).
    """
    found = []
    for task in waiting_tasks(wf):
        if any(isinstance(definition, TimerEventDefinition) for definition in event_definitions(task.task_spec)):
            due = task.internal_data.get("event_value")
            if due:
                refs = refs or task_refs(wf)
                found.append((refs[task.id], TimerEventDefinition.get_datetime(due)))
    return found


def current_data(wf: BpmnWorkflow, ready: list[HumanTask] | None = None) -> dict:
    """The data a reader should see now: final data once finished, else the latest open task's.

    ``ready``: the workflow's ready human tasks, when the caller has them already.
    """
    if is_finished(wf):
        return wf.data or (wf.last_task.data if wf.last_task else {})
    ready = ready_human_tasks(wf) if ready is None else ready
    if ready:
        return ready[0].task.data
    return wf.last_task.data if wf.last_task else wf.task_tree.data


@dataclass(frozen=True, slots=True)
class Visible:
    """What a workflow shows people after a command: what the projections and the journal hold."""

    finished: bool
    ready: list[HumanTask]
    data: dict
    timers: list[tuple[str, datetime]]


def visible(wf: BpmnWorkflow) -> Visible:
    finished = is_finished(wf)
    if finished:
        return Visible(True, [], current_data(wf, []), pending_timers(wf))
    refs = task_refs(wf)  # one walk for both the open tasks and the deadlines
    ready = ready_human_tasks(wf, refs)
    return Visible(False, ready, current_data(wf, ready), pending_timers(wf, refs))
