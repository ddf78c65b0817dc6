"""Workflow state serialization without the specs.

Specs are parsed once per deployment (its files are immutable), so an instance's state holds only
its tasks and data. :class:`StateSerializer` is SpiffWorkflow's ``BpmnWorkflowSerializer`` with a
copied config in which the workflow converter leaves the specs out and restores the state onto
the deployment's parsed specs. The serializer version is stored with every state and migrations
run on load.
"""

from __future__ import annotations

from copy import deepcopy
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from .engine_steps import install
from .timers import ClockedDurationTimerEventDefinition, ClockedTimeDateEventDefinition

_SPECS_KEY = "_pinned_specs"


#: Plain JSON only: a datetime, dataclass or subclass raises, and the registry converts it instead.
_FRAGMENT_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                     | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)


def as_fragment(value):
    """``value`` pre-encoded as JSON, or ``None`` when it holds anything but plain JSON data.

    The registry walks every value it converts, in Python; task and workflow data are most of a
    state and are plain JSON in this engine, so they are encoded at C speed instead. Keys are
    sorted, which makes the bytes independent of insertion order (a restored dict and a live one
    may differ there).
    """
    try:
        return orjson.Fragment(orjson.dumps(value, option=_FRAGMENT_OPTIONS))
    except TypeError:
        return None


def _workflow_dict(converter, workflow) -> dict:
    """``WorkflowConverter.to_dict`` with the workflow data pre-encoded when possible."""
    data = converter.registry.clean(workflow.data)
    return {
        "data": as_fragment(data) or converter.registry.convert(data),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": converter.mapping_to_dict(workflow.tasks),
        "root": str(workflow.task_tree.id),
    }


class PinnedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its specs (they live with the deployment)."""

    def to_dict(self, workflow):
        dct = _workflow_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop(_SPECS_KEY)
        workflow = install(self.target_class(spec, subprocess_specs, deserializing=True))
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class SubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess, with its data pre-encoded when possible."""

    def to_dict(self, workflow):
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


class TaskDataConverter(TaskConverter):
    """A task with its data (or data delta) pre-encoded."""

    def to_dict(self, task) -> dict:
        dct = super().to_dict(task)
        if dct["delta"]:
            # Listed in the parent's key order, which a restored workflow does not keep (keys are
            # stored sorted): sort them so a live and a restored workflow serialize alike.
            dct["delta"]["deletions"] = sorted(dct["delta"]["deletions"])
        for key in ("data", "delta"):
            fragment = as_fragment(dct[key])
            if fragment is not None:
                dct[key] = fragment
        return dct


def _config():
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = PinnedSpecWorkflowConverter
    config[BpmnSubWorkflow] = SubWorkflowConverter
    config[Task] = TaskDataConverter
    config[ClockedTimeDateEventDefinition] = TimerConditionalEventDefinitionConverter
    config[ClockedDurationTimerEventDefinition] = TimerConditionalEventDefinitionConverter
    return config


class StateSerializer:
    """Turns a workflow into a JSON-ready dict and back, onto given specs."""

    def __init__(self):
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config()))
        self.version = self._serializer.VERSION

    def to_dict(self, workflow) -> dict:
        dct = self._serializer.to_dict(workflow)
        dct[self._serializer.VERSION_KEY] = self.version
        return dct

    @staticmethod
    def encode(dct: dict) -> str:
        return orjson.dumps(dct, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def decode(text: str) -> dict:
        return orjson.loads(text)

    def dumps(self, workflow) -> str:
        return self.encode(self.to_dict(workflow))

    def from_dict(self, dct: dict, spec, subprocess_specs, script_engine):
        """Restore ``dct`` (consumed) onto ``spec``; the script engine is set anew (not serialized)."""
        self._serializer.migrate(dct)
        dct[_SPECS_KEY] = (spec, subprocess_specs)
        workflow = self._serializer.from_dict(dct)
        workflow.script_engine = script_engine
        return workflow

    def loads(self, text: str, spec, subprocess_specs, script_engine):
        return self.from_dict(orjson.loads(text), spec, subprocess_specs, script_engine)
