"""The SpiffWorkflow 3.2 traps listed in DESIGN.md, each shown and guarded."""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from engine import runtime
from engine.bpmn.parser import DsdtBpmnParser, parse_models
from engine.deployments import read_model_files
from engine.scripts import SandboxedScriptEngine, make_plain_script_engine
from tests.conftest import ROOT
from tests.factories import PORTEUR, Walker

DATA = Path(__file__).resolve().parent.parent / "data"


def _long_loop(limit: int) -> BpmnWorkflow:
    parser = DsdtBpmnParser()
    parser.add_bpmn_file(str(DATA / "long_loop.bpmn"))
    wf = BpmnWorkflow(parser.get_spec("long_loop"), script_engine=make_plain_script_engine())
    wf.task_tree.data.update({"n": 0, "limit": limit})
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update({"n": 0, "limit": limit})
    wf.do_engine_steps()
    return wf


def _ready(wf):
    return [task.task_spec.bpmn_id for task in runtime.all_tasks(wf) if task.state == TaskState.READY]


def test_task_iterator_depth_limit_does_not_make_a_long_loop_look_finished():
    wf = _long_loop(600)  # ~1200 tasks deep
    # The trap: past depth 1000 SpiffWorkflow neither runs the ready gateway nor sees it.
    assert _ready(wf) == ["ll_gw"] and wf.is_completed()
    assert not runtime.is_finished(wf)  # our flat check sees the open work
    runtime.run_engine_steps(wf)  # and our engine steps run what SpiffWorkflow could not see
    assert _ready(wf) == ["ll_last_step"]


def test_reset_on_a_completed_workflow_leaves_completed_true():
    wf = _long_loop(2)
    last = next(task for task in runtime.all_tasks(wf) if task.task_spec.bpmn_id == "ll_last_step")
    last.run()
    wf.do_engine_steps()
    assert runtime.is_finished(wf) and wf.completed
    wf.reset_from_task_id(last.id)
    assert wf.completed  # the trap
    assert not runtime.is_finished(wf)  # what the engine relies on


def test_workflow_data_is_only_filled_at_completion(engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.do(iid, "contact", epci="CAVM")
    state = engine.live_state(iid)
    assert state.wf.data == {}  # the trap
    assert runtime.current_data(state.wf)["epci"] == "CAVM"  # read from the open task instead
    assert engine.instance(iid).epci == "CAVM"


def test_multi_instance_wrapper_spec_has_no_extensions_but_the_child_does():
    models = parse_models(read_model_files(ROOT))
    jury = models.subprocess_specs["dsdt_jury"]
    wrapper = jury.task_specs["examen_territorial"]
    child = jury.task_specs["examen_territorial [child]"]
    assert not getattr(wrapper, "extensions", None)  # the trap
    assert child.extensions["properties"]["assigneeVariable"] == "membre"
    assert models.user_tasks["examen_territorial"] is child  # the engine reads the child


def test_models_have_no_parallel_or_inclusive_gateway():
    """Parallel branches work on copies and the last to finish wins at the join: we have none."""
    models = parse_models(read_model_files(ROOT))
    for process in [models.spec, *models.subprocess_specs.values()]:
        for spec in process.task_specs.values():
            assert not isinstance(spec, ParallelGateway | InclusiveGateway), (process.name, spec.name)


def test_a_script_sees_the_data_of_the_step_just_completed(engine, clock):
    """Script data is copied when the script task becomes ready: our commands run it at once."""
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.do(iid, "contact", epci="CAB", titre_projet="Jardins partagés")
    data = walker.view(iid, "avis_commune").data
    assert (data["epci"], data["titre_projet"]) == ("CAB", "Jardins partagés")


def test_the_script_engine_is_set_again_after_every_load(engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    state = engine.live_state(iid)  # deserialized from the database
    assert isinstance(state.wf.script_engine, SandboxedScriptEngine)
    assert state.wf.script_engine is engine.script_engine


def _hostile(models, script: str) -> None:
    path = models / "processes" / "phase_contact.bpmn"
    text = path.read_text()
    start = text.index("<bpmn:script>", text.index('id="contact_portee"')) + len("<bpmn:script>")
    # Run first, the script's own lines kept: they write the title and EPCI the contract names.
    path.write_text(text[:start] + script.replace("<", "&lt;") + "\n" + text[start:])


def test_a_script_importing_a_module_is_refused_at_deploy(bare_engine, models):
    from engine import Invalid

    _hostile(models, "import os")
    with pytest.raises(Invalid, match="may not import modules.*contact_portee"):
        bare_engine.deploy_directory(models, author="tests")


# (``().__class__`` and the like are refused at deploy: tests/engine/test_deployments.py; what a
# deploy cannot see, the sandbox stops when the script runs.)
@pytest.mark.parametrize("script", ["open('/etc/passwd')", "getattr(x, 'a' + '__class__')",
                                    "while True:\n    pass"])
def test_a_hostile_script_task_fails_the_command_and_changes_nothing(bare_engine, models, script, clock):
    """A process owner's script that tries to escape or spin is stopped; the instance is unchanged."""
    from engine import ScriptFailed, campaigns_api

    _hostile(models, script)
    bare_engine.deploy_directory(models, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    bare_engine.script_engine.pool.time_limit = 0.5
    walker = Walker(bare_engine, clock)
    iid = walker.start(PORTEUR)
    before = bare_engine.instance(iid).journal_seq
    try:
        with pytest.raises(ScriptFailed):
            walker.do(iid, "contact", epci="CAB")
    finally:
        bare_engine.script_engine.pool.time_limit = 2.0
    assert bare_engine.instance(iid).journal_seq == before
    assert walker.steps(iid) == ["contact"]
