"""The semantic diff between two versions: BPMN elements, form fields and DMN rules, one case per change."""

from __future__ import annotations

import json

import pytest

from engine import Actor, Invalid, read_model_files
from engine.model_diff import diff_models
from engine.versions import diff_versions, list_versions
from tests.conftest import ROOT

FILES = read_model_files(ROOT)


def _edit(path: str, old: str, new: str) -> dict[str, bytes]:
    text = FILES[path].decode()
    assert old in text, f"{old!r} not in {path}"
    return {**FILES, path: text.replace(old, new, 1).encode()}


def _one(items):
    assert len(items) == 1, items
    return items[0]


def test_identical_files_have_no_difference():
    assert diff_models(FILES, dict(FILES)).empty


def test_a_renamed_step_is_a_changed_element_with_its_attribute():
    item = _one(diff_models(FILES, _edit("processes/phase_convention.bpmn", 'name="Notifier la convention"',
                                         'name="Notifier la convention signée"')).bpmn)
    assert (item.id, item.kind, item.type) == ("notification_convention", "changed", "userTask")
    assert [(c.what, c.old, c.new) for c in item.changes] == [
        ("@name", "Notifier la convention", "Notifier la convention signée")]


def test_a_changed_timer_expression_is_a_change_of_its_event():
    item = _one(diff_models(FILES, _edit("processes/phase_dossier.bpmn", 'campagne["date_limite_dossier"]',
                                         'campagne["date_limite_dossier_prolongee"]')).bpmn)
    assert item.kind == "changed" and item.type == "boundaryEvent"
    (change,) = item.changes
    assert change.what == "timerEventDefinition/timeDate" and change.new == 'campagne["date_limite_dossier_prolongee"]'


def test_a_changed_condition_is_a_change_of_its_flow():
    item = _one(diff_models(FILES, _edit("processes/phase_fiche.bpmn", '== "non_adequate"', '== "inadequate"')).bpmn)
    assert item.type == "sequenceFlow" and item.changes[0].what == "conditionExpression"


def test_an_added_and_a_removed_element():
    files = _edit("processes/phase_convention.bpmn", 'name="Notifier la convention"', 'name="x"')
    added = diff_models(FILES, {**files, "processes/extra.bpmn": FILES["processes/phase_convention.bpmn"]})
    assert "processes/extra.bpmn" in added.files_added
    assert {item.kind for item in added.bpmn if item.file == "processes/extra.bpmn"} == {"added"}
    removed = diff_models({**FILES, "processes/extra.bpmn": FILES["processes/phase_convention.bpmn"]}, FILES)
    marks = removed.marks("processes/extra.bpmn")
    assert marks["notification_convention"] == "removed" and set(marks.values()) == {"removed"}


def test_form_fields_added_removed_and_changed():
    schema = json.loads(FILES["forms/contact.schema.json"])
    first, second = list(schema["properties"])[:2]
    del schema["properties"][first]
    schema["properties"][second]["title"] = "Nouveau libellé"
    schema["properties"]["budget_total"] = {"type": "number", "title": "Budget total"}
    diff = diff_models(FILES, {**FILES, "forms/contact.schema.json": json.dumps(schema).encode()})
    by_field = {item.id: item for item in diff.forms}
    assert by_field[first].kind == "removed"
    assert by_field["budget_total"].kind == "added" and by_field["budget_total"].name == "Budget total"
    assert by_field[second].kind == "changed" and by_field[second].changes[0].what == "definition"
    assert len(diff.forms) == 3 and not diff.bpmn


def test_a_field_made_required_is_a_change():
    schema = json.loads(FILES["forms/contact.schema.json"])
    optional = next(name for name in schema["properties"] if name not in schema.get("required", []))
    schema["required"] = [*schema.get("required", []), optional]
    item = _one(diff_models(FILES, {**FILES, "forms/contact.schema.json": json.dumps(schema).encode()}).forms)
    assert (item.id, item.changes[0].what, item.changes[0].new) == (optional, "required", "True")


def test_decision_rows_added_removed_and_changed():
    text = FILES["processes/avis_jury.dmn"].decode()
    changed = text.replace('<outputEntry id="avis_regle_1_out"><text>"ajourne"</text>',
                           '<outputEntry id="avis_regle_1_out"><text>"defavorable"</text>', 1)
    start = changed.index('<rule id="avis_regle_2">')
    end = changed.index("</rule>", start) + len("</rule>")
    rule_two = changed[start:end]
    changed = changed[:start] + changed[end:]  # rule 2 removed
    changed = changed.replace("</decisionTable>", rule_two.replace("avis_regle_2", "avis_regle_9") + "</decisionTable>")
    diff = diff_models(FILES, {**FILES, "processes/avis_jury.dmn": changed.encode()})
    kinds = {item.id: item.kind for item in diff.dmn}
    assert kinds == {"avis_regle_1": "changed", "avis_regle_2": "removed", "avis_regle_9": "added"}
    rule_one = next(item for item in diff.dmn if item.id == "avis_regle_1")
    assert rule_one.parent == "avis_jury"
    assert [(c.what, c.old, c.new) for c in rule_one.changes] == [("outputEntry/text", '"ajourne"', '"defavorable"')]


def test_a_file_that_does_not_parse_is_refused_not_guessed():
    with pytest.raises(Invalid):
        diff_models(FILES, {**FILES, "processes/phase_fiche.bpmn": b"<bpmn:definitions"})


def test_versions_list_their_dossiers_and_diff_by_number(engine, clock, models):
    engine.start(Actor("asso.alpha", frozenset({"porteur"})), "DSDT-2014")
    path = models / "processes/phase_convention.bpmn"
    path.write_text(path.read_text().replace('name="Notifier la convention"', 'name="Notifier"'))
    engine.deploy_directory(models, author="owner", comment="libellé")
    with engine.session() as session:
        versions = list_versions(session)
        assert [(v.version, v.author, v.comment, v.dossiers, v.running) for v in versions] == [
            (2, "owner", "libellé", 0, 0), (1, "tests", "", 1, 1)]
        assert len(versions[0].content_hash) == 64
        diff = diff_versions(session, engine.deployments, 1, 2)
    assert diff.marks("processes/phase_convention.bpmn") == {"notification_convention": "changed"}
