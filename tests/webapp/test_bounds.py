"""Bounds on every input: oversized text, ids and page numbers beyond 64 bits, numbers beyond the
JSON-safe range and deeply nested JSON get a clear 4xx, never a 500, and change nothing."""

from __future__ import annotations

import json

import pytest

from engine import Actor, Invalid, limits
from engine.forms import field_errors, make_validator

from .conftest import ROOT
from .test_api import Api, first_step

HUGE_ID = "99999999999999999999999"
TWENTY_MIB = "x" * (20 * 1024 * 1024)


@pytest.fixture
def api(client, services):
    return Api(client, services)


def _journal_length(services, instance_id: int) -> int:
    return len(services.queries.timeline(instance_id))


# -- free text -----------------------------------------------------------------------------------


def test_a_20_mib_withdrawal_reason_is_refused_over_the_api_and_nothing_is_journaled(api, services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    before = _journal_length(services, instance_id)
    response = api.post(f"/dossiers/{instance_id}/withdraw", "porteur3", {"motif": TWENTY_MIB})
    assert response.status_code in (413, 422), response.status_code
    assert response.is_json and response.get_json()["code"] in ("too_large", "invalid")
    assert _journal_length(services, instance_id) == before
    assert services.queries.dossier(instance_id).status == "running"


def test_a_reason_over_the_limit_is_a_field_error_over_the_api(api, services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    response = api.post(f"/dossiers/{instance_id}/withdraw", "porteur3", {"motif": "m" * (limits.MAX_TEXT + 1)})
    assert response.status_code == 422 and "motif" in response.get_json()["errors"]
    assert services.queries.dossier(instance_id).status == "running"


def test_the_engine_refuses_an_oversized_withdrawal_reason(services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    before = _journal_length(services, instance_id)
    with pytest.raises(Invalid) as caught:
        services.engine.withdraw(Actor("porteur3", frozenset({"porteur"})), instance_id, "m" * (limits.MAX_TEXT + 1))
    assert "motif" in caught.value.errors
    assert _journal_length(services, instance_id) == before


def test_a_json_body_is_parsed_once(api, services, make_dossier, monkeypatch):
    """The bounds check parses the body; the API's arguments parser reads that value, not the body again."""
    instance_id = make_dossier("contact", porteur="porteur3")
    parsed = []
    loads = json.loads

    def counting(text, *args, **kwargs):
        value = loads(text, *args, **kwargs)
        if isinstance(value, dict) and "motif" in value:
            parsed.append(value)
        return value

    monkeypatch.setattr(json, "loads", counting)
    response = api.post(f"/dossiers/{instance_id}/withdraw", "porteur3", {"motif": "m" * (limits.MAX_TEXT + 1)})
    assert response.status_code == 422 and "motif" in response.get_json()["errors"]  # the schema saw the body
    assert len(parsed) == 1


def test_malformed_json_is_still_a_400(api, services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    response = api.client.post(f"/api/dossiers/{instance_id}/withdraw", data=b'{"motif": ',
                               content_type="application/json", headers=api.headers("porteur3"))
    assert response.status_code == 400 and response.is_json


def test_an_oversized_withdrawal_reason_on_the_page_changes_nothing(auth, services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    before = _journal_length(services, instance_id)
    auth.login("porteur3")
    for motif in ("m" * (limits.MAX_TEXT + 1), TWENTY_MIB):
        response = auth.post(f"/dossiers/{instance_id}/retrait", {"motif": motif})
        assert response.status_code in (302, 400, 413, 422), response.status_code
    assert _journal_length(services, instance_id) == before
    assert services.queries.dossier(instance_id).status == "running"


def test_a_json_body_over_the_limit_is_413(api):
    response = api.post("/dossiers", "porteur3", {"campaign": "x" * (limits.MAX_JSON_BYTES + 1)})
    assert response.status_code == 413 and response.get_json()["code"] == "too_large"


def test_api_string_arguments_are_bounded(api, services):
    long = "c" * (limits.MAX_SHORT_TEXT + 1)
    start = api.post("/dossiers", "porteur3", {"campaign": long})
    assert start.status_code == 422 and "campaign" in start.get_json()["errors"]
    listing = api.get(f"/tasks?step={long}", "instructeur1")
    assert listing.status_code == 422 and "step" in listing.get_json()["errors"]


# -- ids and page numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/dossiers/{HUGE_ID}",
        f"/dossiers/{2**63}",
        f"/dossiers/{HUGE_ID}/tasks/cand_contact.0/claim",
    ],
)
def test_an_id_beyond_64_bits_is_404_on_the_api(api, path):
    response = api.get(path, "instructeur1") if not path.endswith("claim") else api.post(path, "instructeur1")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


@pytest.mark.parametrize("path", [f"/dossiers/{HUGE_ID}", f"/dossiers/{2**64}/diagram.json"])
def test_an_id_beyond_64_bits_is_404_on_the_pages(auth, path):
    auth.login("instructeur1")
    assert auth.client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/tasks", "/dossiers"])
def test_a_page_number_beyond_64_bits_is_refused(api, path):
    response = api.get(f"{path}?page={2**70}", "instructeur1")
    assert response.status_code == 422 and "page" in response.get_json()["errors"]


def test_the_inbox_page_survives_a_page_number_beyond_64_bits(auth):
    auth.login("instructeur1")
    assert auth.client.get(f"/taches/?page={2**70}").status_code in (200, 404, 422)


# -- JSON: depth, integers, non-finite numbers ---------------------------------------------------


def test_json_nested_5000_deep_is_refused(api):
    body = '{"campaign": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api.client.post(
        "/api/dossiers", data=body, content_type="application/json", headers=api.headers("porteur3")
    )
    assert response.status_code in (400, 422) and response.is_json


def test_json_nested_deep_in_a_string_is_only_text(api):
    body = '{"campaign": "' + "[" * 5000 + '"}'
    response = api.client.post(
        "/api/dossiers", data=body, content_type="application/json", headers=api.headers("porteur3")
    )
    assert response.status_code == 422 and "campaign" in response.get_json()["errors"]


@pytest.mark.parametrize("number", [str(2**60), str(-(2**60)), "1e400", "9" * 5000])
def test_a_number_beyond_the_json_safe_range_in_a_form_is_a_field_error(api, make_dossier, number):
    instance_id = make_dossier("recevabilite", "CAAC", porteur="porteur4")
    ref = first_step(api, instance_id, "instructeur1")["ref"]
    version = api.get(f"/dossiers/{instance_id}", "instructeur1").get_json()["version"]
    body = '{"data": {"decision": "recevable", "montant": ' + number + '}, "expected_version": ' + str(version) + "}"
    response = api.client.post(
        f"/api/dossiers/{instance_id}/tasks/{ref}/complete",
        data=body,
        content_type="application/json",
        headers=api.headers("instructeur1"),
    )
    assert response.status_code == 422, response.get_json()
    assert "data.montant" in response.get_json()["errors"]
    assert api.get(f"/dossiers/{instance_id}", "instructeur1").get_json()["version"] == version


@pytest.mark.parametrize("amount", [10**12, 2**60])
def test_a_form_amount_over_its_maximum_is_a_field_error(amount):
    schema = json.loads((ROOT / "forms" / "confirmation_president.schema.json").read_text())
    data = {"avis_final": "favorable", "motivation": "m" * 20, "montant_propose": amount}
    assert "montant_propose" in field_errors(make_validator(schema), data)


@pytest.mark.parametrize("page", [2**70, 2**62])
def test_the_staff_dossier_list_survives_a_page_number_beyond_64_bits(auth, page):
    auth.login("instructeur1")
    response = auth.client.get(f"/dossiers/tous?page={page}")
    assert response.status_code in (200, 404, 422), response.status_code


def test_a_draft_over_the_form_size_limit_is_refused_and_nothing_is_stored(services, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur3")
    ref = services.queries.dossier(instance_id).open_steps[0].task_ref
    with pytest.raises(Invalid) as caught:
        services.drafts.save("porteur3", instance_id, ref, {"description": "d" * (limits.MAX_JSON_BYTES + 1)})
    assert caught.value.errors
    assert services.drafts.load("porteur3", instance_id, ref) is None


def test_the_openapi_document_states_the_bounds(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["WithdrawArgs"]["properties"]["motif"]["maxLength"] == limits.MAX_TEXT
    assert schemas["StartArgs"]["properties"]["campaign"]["maxLength"] == limits.MAX_SHORT_TEXT
    data = schemas["CompleteArgs"]["properties"]["data"]
    assert data["type"] == "object" and data["maxProperties"] > 0
    assert schemas["CompleteArgs"]["properties"]["expected_version"]["maximum"] == limits.MAX_SAFE_INTEGER
    for path in ("/api/tasks", "/api/dossiers"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["page"]["schema"]["maximum"] == limits.MAX_PAGE
    dossier_id = next(p for p in spec["paths"]["/api/dossiers/{dossier_id}"]["parameters"] if p["name"] == "dossier_id")
    assert dossier_id["schema"]["maximum"] == limits.MAX_ID
