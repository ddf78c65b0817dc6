"""POST /api/messages: a correlated BPMN message delivered over the token API."""

from __future__ import annotations

import pytest

from .test_api import Api


@pytest.fixture
def api(client, services):
    return Api(client, services)


def _withdraw(api, login, ref, payload=None):
    return api.post("/messages", login, {"name": "retrait_porteur", "correlation": {"dossier_ref": ref},
                                         "payload": payload if payload is not None else {"motif": "Projet abandonné"}})


def test_a_correlated_message_reaches_only_its_dossier(api, services, make_dossier):
    first, second = make_dossier("fiche"), make_dossier("fiche")
    ref = services.queries.dossier(first).ref
    response = _withdraw(api, "instructeur1", ref)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"reached": [first]}
    assert services.queries.dossier(first).status != "running"
    assert services.queries.dossier(second).status == "running"
    # delivered once: the closed dossier no longer waits, so nothing receives it now
    again = _withdraw(api, "instructeur1", ref)
    assert again.status_code == 404 and again.get_json()["reason"] == "event.no_receiver"


@pytest.mark.parametrize("login", ["porteur1", "tech.epci.cab", "auditeur"])
def test_other_roles_are_refused_and_nothing_moves(api, services, make_dossier, login):
    first = make_dossier("fiche")
    response = _withdraw(api, login, services.queries.dossier(first).ref)
    assert response.status_code in (401, 403)
    assert services.queries.dossier(first).status == "running"


def test_no_token_is_401(api, services, make_dossier):
    assert _withdraw(api, None, "DSDT-0").status_code == 401


def test_bad_bodies_are_422_and_change_nothing(api, services, make_dossier):
    first = make_dossier("fiche")
    ref = services.queries.dossier(first).ref
    assert _withdraw(api, "instructeur1", ref, payload=[1]).status_code == 422
    assert _withdraw(api, "instructeur1", ref, payload={"x": "y" * 200_000}).status_code == 422
    no_correlation = api.post("/messages", "instructeur1", {"name": "retrait_porteur", "correlation": {}})
    assert no_correlation.status_code == 422 and no_correlation.get_json()["reason"] == "event.correlation_required"
    assert api.post("/messages", "instructeur1", {"correlation": {"dossier_ref": ref}}).status_code == 422
    nested = api.post("/messages", "instructeur1", {"name": "retrait_porteur", "correlation": {"dossier_ref": [ref]}})
    assert nested.status_code == 422
    assert services.queries.dossier(first).status == "running"


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/messages"]
