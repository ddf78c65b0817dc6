"""Workflow state serialization without the specs.

Specs are parsed once per deployment (its files are immutable), so an instance's state holds only
its tasks and data. :class:`StateSerializer` is SpiffWorkflow's ``BpmnWorkflowSerializer`` with a
copied config in which the workflow converter leaves the specs out and restores the state onto
the deployment's parsed specs. The serializer version is stored with every state and migrations
run on load.
"""

from __future__ import annotations

import json
from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

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


def _config():
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = PinnedSpecWorkflowConverter
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

    def dumps(self, workflow) -> str:
        return json.dumps(self.to_dict(workflow), separators=(",", ":"))

    def from_dict(self, dct: dict, spec, subprocess_specs, script_engine):
        """Restore ``dct`` (consumed) onto ``spec``; the script engine is set anew (not serialized)."""
        self._serializer.migrate(dct)
        dct[_SPECS_KEY] = (spec, subprocess_specs)
        workflow = self._serializer.from_dict(dct)
        workflow.script_engine = script_engine
        return workflow

    def loads(self, text: str, spec, subprocess_specs, script_engine):
        return self.from_dict(json.loads(text), spec, subprocess_specs, script_engine)
