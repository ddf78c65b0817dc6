"""Workflow state serialization without the specs.

Specs are parsed once per deployment (its files are immutable), so an instance's state holds only
its tasks and data. :class:`StateSerializer` is SpiffWorkflow's ``BpmnWorkflowSerializer`` with a
copied config in which the workflow converter leaves the specs out and restores the state onto
the deployment's parsed specs. The serializer version is stored with every state and migrations
run on load.
"""

from __future__ import annotations

import weakref
from copy import deepcopy
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .timers import ClockedDurationTimerEventDefinition, ClockedTimeDateEventDefinition

_SPECS_KEY = "_pinned_specs"


class PinnedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its specs (they live with the deployment)."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop(_SPECS_KEY)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class FinishedTaskCachingConverter(TaskConverter):
    """Converts a finished task once and reuses the result while the task stays as it was.

    Serializing every task of every instance on every command dominated the cost of a command.
    A finished task (whose parent is finished too, so its data delta is final) only changes when
    its state, state-change time or children change, which the cache key covers. Replay
    serializes with a fresh serializer, so a stale entry would show up as a divergence in
    ``dsdt verify`` rather than go unnoticed.
    """

    def __init__(self, target_class, registry):
        super().__init__(target_class, registry)
        self._cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def to_dict(self, task):
        parent = task.parent
        if not task.has_state(TaskState.FINISHED_MASK) or (
            parent is not None and not parent.has_state(TaskState.FINISHED_MASK)
        ):
            return super().to_dict(task)
        key = (task.state, task.last_state_change, len(task.children))
        hit = self._cache.get(task)
        if hit is not None and hit[0] == key:
            return hit[1]
        dct = super().to_dict(task)
        self._cache[task] = (key, dct)
        return dct


def _config(cache_tasks: bool):
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = PinnedSpecWorkflowConverter
    if cache_tasks:
        config[Task] = FinishedTaskCachingConverter
    config[ClockedTimeDateEventDefinition] = TimerConditionalEventDefinitionConverter
    config[ClockedDurationTimerEventDefinition] = TimerConditionalEventDefinitionConverter
    return config


class StateSerializer:
    """Turns a workflow into a JSON-ready dict and back, onto given specs."""

    def __init__(self, cache_tasks: bool = True):
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config(cache_tasks)))
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
