"""Form validation: per-field errors, and the fast check never accepting what the reference refuses."""

from __future__ import annotations

import copy
import json
import random
from datetime import date

import pytest

from engine import Invalid
from engine.forms import make_validator, validate_form
from engine.simulation.fake_data import generate
from tests.conftest import ROOT

FORMS = sorted(path.name for path in (ROOT / "forms").glob("*.schema.json"))
BAD_VALUES = [None, "", "abc", -1, 10**9, 3.5, True, [], {}, "2015-13-45", "31/12/2014", "pas un email", "x" * 5000]


def _mutations(data: dict, rng: random.Random, count: int):
    paths = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append((*path, key))
                walk(item, (*path, key))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                paths.append((*path, n))
                walk(item, (*path, n))

    walk(data, ())
    for _ in range(count):
        mutated = copy.deepcopy(data)
        path = rng.choice(paths)
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(BAD_VALUES)
        yield mutated


@pytest.mark.parametrize("form", FORMS)
def test_the_fast_check_never_accepts_what_the_reference_refuses(form):
    schema = json.loads((ROOT / "forms" / form).read_text())
    validator = make_validator(schema)
    rng = random.Random(form)
    data = generate(schema, rng, date(2014, 10, 1))
    assert validator.reference.is_valid(data)
    assert validator._fast.is_valid(data)  # a fast check refusing everything would pass the loop below
    refused = 0
    for mutated in _mutations(data, rng, 150):
        if validator._fast.is_valid(mutated):
            assert validator.reference.is_valid(mutated), mutated
        refused += not validator.reference.is_valid(mutated)
    assert refused  # the mutations did put invalid data in front of the fast check


def test_errors_are_reported_per_field_with_the_reference_messages():
    schema = json.loads((ROOT / "forms" / "recevabilite.schema.json").read_text())
    with pytest.raises(Invalid) as caught:
        validate_form(make_validator(schema), {"decision": "incomplet"}, form_name="recevabilite.schema.json")
    assert set(caught.value.errors) == {"pieces_manquantes", "date_limite_reponse"}
    assert all("required property" in messages[0] for messages in caught.value.errors.values())
