"""Deploy checks of BPMN that SpiffWorkflow 3.2 parses but would run wrongly.

Whatever a modeler draws either runs as BPMN says, or the deploy refuses it naming the element
and the reason (:func:`check_semantics`):

- an event-based gateway with two timer branches: SpiffWorkflow keeps one due instant per waiting
  task, and every branch of a gateway waits on the gateway's task, so the second timer would read
  the first one's instant;
- a parallel or inclusive split whose branches may write the same data before the join:
  SpiffWorkflow runs each branch on its own copy of the data and merges the copies at the join
  key by key, the last branch to finish winning (and a list merged item by item), so one branch's
  result would be silently lost. Branches may each run user tasks writing their own form variable;
  two branches running code (a script, a decision table, a call activity) are refused;
- a task without a type (``bpmn:task``) or a manual task: SpiffWorkflow leaves it ready for a
  person to complete, but it has no form, no lane role and no inbox row, so the dossier would
  wait forever;
- a non-interrupting boundary event whose path waits (a user task, a call activity, a catching
  event): the path runs beside the task on a copy of the data taken when the event fires, and
  SpiffWorkflow merges the paths' data at the end of the process, the last path to finish
  winning, so a reminder completed after the task would put back the data as it was before the
  task's own path wrote its outcome. A path that only runs code and ends runs at once, before
  the task's path ends, and is accepted.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin

from ..errors import Invalid

__all__ = ["check_semantics", "event_definitions", "semantic_problems", "timers_drawn"]


def event_definitions(spec) -> list:
    """The event definitions a catching event spec waits for.

    An event-based gateway holds its branches' definitions in one ``MultipleEventDefinition``
    (SpiffWorkflow moves them from the branch events to the gateway), whose own name is None:
    looking only at the top definition misses every timer and message behind a gateway.
    """
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [] if definition is None else [definition]


def timers_drawn(spec) -> list[tuple[str, TimerEventDefinition]]:
    """(BPMN id of the event drawn with it, definition) of each timer ``spec`` waits for: a
    gateway's are its branch events' (SpiffWorkflow connects them in the order of its outputs)."""
    definitions = event_definitions(spec)
    where = [output.bpmn_id for output in spec.outputs] if isinstance(spec, EventBasedGateway) else []
    if len(where) != len(definitions):
        where = [spec.bpmn_id] * len(definitions)
    return [(bpmn_id, d) for bpmn_id, d in zip(where, definitions, strict=True) if isinstance(d, TimerEventDefinition)]


def _refuse(process, spec, reason: str) -> Invalid:
    label = f"{spec.bpmn_id} ({spec.bpmn_name})" if getattr(spec, "bpmn_name", None) else spec.bpmn_id
    return Invalid(f"{label}: {reason}", code="model.invalid", params={"detail": f"{label}: {reason}"},
                   file=getattr(process, "file", None), bpmn_id=spec.bpmn_id)


def _check_event_gateway(process, spec):
    if len(timers_drawn(spec)) > 1:
        yield _refuse(process, spec, "an event-based gateway may have one timer branch only (SpiffWorkflow keeps "
                                     "one due date per gateway); keep the earliest timer, or chain them")


def _is_join(spec) -> bool:
    return isinstance(spec, ParallelGateway | InclusiveGateway) and len(spec.inputs) > 1


def _writers(start) -> tuple[list, list]:
    """(code elements, user tasks) reachable from ``start`` before any join gateway."""
    code, users, seen, todo = [], [], set(), [start]
    while todo:
        spec = todo.pop()
        if spec.name in seen or _is_join(spec):
            continue  # a join: the branch ends there (a join that also splits is checked on its own)
        seen.add(spec.name)
        if isinstance(spec, ScriptTask | BusinessRuleTaskMixin | SubWorkflowTask):
            code.append(spec)
        elif isinstance(spec, UserTask):
            users.append(spec)
        todo.extend(spec.outputs)
    return code, users


def _form_variable(spec) -> str:
    props = (spec.extensions or {}).get("properties", {})
    return props.get("formDataVariable") or spec.bpmn_id


def _check_split(process, spec):
    kind = "parallel" if isinstance(spec, ParallelGateway) else "inclusive"
    branches = [_writers(output) for output in spec.outputs]
    running_code = [code[0] for code, _ in branches if code]
    if len(running_code) > 1:
        first, second = running_code[:2]
        yield _refuse(process, spec, f"the branches of this {kind} gateway both run code before the join "
                                     f"({first.bpmn_id} and {second.bpmn_id}): SpiffWorkflow merges the branches' "
                                     "data at the join and the last one to finish overwrites the other's; run "
                                     "the code after the join, or in one branch")
    written: dict[str, str] = {}
    for _, users in branches:
        mine = {_form_variable(user): user.bpmn_id for user in users}
        for variable, bpmn_id in mine.items():
            if variable in written:
                yield _refuse(process, spec, f"two branches of this {kind} gateway write {variable!r} "
                                             f"({written[variable]} and {bpmn_id}): the last one to finish would "
                                             "overwrite the other; give each task its own formDataVariable")
        written.update(mine)


def _first_wait(start):
    """The first element on the path from ``start`` that waits (a person, a call, an event)."""
    seen, todo = set(), [start]
    while todo:
        spec = todo.pop()
        if spec.name in seen:
            continue
        seen.add(spec.name)
        if isinstance(spec, UserTask | SubWorkflowTask | CatchingEvent) and hasattr(spec, "bpmn_id"):
            return spec
        todo.extend(spec.outputs)
    return None


def _check_non_interrupting(process, spec):
    waits = next((w for w in map(_first_wait, spec.outputs) if w is not None), None)
    if waits is not None:
        yield _refuse(process, spec, f"the path of this non-interrupting boundary event waits at {waits.bpmn_id}: "
                                     "it would run beside the task on a copy of the data, and whichever path ends "
                                     "last would overwrite the data the other wrote; let the path only run code "
                                     "and end, or make the event interrupting")


def semantic_problems(models):
    """Each construct SpiffWorkflow would run wrongly (see the module docstring), as an
    :class:`Invalid` naming the element, in the order of the specs."""
    for process in [models.spec, *models.subprocess_specs.values()]:
        for spec in process.task_specs.values():
            if spec.manual and not isinstance(spec, UserTask) and hasattr(spec, "bpmn_id"):
                yield _refuse(process, spec, "a task without a type, or a manual task, waits for a person but has no "
                                             "form: nobody could complete it; make it a user task with a form, or a "
                                             "script task")
            if isinstance(spec, BoundaryEvent) and not spec.cancel_activity:
                yield from _check_non_interrupting(process, spec)
            if isinstance(spec, EventBasedGateway):
                yield from _check_event_gateway(process, spec)
            elif isinstance(spec, ParallelGateway | InclusiveGateway) and len(spec.outputs) > 1:
                yield from _check_split(process, spec)


def check_semantics(models) -> None:
    """Refuse what SpiffWorkflow would run wrongly, naming the first element found."""
    for problem in semantic_problems(models):
        raise problem
