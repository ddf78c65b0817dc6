"""The model declares its contract (processes/contract.json); deploy refuses a model that breaks it.

One refused case per rule, each naming what is missing and leaving the current version current;
then the proof that no Python names the model: a copy of processes/ whose main process, jury
step, withdrawal message and title field are all renamed (diagrams and contract) deploys and runs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from engine import Invalid, Queries, campaigns_api, completed_steps
from engine.contract import CONTRACT_FILE, UNDECLARED, parse_contract
from engine.deployments import DeploymentStore
from engine.persistence.models import DeploymentFile
from tests.factories import PORTEUR, Walker

ROOT = Path(__file__).parents[2]

CONTRACT = "processes/contract.json"


def _contract(models) -> dict:
    """The manifest of the dossiers' family (``candidature``)."""
    return json.loads((models / CONTRACT).read_text())["families"]["candidature"]


def _write(models, contract: dict) -> None:
    document = json.loads((models / CONTRACT).read_text())
    document["families"]["candidature"] = contract
    (models / CONTRACT).write_text(json.dumps(document))


def _edit(models, path: str, old: str, new: str) -> None:
    file = models / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new))


def _assert_refused(engine, models, *named: str) -> None:
    """The deploy is refused naming the contract file and every one of ``named``; nothing is stored."""
    with pytest.raises(Invalid) as refused:
        engine.deploy_directory(models, author="tests")
    err = refused.value
    assert err.code == "model.invalid" and err.file == CONTRACT_FILE
    for text in named:
        assert text in str(err) and text in err.params["detail"], (text, str(err))
    with engine.session() as session:
        assert engine.deployments.current(session) is None


def test_the_dsdt_contract_is_parsed_with_the_models(engine):
    contract = engine.contract(1)
    assert contract.main_process == "dsdt_candidature"
    assert contract.fields["outcome"] == "issue" and contract.withdrawal.message == "retrait_porteur"
    assert contract.jury_steps == {"examen_territorial", "examen_regional"}


def test_a_model_without_contract_is_refused(bare_engine, models):
    (models / CONTRACT).unlink()
    _assert_refused(bare_engine, models, "contract.json is missing")


def test_malformed_json_is_refused(bare_engine, models):
    (models / CONTRACT).write_text("{not json")
    _assert_refused(bare_engine, models, "malformed JSON")


@pytest.mark.parametrize("key", ["main_process", "start_data", "fields", "porteur_steps", "jury", "withdrawal"])
def test_every_key_is_required(bare_engine, models, key):
    contract = _contract(models)
    del contract[key]
    _write(models, contract)
    _assert_refused(bare_engine, models, f"missing {key}")


def test_an_unknown_key_is_refused(bare_engine, models):
    _write(models, {**_contract(models), "porteur_step": []})
    _assert_refused(bare_engine, models, "unknown keys porteur_step")


def test_a_missing_field_role_is_refused(bare_engine, models):
    contract = _contract(models)
    del contract["fields"]["reason"]
    _write(models, contract)
    _assert_refused(bare_engine, models, "fields is missing reason")


def test_a_wrong_type_is_refused(bare_engine, models):
    _write(models, {**_contract(models), "porteur_steps": "contact"})
    _assert_refused(bare_engine, models, "porteur_steps must be a list")


def test_a_regional_jury_value_needs_the_jury_type_field(bare_engine, models):
    contract = _contract(models)
    contract["fields"]["jury_type"] = None
    _write(models, contract)
    _assert_refused(bare_engine, models, "jury.regional_type", "fields.jury_type")


def test_the_main_process_must_exist(bare_engine, models):
    _write(models, {**_contract(models), "main_process": "candidature"})
    _assert_refused(bare_engine, models, "main_process 'candidature'", "dsdt_candidature")


def test_a_renamed_step_not_renamed_in_the_contract_is_refused(bare_engine, models):
    for old in ('"signature_porteur"', ">signature_porteur<"):  # the id, where flows, lanes and DI name it
        _edit(models, "processes/phase_convention.bpmn", old, old.replace("signature_porteur", "signature_du_porteur"))
    _assert_refused(bare_engine, models, "porteur step 'signature_porteur' is not a user task")


def test_a_porteur_step_outside_the_porteur_lane_is_refused(bare_engine, models):
    contract = _contract(models)
    contract["porteur_steps"].append("recevabilite")
    _write(models, contract)
    _assert_refused(bare_engine, models, "porteur step 'recevabilite'", "Instructeur Région")


def test_a_porteur_lane_task_missing_from_the_contract_is_refused(bare_engine, models):
    contract = _contract(models)
    contract["porteur_steps"].remove("complements")
    _write(models, contract)
    _assert_refused(bare_engine, models, "'complements' sits in the porteur's lane")


def test_a_jury_step_must_be_a_user_task(bare_engine, models):
    contract = _contract(models)
    contract["jury"]["steps"].append("synthese_jury")
    _write(models, contract)
    _assert_refused(bare_engine, models, "jury step 'synthese_jury' is not a user task")


def test_the_jury_form_must_have_the_conflict_field(bare_engine, models):
    contract = _contract(models)
    contract["jury"]["conflict_field"] = "conflit"
    _write(models, contract)
    _assert_refused(bare_engine, models, "examen_jury.schema.json has no field 'conflit'")


def test_the_withdrawal_message_must_be_caught(bare_engine, models):
    contract = _contract(models)
    contract["withdrawal"]["message"] = "retrait"
    _write(models, contract)
    _assert_refused(bare_engine, models, "withdrawal message 'retrait'")


def test_a_data_field_nothing_writes_is_refused(bare_engine, models):
    contract = _contract(models)
    contract["fields"]["title"] = "intitule"
    _write(models, contract)
    _assert_refused(bare_engine, models, "fields.title", "'intitule'")


def test_a_stored_deployment_without_contract_loads_under_the_old_names(engine):
    """Versions deployed before contracts keep replaying: they run under the names of that time."""
    with engine.session() as session, session.begin():
        session.query(DeploymentFile).filter(DeploymentFile.path == CONTRACT_FILE).delete()
    DeploymentStore.forget_parsed()
    store = DeploymentStore()
    with engine.session() as session:
        assert store.models(session, 1).contract == UNDECLARED
    # the names of that time are today's DSDT contract (they diverge only when the model changes)
    assert dataclasses.replace(parse_contract((ROOT / CONTRACT).read_bytes()), others=()) == UNDECLARED


def test_a_dossier_runs_and_replays_on_a_deployment_without_contract(engine, clock):
    """Not only loaded: a whole dossier goes through the old version (its title, jury steps and
    outcome read under the names of that time), and its journal replays to the same state."""
    with engine.session() as session, session.begin():
        session.query(DeploymentFile).filter(DeploymentFile.path == CONTRACT_FILE).delete()
    DeploymentStore.forget_parsed()
    walker = Walker(engine, clock)
    iid = walker.start()
    assert engine.instance(iid).deployment_id == 1
    walker.to_jury(iid)
    walker.jury(iid, score=4)
    walker.favourable_opinion(iid)
    walker.through_decision_and_convention(iid)
    with engine.session() as session:
        assert engine.deployments.models(session, 1).contract == UNDECLARED
    status, outcome, _ = walker.outcome(iid)
    assert status == "completed" and outcome, (status, outcome)
    assert engine.instance(iid).title  # the title field of that time
    DeploymentStore.forget_parsed()  # replayed as a fresh process would
    report = engine.verify()
    assert report.diverged == [] and report.verified == report.instances >= 1


# -- renaming everything the contract names: Python still runs it -----------------------------------


def _rename_everything(models) -> None:
    for name in ("dsdt_candidature.bpmn", "phase_convention.bpmn"):
        _edit(models, f"processes/{name}", "retrait_porteur", "abandon_porteur")
    _edit(models, "processes/dsdt_candidature.bpmn", "dsdt_candidature", "candidature_principale")
    _edit(models, "processes/phase_jury.bpmn", "examen_territorial", "examen_local")
    _edit(models, "processes/phase_contact.bpmn", 'titre_projet = contact["titre_projet"]',
          'intitule = contact["titre_projet"]')
    contract = _contract(models)
    contract["main_process"] = "candidature_principale"
    contract["jury"]["steps"] = ["examen_local", "examen_regional"]
    contract["withdrawal"]["message"] = "abandon_porteur"
    contract["fields"]["title"] = "intitule"
    _write(models, contract)


def test_renamed_steps_message_process_and_field_deploy_and_run(bare_engine, models, clock):
    _rename_everything(models)
    bare_engine.deploy_directory(models, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    walker = Walker(bare_engine, clock)
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    assert {view.bpmn_id for view in bare_engine.task_views(iid)} == {"examen_local"}
    views = bare_engine.task_views(iid)
    walker.evaluate(iid, views[0], conflict=True)
    walker.evaluate(iid, views[1], score=4)
    queries = Queries(bare_engine)
    dossier = queries.dossier(iid)
    contact = next(e for e in queries.timeline(iid) if e.bpmn_id == "contact")
    assert dossier.title == contact.data["titre_projet"]  # read through fields.title = intitule
    assert queries.declared_conflict(iid, views[0].assignee)  # the renamed jury step's conflict field
    assert not queries.declared_conflict(iid, views[1].assignee)
    contract = queries.contract(dossier.deployment_id)
    done = completed_steps(queries.timeline(iid), contract.jury_steps)
    assert [e.actor for e in done if e.bpmn_id == "examen_local"] == [views[0].assignee, views[1].assignee]
    assert bare_engine.can_withdraw(iid)
    bare_engine.withdraw(PORTEUR, iid, "Projet abandonné")
    status, outcome, _ = walker.outcome(iid)
    assert (status, outcome) == ("completed", "abandonne")
    assert bare_engine.verify().diverged == []


def test_a_message_correlated_on_the_declared_reference_field_narrows_to_that_dossier(bare_engine, models):
    """The reference field is the contract's: a correlation on it is looked up by the indexed ref."""
    from engine import events

    contract = _contract(models)
    contract["start_data"]["reference"] = "reference_candidature"
    _write(models, contract)
    bare_engine.deploy_directory(models, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    bare_engine.save_campaign(code, libelle, data)
    first, second = (bare_engine.start(PORTEUR, code) for _ in range(2))
    ref = bare_engine.instance(second).ref
    assert bare_engine.data(second)["reference_candidature"] == ref and "dossier_ref" not in bare_engine.data(second)
    with bare_engine.db.engine.connect() as connection:
        assert events.running_instances(connection, {"reference_candidature": ref}, bare_engine.deployments) == [second]
        assert events.running_instances(connection, {"dossier_ref": ref}, bare_engine.deployments) == [first, second]
