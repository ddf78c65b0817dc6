"""Parsing a deployment's files into SpiffWorkflow specs, with the checks a deploy needs.

:class:`DsdtBpmnParser` is SpiffWorkflow's ``SpiffBpmnParser`` with clocked timer events plugged
in through ``OVERRIDE_PARSER_CLASSES``. :func:`parse_models` turns a mapping of file name → bytes
into a :class:`ParsedModels` or raises :class:`~engine.errors.Invalid` naming the file and element.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..contract import CONTRACT_FILE, Contract, parse_contract
from ..errors import Invalid
from ..roles import LANE_ROLES
from .checks import semantic_problems, timers_drawn
from .contract_check import check_main_process, contract_problems
from .dmn_cells import cell_code, decision_sources
from .dmn_policies import PolicedDMNEngine, check_policy
from .timers import clocked


class _ClockedTimers:
    def parse_timer_event(self, event):
        definition = super().parse_timer_event(event)
        if isinstance(definition, CycleTimerEventDefinition):
            # SpiffWorkflow's cycles read the wall clock, and a huge period loops month by month.
            raise ValidationException("Cycle timers (timeCycle) are not supported: use a timeDate or a timeDuration",
                                      node=self.node, file_name=self.filename)
        return clocked(definition)


class _StartEventParser(_ClockedTimers, SpiffStartEventParser):
    pass


class _IntermediateCatchEventParser(_ClockedTimers, SpiffIntermediateCatchEventParser):
    pass


class _BoundaryEventParser(_ClockedTimers, SpiffBoundaryEventParser):
    pass


class DsdtBpmnParser(SpiffBpmnParser):
    """SpiffBpmnParser whose timer events read the engine clock and whose decision tables
    enforce their hit policy (:mod:`.dmn_policies`)."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (_IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
    }

    def get_engine(self, decision_ref, node):
        table = super().get_engine(decision_ref, node).decision_table
        dmn_parser = self.dmn_parsers[decision_ref]
        check_policy(dmn_parser, table)
        return PolicedDMNEngine(table, dmn_parser.decision.id)


@dataclass
class ParsedModels:
    """Specs and forms of one deployment, ready to run."""

    spec: object
    subprocess_specs: dict
    forms: dict[str, dict] = field(default_factory=dict)  # file name → parsed JSON
    user_tasks: dict[str, object] = field(default_factory=dict)  # bpmn id → task spec
    decisions: dict[str, tuple] = field(default_factory=dict)  # decision table id → (DMN file, decision id)
    #: what the application reads from these models (main process, data fields, steps, messages)
    contract: Contract | None = None
    #: family name → its models (this one for its own family): :meth:`family`
    families: dict[str, ParsedModels] = field(default_factory=dict)

    def family(self, name: str | None) -> ParsedModels:
        """The models of the process family ``name`` (None: the first, a porteur's application);
        :class:`Invalid` if the deployment runs no such family."""
        if name is None or name == (self.contract.family if self.contract else None):
            return self
        if name not in self.families:
            detail = f"this deployment runs no process family {name!r} (it runs {', '.join(self.families) or 'one'})"
            raise Invalid(f"Unknown process family: {detail}", code="model.invalid", params={"detail": detail})
        return self.families[name]

    @property
    def all_user_tasks(self) -> dict[str, object]:
        """The user tasks of every family (ids are unique across the files): bpmn id → task spec."""
        return {bpmn_id: spec for family in (self.families or {None: self}).values()
                for bpmn_id, spec in family.user_tasks.items()}


def _invalid_from_spiff(err: SpiffWorkflowException, default_file: str | None) -> Invalid:
    file = getattr(err, "file_name", None) or default_file
    return Invalid(
        f"Invalid model: {err}",
        file=file,
        bpmn_id=getattr(err, "id", None),
        line=getattr(err, "line_number", None) or None,
    )


class _Prolog:
    """A parser target that reads only up to the root element: stops there, or at a DOCTYPE."""

    class Stop(Exception):
        def __init__(self, doctype: bool):
            super().__init__()
            self.doctype = doctype

    def doctype(self, *_):
        raise self.Stop(True)

    def start(self, *_):
        raise self.Stop(False)

    def close(self):
        return None


def _parse_xml(name: str, content: bytes):
    """The root element of a BPMN or DMN file; :class:`Invalid` naming the file if it is malformed
    or carries a DOCTYPE.

    A DOCTYPE is refused outright, found by a first pass that stops at the root element, before
    any entity declaration is read: with entities unresolved, the text at an entity reference
    silently vanished (a line of a script, say); resolving them would open the door to external
    files and exponential expansion. No modeler writes one: BPMN and DMN are defined by XML Schemas.
    """
    options = {"resolve_entities": False, "no_network": True, "load_dtd": False}
    try:
        try:
            etree.fromstring(content, parser=etree.XMLParser(target=_Prolog(), **options))
        except _Prolog.Stop as stop:
            if stop.doctype:
                detail = (f"{name}: a DOCTYPE (a DTD, entity declarations) is not allowed in a model file; "
                          "remove it and write the text itself in place of each entity reference")
                raise Invalid(detail, code="model.invalid", params={"detail": detail}, file=name) from None
        return etree.fromstring(content, parser=etree.XMLParser(**options))
    except etree.XMLSyntaxError as err:
        raise Invalid(f"Malformed XML: {err.msg}", code="model.invalid", params={"detail": f"{name}: {err.msg}"},
                      file=name, line=err.lineno) from err


def _contract(files: dict[str, bytes], main_process: str | None, undeclared: Contract | None) -> Contract:
    if CONTRACT_FILE in files:
        return parse_contract(files[CONTRACT_FILE])
    if main_process:
        return Contract.bare(main_process)
    if undeclared is not None:
        return undeclared
    detail = (f"{CONTRACT_FILE} is missing: the model must declare its contract (main process, data fields, "
              "porteur and jury steps, withdrawal message); see processes/README.md, \"Contract\"")
    raise Invalid(f"No contract: {detail}", code="model.invalid", params={"detail": detail}, file=CONTRACT_FILE)


def parse_models(files: dict[str, bytes], main_process: str | None = None,
                 check_forms: bool = True, undeclared: Contract | None = None) -> ParsedModels:
    """Parse and check BPMN, DMN and form files. Raise :class:`Invalid` naming file and element.

    The contract comes from the files' ``contract.json`` and is checked against the diagrams.
    Without one: ``main_process`` (a lone process parsed by a tool or a test: a contract naming
    only it), else ``undeclared`` (a deployment stored before contracts existed, unchecked: it ran
    as it was), else :class:`Invalid`. ``check_forms=False`` skips checking the form schemas
    against the JSON Schema meta-schema, nine tenths of the cost of a parse: for a deployment's
    files, checked when it was deployed.
    """
    contract = _contract(files, main_process, undeclared)
    parser = DsdtBpmnParser()
    forms: dict[str, dict] = {}
    for name in sorted(files):
        content = files[name]
        if name == CONTRACT_FILE:
            continue
        if name.endswith(".bpmn"):
            xml = _parse_xml(name, content)
            try:
                parser.add_bpmn_xml(xml, filename=name)
            except SpiffWorkflowException as err:
                raise _invalid_from_spiff(err, name) from err
        elif name.endswith(".dmn"):
            xml = _parse_xml(name, content)
            try:
                parser.add_dmn_xml(xml, filename=name)
            except SpiffWorkflowException as err:
                raise _invalid_from_spiff(err, name) from err
        elif name.endswith(".json"):
            try:
                document = forms[name.rsplit("/", 1)[-1]] = json.loads(content)
            except ValueError as err:
                raise Invalid(f"Malformed JSON: {err}",
                              code="model.invalid", params={"detail": f"{name}: {err}"}, file=name) from err
            if check_forms and name.endswith(".schema.json"):
                try:
                    Draft202012Validator.check_schema(document)
                except SchemaError as err:
                    raise Invalid(f"Invalid JSON Schema: {err.message}",
                                  code="model.invalid", params={"detail": f"{name}: {err.message}"}, file=name) from err
    check_main_process(contract, parser.process_parsers)
    models = build_models(parser, contract, forms)
    for _rule, problem in model_problems(models, check_declared=contract is not undeclared):
        raise problem
    _connect_loop_children(models)
    models.families = {contract.family: models}
    for other in contract.others:  # the other process families of the model, checked alike
        check_main_process(other, parser.process_parsers)
        family = models.families[other.family] = build_models(parser, other, forms)
        for _rule, problem in model_problems(family):
            raise problem
        _connect_loop_children(family)
    return models


def build_models(parser: DsdtBpmnParser, contract: Contract, forms: dict[str, dict]) -> ParsedModels:
    """The specs of ``contract``'s main process from a parser holding every file, unchecked;
    :class:`Invalid` when SpiffWorkflow cannot build them (a called process missing...)."""
    try:
        spec = parser.get_spec(contract.main_process)
        subprocess_specs = parser.get_subprocess_specs(contract.main_process)
    except (SpiffWorkflowException, ValidationException) as err:
        raise _invalid_from_spiff(err, None) from err
    except Exception as err:  # SpiffWorkflow raises plain errors for some broken models
        raise Invalid(f"Invalid model: {err}", code="model.invalid", params={"detail": str(err)}) from err
    models = ParsedModels(spec=spec, subprocess_specs=subprocess_specs, forms=forms, contract=contract)
    models.decisions = decision_sources(parser)
    for _process, task_spec in _all_task_specs(models):
        if isinstance(task_spec, UserTaskMixin):
            models.user_tasks[task_spec.bpmn_id] = task_spec
    return models


def model_problems(models: ParsedModels, check_declared: bool = True):
    """Each reason deploy refuses built ``models`` (lanes, forms, contract, constructs the engine
    would run wrongly), as (rule, :class:`Invalid` naming file and element) pairs;
    ``check_declared=False`` skips the contract (a deployment stored before contracts existed).
    The contract is checked only when every lane is known (its checks read the lanes' roles)."""
    lanes = list(_lane_problems(models))
    yield from (("lane-role", problem) for problem in lanes)
    yield from (("form-reference", problem) for problem in _form_problems(models))
    if check_declared and not lanes:
        yield from (("contract", problem) for problem in contract_problems(models, models.contract))
    yield from (("construct", problem) for problem in semantic_problems(models))


def _all_task_specs(models: ParsedModels):
    for process in [models.spec, *models.subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            yield process, task_spec


def _connect_loop_children(models: ParsedModels) -> None:
    """Have every loop and multi-instance child spec report its completion to its parent spec.

    SpiffWorkflow makes this connection only when a running workflow creates a child
    (``create_child``) or when it deserializes specs, never when it parses them. A state restored
    onto freshly parsed specs (another process, a restart) would then never merge the children
    still open at the checkpoint, and the step would never complete. The connection lives on the
    spec, so it is made once here, with the same ``is_connected`` guard ``create_child`` uses.
    """
    for process, task_spec in _all_task_specs(models):
        if isinstance(task_spec, LoopTask):
            child = process.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def _lane_problems(models: ParsedModels):
    """Lanes must be known roles; a user task must sit in a lane naming a role."""
    for process, task_spec in _all_task_specs(models):
        file = getattr(process, "file", None)
        lane = getattr(task_spec, "lane", None)
        if lane is not None and lane not in LANE_ROLES:
            yield Invalid(
                f"Unknown lane {lane!r}: lanes must be one of {', '.join(LANE_ROLES)}",
                code="model.invalid", params={"detail": f"{task_spec.bpmn_id}: unknown lane {lane!r}"},
                file=file,
                bpmn_id=task_spec.bpmn_id,
            )
        elif isinstance(task_spec, UserTaskMixin) and LANE_ROLES.get(lane) is None:
            yield Invalid(
                "A user task must sit in a lane naming a role",
                code="model.invalid", params={"detail": f"{task_spec.bpmn_id}: no lane"},
                file=file, bpmn_id=task_spec.bpmn_id
            )


def _form_problems(models: ParsedModels):
    """A user task names its form, and the forms it names are among the files."""
    for process, task_spec in _all_task_specs(models):
        if not isinstance(task_spec, UserTaskMixin):
            continue
        file = getattr(process, "file", None)
        props = (task_spec.extensions or {}).get("properties", {})
        for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
            ref = props.get(key)
            if ref and ref not in models.forms:
                yield Invalid(
                    f"{key} refers to {ref!r}, which is not in forms/",
                    code="model.invalid", params={"detail": f"{task_spec.bpmn_id}: {key} {ref!r}"},
                    file=file,
                    bpmn_id=task_spec.bpmn_id,
                )
        if not props.get("formJsonSchemaFilename"):
            yield Invalid(
                "A user task needs a formJsonSchemaFilename property",
                code="model.invalid", params={"detail": f"{task_spec.bpmn_id}: formJsonSchemaFilename"},
                file=file,
                bpmn_id=task_spec.bpmn_id,
            )


def script_imports(source: str) -> int | None:
    """The line of the first ``import`` in ``source`` (None if there is none, or if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    return min(lines) if lines else None


class ModelCode(NamedTuple):
    """One piece of code a process owner wrote: where it is, how it runs (``"exec"`` or ``"eval"``)."""

    file: str | None
    bpmn_id: str
    mode: str
    source: str
    what: str = ""  # for DMN cells: the decision, rule and cell, as the modeler shows them


def model_code(models: ParsedModels):
    """The :class:`ModelCode` of everything process owners wrote in the diagrams and tables.

    Script tasks (``"exec"``), gateway conditions, timer expressions and every cell of the
    decision tables that business rule tasks call (``"eval"``, joined to their column's input
    expression as SpiffWorkflow's DMN engine will run them, see :mod:`.dmn_cells`).
    """
    tables = {}
    for process, task_spec in _all_task_specs(models):
        file = getattr(process, "file", None)
        if isinstance(task_spec, ScriptTask) and task_spec.script:
            yield ModelCode(file, task_spec.bpmn_id, "exec", task_spec.script)
        if isinstance(task_spec, MultiChoice):
            for condition, _target in task_spec.cond_task_specs:
                if condition is not None and condition.args and isinstance(condition.args[0], str):
                    yield ModelCode(file, task_spec.bpmn_id, "eval", condition.args[0])
        if isinstance(task_spec, CatchingEvent):  # an event-based gateway holds its branches' timers
            for bpmn_id, definition in timers_drawn(task_spec):
                yield ModelCode(file, bpmn_id, "eval", definition.expression)
        table = getattr(getattr(task_spec, "dmnEngine", None), "decision_table", None)
        if table is not None:
            tables.setdefault(table.id, table)
    for table_id, table in tables.items():
        dmn_file, decision = models.decisions.get(table_id, (None, table_id))
        for cell_id, what, source in cell_code(table):
            yield ModelCode(dmn_file, cell_id, "eval", source, f"decision {decision}, {what}")
