"""Every form field is bounded, and a deploy refuses a form schema that leaves one open."""

from __future__ import annotations

import copy
import json

import pytest

from engine import Invalid
from engine.forms import check_bounds
from tests.conftest import ROOT

FORMS = {path.name: json.loads(path.read_text()) for path in (ROOT / "forms").glob("*.schema.json")}


def test_every_form_in_forms_is_bounded():
    check_bounds(FORMS)


def _without(node: dict, key: str) -> dict:
    node.pop(key)
    return node


def _field(schema: dict, path: str) -> dict:
    node = schema
    for part in path.replace("[]", ".[]").split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


# form, field path, change → the field named in the refusal
OPEN = {
    "text without maxLength": ("contact.schema.json", "organisation", lambda n: _without(n, "maxLength")),
    "amount without maximum": ("fiche.schema.json", "montant_demande", lambda n: _without(n, "maximum")),
    "amount beyond 2^53": ("fiche.schema.json", "montant_demande", lambda n: n.update(maximum=2**60)),
    "count without minimum": ("dossier.schema.json", "moyens_humains.salaries", lambda n: _without(n, "minimum")),
    "list without maxItems": ("dossier.schema.json", "budget", lambda n: _without(n, "maxItems")),
    "nested text": ("dossier.schema.json", "budget[].poste", lambda n: _without(n, "maxLength")),
    "open object": ("dossier.schema.json", "identite", lambda n: _without(n, "additionalProperties")),
    "untyped field": ("recevabilite.schema.json", "pieces_manquantes", lambda n: _without(n, "type")),
}


@pytest.mark.parametrize("case", sorted(OPEN))
def test_an_unbounded_field_is_refused_naming_the_file_and_the_field(case):
    name, path, change = OPEN[case]
    forms = copy.deepcopy(FORMS)
    change(_field(forms[name], path))
    with pytest.raises(Invalid) as caught:
        check_bounds(forms)
    assert caught.value.file == name and path in caught.value.errors, caught.value.errors
    assert path in str(caught.value)


def test_a_choice_needs_no_length():
    check_bounds({"f.schema.json": {"type": "object", "additionalProperties": False, "properties": {
        "a": {"type": "string", "enum": ["x", "y"]},
        "b": {"type": "string", "oneOf": [{"const": "x"}, {"const": "y"}]},
        "c": {"type": "boolean"},
    }}})


def test_deploy_refuses_an_unbounded_form_and_keeps_the_current_version(bare_engine, models):
    current = bare_engine.deploy_directory(ROOT, author="tests")
    path = models / "forms" / "contact.schema.json"
    schema = json.loads(path.read_text())
    del schema["properties"]["theme"]["maxLength"]
    path.write_text(json.dumps(schema))
    with pytest.raises(Invalid) as caught:
        bare_engine.deploy_directory(models, author="tests")
    assert "contact.schema.json" in str(caught.value) and "theme" in caught.value.errors
    with bare_engine.session() as session:
        assert bare_engine.deployments.current(session).version == current.version
