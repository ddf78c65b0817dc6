"""A model declares several process families (contract.json ``families``); the shape stored
before families (one manifest) still reads as the one family ``candidature``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import Invalid
from engine.contract import DEFAULT_FAMILY, UNDECLARED, parse_contract

ROOT = Path(__file__).parents[2]
CONTRACT = "processes/contract.json"


def _document() -> dict:
    return json.loads((ROOT / CONTRACT).read_text())


def test_the_dsdt_model_declares_applications_and_conventions():
    contract = parse_contract((ROOT / CONTRACT).read_bytes())
    assert contract.family == "candidature" and contract.main_process == "dsdt_candidature"
    convention = contract.families["convention"]
    assert convention.main_process == "dsdt_convention_epci"
    assert convention.start_fields["epci"] == "epci" and convention.fields["priorities"] == "priorites_signees"
    assert convention.porteur_steps == frozenset() and convention.jury is None and convention.withdrawal is None


def test_the_old_shape_is_one_family():
    old = _document()["families"]["candidature"]
    contract = parse_contract(json.dumps(old).encode())
    assert contract.family == DEFAULT_FAMILY and list(contract.families) == [DEFAULT_FAMILY]
    assert contract == UNDECLARED
    assert contract.start_fields["epci"] is None and contract.fields["priorities"] is None


@pytest.mark.parametrize("change, named", [
    (lambda d: d["families"]["convention"].pop("fields"), "families.convention.missing fields"),
    (lambda d: d["families"].update({"Convention!": d["families"].pop("convention")}), "family name"),
    (lambda d: d["families"]["convention"].update(main_process="dsdt_candidature"), "same main_process"),
    (lambda d: d.update(main_process="dsdt_candidature"), "beside families"),
    (lambda d: d.update(families={}), "non-empty"),
    (lambda d: d["families"]["convention"]["fields"].update(priorities=""), "families.convention.fields.priorities"),
])
def test_a_broken_family_is_refused_naming_where(change, named):
    document = _document()
    change(document)
    with pytest.raises(Invalid) as refused:
        parse_contract(json.dumps(document).encode())
    assert named in refused.value.params["detail"]


def test_a_family_whose_process_is_missing_is_refused_at_deploy(bare_engine, models):
    document = json.loads((models / CONTRACT).read_text())
    document["families"]["convention"]["main_process"] = "convention_absente"
    (models / CONTRACT).write_text(json.dumps(document))
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy_directory(models, author="tests")
    assert "convention_absente" in str(refused.value)


def test_a_family_field_nothing_writes_is_refused_at_deploy(bare_engine, models):
    document = json.loads((models / CONTRACT).read_text())
    document["families"]["convention"]["fields"]["priorities"] = "priorites_jamais_ecrites"
    (models / CONTRACT).write_text(json.dumps(document))
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy_directory(models, author="tests")
    assert "priorites_jamais_ecrites" in str(refused.value)
