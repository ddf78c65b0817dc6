"""Timer expressions: what they evaluate to is checked before SpiffWorkflow computes a date.

A date must be an ISO 8601 date or datetime string (or a datetime) at most 10 years ahead; a
duration an ISO 8601 duration string, not negative, reaching at most 10 years ahead. Anything
else fails at once with a ScriptFailed naming the timer, instead of SpiffWorkflow looping month
by month over a huge duration in the engine's process, or a timer that never fires.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import ScriptFailed
from engine.bpmn.parser import DsdtBpmnParser
from engine.clock import at
from engine.runtime import run_engine_steps

NOW = datetime(2014, 10, 1, 8, 0, tzinfo=UTC)

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="timers" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="a_date" isExecutable="true">
    <bpmn:startEvent id="date_debut" />
    <bpmn:sequenceFlow id="d0" sourceRef="date_debut" targetRef="echeance" />
    <bpmn:intermediateCatchEvent id="echeance">
      <bpmn:timerEventDefinition id="echeance_def">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">quand</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="d1" sourceRef="echeance" targetRef="date_fin" />
    <bpmn:endEvent id="date_fin" />
  </bpmn:process>
  <bpmn:process id="a_duree" isExecutable="true">
    <bpmn:startEvent id="duree_debut" />
    <bpmn:sequenceFlow id="u0" sourceRef="duree_debut" targetRef="attente" />
    <bpmn:intermediateCatchEvent id="attente">
      <bpmn:timerEventDefinition id="attente_def">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">delai</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="u1" sourceRef="attente" targetRef="duree_fin" />
    <bpmn:endEvent id="duree_fin" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def parser():
    parser = DsdtBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(BPMN.encode()), filename="timers.bpmn")
    return parser


def _run(parser, script_engine, process, **data):
    workflow = BpmnWorkflow(parser.get_spec(process), script_engine=script_engine)
    workflow.get_next_task(state=TaskState.READY).set_data(**data)
    with at(NOW):
        run_engine_steps(workflow)
    return workflow


def _due(workflow, bpmn_id):
    [task] = [task for task in workflow.get_tasks() if task.task_spec.bpmn_id == bpmn_id]
    return task.state, task.internal_data.get("event_value")


@pytest.mark.parametrize(("quand", "due"), [
    ("2015-02-10T23:59:00+01:00", "2015-02-10T22:59:00+00:00"),
    ("2024-09-30T08:00:00+00:00", "2024-09-30T08:00:00+00:00"),  # just under 10 years
])
def test_a_date_within_ten_years_waits(parser, script_engine, quand, due):
    workflow = _run(parser, script_engine, "a_date", quand=quand)
    assert _due(workflow, "echeance") == (TaskState.WAITING, due)


def test_a_past_date_fires_at_once(parser, script_engine):
    workflow = _run(parser, script_engine, "a_date", quand="2014-09-01T00:00:00+00:00")
    assert workflow.completed


@pytest.mark.parametrize(("quand", "message"), [
    ("2024-10-02T00:00:00+00:00", "10 years"),
    ("9999-12-31T23:59:59", "10 years"),
    ("0001-01-01T00:00:00+05:00", "not a valid date"),  # out of range once converted to UTC
    ("demain", "not a valid date"),
    ("P1D", "a date, not a duration"),
    (20150210, "got int"),
    (["2015-02-10"], "got list"),
    (None, "got NoneType"),
    ("2015-02-10" * 100, "not a valid date"),
])
def test_a_bad_date_fails_naming_the_timer(parser, script_engine, quand, message):
    with pytest.raises(ScriptFailed, match=message) as caught:
        _run(parser, script_engine, "a_date", quand=quand)
    assert caught.value.bpmn_id == "echeance"


@pytest.mark.parametrize(("delai", "due"), [
    ("P1D", "2014-10-02T08:00:00+00:00"),
    ("PT36H", "2014-10-02T20:00:00+00:00"),
    ("P2M", "2014-12-01T08:00:00+00:00"),
    ("P9Y11M", "2024-09-01T08:00:00+00:00"),
])
def test_a_duration_within_ten_years_waits(parser, script_engine, delai, due):
    workflow = _run(parser, script_engine, "a_duree", delai=delai)
    assert _due(workflow, "attente") == (TaskState.WAITING, due)


@pytest.mark.parametrize(("delai", "message"), [
    ("P100000Y", "10 years"),  # SpiffWorkflow would add 1.2 million months one by one
    ("P99999999999999M", "10 years"),
    ("PT99999999999999999S", "10 years"),
    ("P10Y1D", "10 years"),
    ("P522W", "10 years"),  # 3,654 days: one more than 10 years from 2014-10-01
    ("-P1D", "not a valid ISO 8601 duration"),
    ("PT-5H", "not a valid ISO 8601 duration"),
    ("une semaine", "not a valid ISO 8601 duration"),
    ("2015-02-10", "not a valid ISO 8601 duration"),
    (3600, "got int"),
    ("P1D" * 100, "not a valid ISO 8601 duration"),
])
def test_a_bad_duration_fails_at_once_naming_the_timer(parser, script_engine, delai, message):
    start = time.monotonic()
    with pytest.raises(ScriptFailed, match=message) as caught:
        _run(parser, script_engine, "a_duree", delai=delai)
    assert caught.value.bpmn_id == "attente"
    assert time.monotonic() - start < 1
