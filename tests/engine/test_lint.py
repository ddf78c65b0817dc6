"""engine.bpmn.lint: every reason deploy would refuse a file set, one case per rule.

The fixture tests/data/lint/ok is a small model holding one of each thing lint checks; each test
breaks one thing by replacing text and expects the rule, file and element named.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import Invalid
from engine.bpmn.lint import lint_files
from engine.bpmn.parser import parse_models
from engine.deployments import compile_model_code, read_model_files
from engine.model_drafts import MAX_FILE_BYTES, MAX_FILES

DATA = Path(__file__).resolve().parent.parent / "data" / "lint"
ROOT = Path(__file__).resolve().parents[2]
BPMN, DMN, CONTRACT = "processes/mini.bpmn", "processes/orientation.dmn", "processes/contract.json"
SCHEMA, UI = "forms/avis.schema.json", "forms/avis.uischema.json"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def ok_files() -> dict[str, bytes]:
    return read_model_files(DATA / "ok")


def changed(path: str, old: str, new: str) -> dict[str, bytes]:
    files = ok_files()
    text = files[path].decode()
    assert old in text, old
    files[path] = text.replace(old, new).encode()
    return files


def rules(files) -> list[tuple[str, str | None, str | None]]:
    return [(p.rule, p.file, p.element_id) for p in lint_files(files, NOW)]


def test_the_fixture_and_the_real_model_have_no_problem():
    assert lint_files(ok_files(), NOW) == []
    assert lint_files(read_model_files(ROOT), NOW) == []


def test_a_file_over_the_size_limit_is_named_and_not_read():
    files = ok_files()
    files["forms/gros.schema.json"] = b" " * (MAX_FILE_BYTES + 1)
    found = lint_files(files, NOW)
    assert [(p.rule, p.file, p.code) for p in found] == [("file-size", "forms/gros.schema.json",
                                                          "model_draft.file_too_large")]


def test_too_many_files():
    files = ok_files()
    files.update({f"forms/f{i}.uischema.json": b"{}" for i in range(MAX_FILES)})
    assert ("file-count", None, None) in rules(files)


def test_a_file_that_is_not_a_model_file():
    files = ok_files()
    files["processes/notes.txt"] = b"hello"
    assert rules(files) == [("file-type", "processes/notes.txt", None)]


def test_malformed_xml_names_file_and_line():
    found = lint_files(changed(BPMN, '<bpmn:endEvent id="fin" />', '<bpmn:endEvent id="fin">'), NOW)
    assert [(p.rule, p.file) for p in found] == [("xml", BPMN)]
    assert found[0].line is not None


@pytest.mark.parametrize("fixture", ["billion_laughs.bpmn", "external_entity.bpmn"])
def test_a_doctype_is_refused_before_any_entity_is_read(fixture):
    files = ok_files()
    files[BPMN] = (DATA / fixture).read_bytes()
    found = lint_files(files, NOW)
    assert [(p.rule, p.file) for p in found] == [("xml", BPMN)]
    assert "DOCTYPE" in found[0].message and "root:" not in found[0].message


def test_the_engines_parser_errors_name_the_element():
    found = lint_files(changed(BPMN, 'targetRef="calcul"', 'targetRef="nulle_part"'), NOW)
    assert [p.rule for p in found] == ["parser"]
    assert "nulle_part" in found[0].message or found[0].element_id


def test_a_form_that_is_not_json():
    assert rules(changed(SCHEMA, '"type": "object",', '"type": "object"')) == [("form-json", SCHEMA, None)]


def test_a_form_that_is_not_a_json_schema():
    assert rules(changed(SCHEMA, '"type": "string"', '"type": 12')) == [("form-schema", SCHEMA, None)]


def test_a_ui_schema_that_does_not_map_fields_to_objects():
    assert rules(changed(UI, '{"ui:widget": "textarea"}', '3')) == [("form-schema", UI, None)]


def test_a_form_field_without_bounds():
    assert rules(changed(SCHEMA, ', "maxLength": 2000', '')) == [("form-bounds", SCHEMA, None)]


def test_the_contract_missing_malformed_or_naming_an_unknown_process():
    files = ok_files()
    del files[CONTRACT]
    assert rules(files) == [("contract", CONTRACT, None)]
    assert rules(changed(CONTRACT, '"main_process": "mini",', '')) == [("contract", CONTRACT, None)]
    assert rules(changed(CONTRACT, '"main_process": "mini"', '"main_process": "autre"')) == \
        [("contract", CONTRACT, None)]


def test_the_contract_naming_a_field_nothing_writes():
    assert rules(changed(CONTRACT, '"outcome": "issue"', '"outcome": "resultat"')) == [("contract", CONTRACT, None)]


def test_a_called_process_that_no_file_defines():
    assert rules(changed(BPMN, 'calledElement="mini_sous"', 'calledElement="absent"')) == \
        [("call-unresolved", BPMN, "sous")]


def test_a_called_decision_that_no_file_defines():
    assert rules(changed(BPMN, "<spiffworkflow:calledDecisionId>orientation<",
                         "<spiffworkflow:calledDecisionId>absente<")) == [("decision-unresolved", BPMN, "orienter")]


def test_a_lane_that_is_not_a_role():
    assert rules(changed(BPMN, 'name="Instructeur Région"', 'name="Stagiaire"')) == [("lane-role", BPMN, "avis")]


def test_a_user_task_in_the_automatic_lane():
    files = changed(BPMN, "        <bpmn:flowNodeRef>avis</bpmn:flowNodeRef>\n", "")
    files[BPMN] = files[BPMN].replace(b"<bpmn:flowNodeRef>fin</bpmn:flowNodeRef>",
                                      b"<bpmn:flowNodeRef>fin</bpmn:flowNodeRef><bpmn:flowNodeRef>avis</bpmn:flowNodeRef>")
    assert rules(files) == [("lane-role", BPMN, "avis")]


def test_a_form_reference_that_does_not_exist():
    assert rules(changed(BPMN, 'value="avis.schema.json"', 'value="absent.schema.json"')) == \
        [("form-reference", BPMN, "avis")]


def test_a_construct_the_engine_cannot_run():
    files = changed(BPMN, '<bpmn:scriptTask id="calcul" name="Calcul">', '<bpmn:manualTask id="calcul" name="Calcul">')
    files[BPMN] = files[BPMN].replace(b"note = 1</bpmn:script>\n    </bpmn:scriptTask>",
                                      b"note = 1</bpmn:script>\n    </bpmn:manualTask>")
    assert ("construct", BPMN, "calcul") in rules(files)


def test_a_script_that_does_not_compile_names_its_line():
    found = lint_files(changed(BPMN, "note = 1</bpmn:script>", "note = = 1</bpmn:script>"), NOW)
    assert [(p.rule, p.file, p.element_id, p.line) for p in found] == [("script", BPMN, "calcul", 2)]


def test_a_script_that_imports_a_module():
    found = lint_files(changed(BPMN, "note = 1</bpmn:script>", "import os\nnote = 1</bpmn:script>"), NOW)
    assert [(p.rule, p.element_id, p.line, p.code) for p in found] == [("script", "calcul", 2, "model.script_invalid")]


def test_a_script_reaching_outside_the_sandbox():
    assert rules(changed(BPMN, "note = 1</bpmn:script>", "note = montant.__class__</bpmn:script>")) == \
        [("script", BPMN, "calcul")]


def test_a_condition_that_does_not_compile():
    assert rules(changed(BPMN, "note &gt; 0</bpmn:conditionExpression>", "note &gt;</bpmn:conditionExpression>")) == \
        [("script", BPMN, "choix")]


def test_a_decision_cell_outside_the_script_restrictions():
    assert rules(changed(DMN, '<text>"region"</text>', '<text>montant.__class__</text>')) == \
        [("script", DMN, "regle_region_out")]


def test_a_decision_cell_the_engines_parser_refuses():
    assert rules(changed(DMN, '<text>"region"</text>', '<text>"region</text>')) == [("parser", DMN, "regle_region_out")]


@pytest.mark.parametrize("value", ['"P99Y"', '"quinze jours"', '12'])
def test_a_timer_written_in_the_diagram_out_of_bounds_or_unparsable(value):
    assert rules(changed(BPMN, '>"P15D"<', f">{value}<")) == [("timer", BPMN, "attente")]


def test_a_timer_expression_that_does_not_compile():
    assert rules(changed(BPMN, '>"P15D"<', '>"P15D" +<')) == [("script", BPMN, "attente")]


def test_every_problem_is_reported_not_only_the_first():
    files = changed(BPMN, 'name="Instructeur Région"', 'name="Stagiaire"')
    files[BPMN] = files[BPMN].replace(b"note = 1</bpmn:script>", b"import os\nnote = 1</bpmn:script>")
    files[BPMN] = files[BPMN].replace(b'>"P15D"<', b'>"P99Y"<')
    found = rules(files)
    assert ("lane-role", BPMN, "avis") in found and ("script", BPMN, "calcul") in found \
        and ("timer", BPMN, "attente") in found


def test_problems_carry_a_translatable_code_and_params():
    for problem in lint_files(changed(BPMN, 'calledElement="mini_sous"', 'calledElement="absent"'), NOW):
        assert problem.code == "model.invalid" and "absent" in problem.params["detail"]
        assert json.loads(json.dumps(problem.as_json()))["rule"] == "call-unresolved"


def test_deploy_refuses_a_script_that_imports_a_module():
    files = changed(BPMN, "note = 1</bpmn:script>", "import os\nnote = 1</bpmn:script>")
    with pytest.raises(Invalid) as caught:
        compile_model_code(parse_models(files), strict=True)
    assert caught.value.bpmn_id == "calcul" and caught.value.line == 1 + 1
