"""The REST API through the test client: token auth, roles × endpoints, scope, commands, OpenAPI."""

from __future__ import annotations

import json

import pytest

from .conftest import dossier_at
from .test_access import LOGINS
from .test_tasks import CONTACT

STAFF_LOGINS = [login for login in LOGINS if not login.startswith("porteur")]
VALID_CONTACT = {**CONTACT, "statut_juridique": "association", "epci": "CAB"}


class Api:
    """The test client speaking to /api with one token per login."""

    def __init__(self, client, services):
        self.client = client
        self.services = services
        self.tokens: dict[str, str] = {}

    def headers(self, login: str | None) -> dict:
        if login is None:
            return {}
        if login not in self.tokens:
            self.tokens[login] = self.services.accounts.create_token(login, "tests")
        return {"Authorization": f"Bearer {self.tokens[login]}"}

    def get(self, path: str, login: str | None, **kwargs):
        return self.client.get(f"/api{path}", headers=self.headers(login), **kwargs)

    def post(self, path: str, login: str | None, body: dict | None = None):
        return self.client.post(f"/api{path}", headers=self.headers(login), json=body if body is not None else {})


@pytest.fixture
def api(client, services):
    return Api(client, services)


def open_campaign(services) -> str:
    return services.queries.campaigns(open_only=True)[0].code


def first_steps(api, instance_id: int, login: str) -> list[dict]:
    return api.get(f"/dossiers/{instance_id}", login).get_json()["steps"]


def first_step(api, instance_id: int, login: str) -> dict:
    return first_steps(api, instance_id, login)[0]


# -- authentication -----------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(api):
    for response in (api.get("/tasks", None), api.get("/dossiers", None), api.post("/dossiers", None)):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["code"] == "unauthorized"
        assert "Bearer" in response.get_json()["message"]


def test_bad_and_revoked_tokens_are_401(api, services):
    bad = api.client.get("/api/tasks", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and "invalid_token" in bad.headers["WWW-Authenticate"]
    basic = api.client.get("/api/tasks", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert basic.status_code == 401
    token = services.accounts.create_token("auditeur", "revoked")
    good = api.client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    assert services.accounts.revoke_tokens("auditeur", "revoked") == 1
    assert api.client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(api, auth, services):
    auth.login("porteur1")
    assert api.client.get("/dossiers/").status_code == 200  # the session works for the pages
    assert api.client.get("/api/dossiers").status_code == 401
    # A write with only the cookie (what a CSRF attack would send) is refused, as JSON.
    response = api.client.post("/api/dossiers", json={"campaign": open_campaign(services)})
    assert response.status_code == 401 and response.is_json


def test_bearer_writes_need_no_csrf_token(api, make_dossier):
    instance_id = make_dossier("recevabilite", "CAAC", porteur="porteur4")
    ref = first_step(api, instance_id, "instructeur1")["ref"]
    assert api.post(f"/dossiers/{instance_id}/tasks/{ref}/claim", "instructeur1").status_code == 200


# -- roles × endpoints --------------------------------------------------------------------------


@pytest.mark.parametrize("login", LOGINS)
def test_role_endpoint_matrix(api, services, login):
    cab = dossier_at(services, "recevabilite", "CAB")
    cavm = dossier_at(services, "adequation_epci", "CAVM")
    inbox = api.get("/tasks", login)
    assert inbox.status_code == (200 if login in STAFF_LOGINS else 403), login
    assert api.get("/dossiers", login).status_code == 200
    # Starting an application is for porteurs: others are refused before the body is even read.
    start = api.post("/dossiers", login, {})
    assert start.status_code == (422 if login.startswith("porteur") else 403), login
    withdraw = api.post(f"/dossiers/{cab.id}/withdraw", login, {})
    if login.startswith("porteur"):
        assert withdraw.status_code == (422 if login == cab.porteur else 404), login
    else:
        assert withdraw.status_code == 403, login
    if login.startswith("porteur"):  # their own dossier only
        expected = tuple(200 if dossier.porteur == login else 404 for dossier in (cab, cavm))
    else:
        expected = {
            "tech.epci.cab": (200, 403),
            "tech.commune.cavm": (403, 200),
            "jury.cab.elu1": (403, 403),  # neither has reached the jury
            "jury.region.president": (403, 403),
        }.get(login, (200, 200))  # regional staff see every dossier
    got = (api.get(f"/dossiers/{cab.id}", login).status_code, api.get(f"/dossiers/{cavm.id}", login).status_code)
    assert got == expected, login


def test_task_read_is_for_who_may_do_it(api, services):
    dossier = dossier_at(services, "recevabilite", "CAB")
    ref = dossier.open_steps[0].task_ref
    assert "/" in ref  # refs of sub-process steps carry slashes, sent as they are
    allowed = api.get(f"/dossiers/{dossier.id}/tasks/{ref}", "instructeur1")
    assert allowed.status_code == 200, allowed.get_json()
    body = allowed.get_json()
    assert body["ref"] == ref and body["role"] == "instructeur" and body["dossier_version"] == dossier.version
    assert body["schema"]["type"] == "object" and isinstance(body["ui_schema"], dict)
    assert body["data"]["dossier_ref"] == dossier.ref
    encoded = api.get(f"/dossiers/{dossier.id}/tasks/{ref.replace('/', '%2F')}", "instructeur1")
    assert encoded.status_code == 200 and encoded.get_json()["ref"] == ref
    # Sees the dossier but holds another role: 403; the porteur of the dossier: 403 too.
    assert api.get(f"/dossiers/{dossier.id}/tasks/{ref}", "tech.epci.cab").status_code == 403
    assert api.get(f"/dossiers/{dossier.id}/tasks/{ref}", dossier.porteur).status_code == 403
    assert api.get(f"/dossiers/{dossier.id}/tasks/nope.0", "instructeur1").status_code == 404


def test_inbox_filters_and_paging(api, services):
    everything = api.get("/tasks", "instructeur1").get_json()
    assert everything["total"] >= 1 and everything["page"] == 1 and everything["per_page"] == 25
    assert all(item["role"] == "instructeur" for item in everything["items"])
    paged = api.get("/tasks?per_page=1&page=1&step=recevabilite&mine=false", "instructeur1")
    assert paged.status_code == 200
    body = paged.get_json()
    assert len(body["items"]) == 1 and body["pages"] == body["total"]
    assert body["items"][0]["bpmn_id"] == "recevabilite" and {"overdue", "mine", "dossier_id"} <= set(body["items"][0])
    due = api.get("/tasks?due_before=2000-01-01", "instructeur1").get_json()
    assert all(item["due_at"] and item["due_at"] < "2000-01-02" for item in due["items"])
    local = api.get("/tasks?epci=CAVM", "tech.epci.cab").get_json()
    assert local["total"] == 0  # outside the technicien's EPCI: nothing, whatever the filter
    bad = api.get("/tasks?page=0&due_before=pas-une-date&per_page=1000", "instructeur1")
    assert bad.status_code == 422
    assert {"page", "due_before", "per_page"} <= set(bad.get_json()["errors"])


# -- scope --------------------------------------------------------------------------------------


def test_porteur_cannot_reach_another_porteurs_dossier(api, services):
    other = next(d for d in services.queries.dossiers_of_porteur("porteur2") if d.open_steps)
    ref = other.open_steps[0].task_ref
    for response in (
        api.get(f"/dossiers/{other.id}", "porteur1"),
        api.get(f"/dossiers/{other.id}/tasks/{ref}", "porteur1"),
        api.post(f"/dossiers/{other.id}/tasks/{ref}/claim", "porteur1"),
        api.post(f"/dossiers/{other.id}/tasks/{ref}/complete", "porteur1", {"data": {}}),
        api.post(f"/dossiers/{other.id}/withdraw", "porteur1", {"motif": "pirate"}),
    ):
        assert response.status_code == 404, response.request.path
        text = response.get_data(as_text=True)
        assert other.ref not in text and (other.title or "§") not in text
    assert api.get("/dossiers/999999", "porteur1").status_code == 404
    assert services.queries.dossier(other.id).version == other.version


def test_lists_follow_the_scope_rule(api, services):
    mine = api.get("/dossiers?per_page=100", "porteur1").get_json()
    assert mine["total"] == len(services.queries.dossiers_of_porteur("porteur1"))
    assert {d["porteur"] for d in mine["items"]} == {"porteur1"}
    cab = api.get("/dossiers?per_page=100", "tech.epci.cab").get_json()
    assert cab["total"] >= 1 and {d["epci"] for d in cab["items"]} == {"CAB"}
    jury = api.get("/dossiers?per_page=100", "jury.cab.elu1").get_json()
    at_jury = dossier_at(services, "examen_territorial", "CAB")
    assert at_jury.id in {d["id"] for d in jury["items"]}
    assert all(d["jury_type"] and d["epci"] == "CAB" for d in jury["items"])
    everything = api.get("/dossiers?per_page=2&page=2", "auditeur").get_json()
    assert everything["total"] > cab["total"] and len(everything["items"]) == 2 and everything["page"] == 2
    assert api.get("/dossiers?campaign=nope", "auditeur").get_json()["total"] == 0


def test_jury_member_loses_the_dossier_after_declaring_a_conflict(api, services, make_dossier):
    instance_id = make_dossier("examen_territorial", "CAB", porteur="porteur3")
    step = next(s for s in first_steps(api, instance_id, "jury.cab.elu2") if s["assignee"] == "jury.cab.elu2")
    assert step["can_act"] is True
    done = api.post(
        f"/dossiers/{instance_id}/tasks/{step['ref']}/complete", "jury.cab.elu2", {"data": {"conflit_interet": True}}
    )
    assert done.status_code == 200, done.get_json()
    assert api.get(f"/dossiers/{instance_id}", "jury.cab.elu2").status_code == 403
    listed = api.get("/dossiers?per_page=100", "jury.cab.elu2").get_json()
    assert instance_id not in {d["id"] for d in listed["items"]}
    assert instance_id in {d["id"] for d in api.get("/dossiers?per_page=100", "jury.cab.elu1").get_json()["items"]}


# -- commands -----------------------------------------------------------------------------------


def test_start_complete_invalid_valid_then_twice(api, services):
    created = api.post("/dossiers", "porteur4", {"campaign": open_campaign(services)})
    assert created.status_code == 201, created.get_json()
    dossier = created.get_json()
    assert created.headers["Location"].endswith(f"/api/dossiers/{dossier['id']}")
    assert dossier["porteur"] == "porteur4" and dossier["status"] == "running"
    step = dossier["steps"][0]
    assert step["bpmn_id"] == "contact" and step["can_act"] is True
    url = f"/dossiers/{dossier['id']}/tasks/{step['ref']}"
    task = api.get(url, "porteur4").get_json()
    assert "siret" in task["schema"]["properties"]

    wrong = {**VALID_CONTACT, "siret": "123", "contact_email": "pas-un-courriel"}
    bad = api.post(f"{url}/complete", "porteur4", {"data": wrong, "expected_version": dossier["version"]})
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert bad.get_json()["code"] == "invalid" and {"siret", "contact_email"} <= set(errors)
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    unchanged = services.queries.dossier(dossier["id"])
    assert unchanged.version == dossier["version"] and unchanged.open_steps[0].task_ref == step["ref"]

    stale = api.post(f"{url}/complete", "porteur4", {"data": VALID_CONTACT, "expected_version": dossier["version"] - 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"

    done = api.post(f"{url}/complete", "porteur4", {"data": VALID_CONTACT, "expected_version": dossier["version"]})
    assert done.status_code == 200, done.get_json()
    assert [s["bpmn_id"] for s in done.get_json()["steps"]] == ["avis_commune"]
    assert done.get_json()["version"] > dossier["version"]
    again = api.post(f"{url}/complete", "porteur4", {"data": VALID_CONTACT})
    assert again.status_code == 409
    assert again.get_json()["reason"] == "task.not_open" and "n’est plus ouverte" in again.get_json()["message"]
    assert api.get(url, "porteur4").status_code == 409


def test_complete_body_is_checked(api, make_dossier):
    instance_id = make_dossier("recevabilite", "CAAC", porteur="porteur4")
    ref = first_step(api, instance_id, "instructeur1")["ref"]
    url = f"/dossiers/{instance_id}/tasks/{ref}/complete"
    missing = api.post(url, "instructeur1", {"expected_version": 3, "extra": 1})
    assert missing.status_code == 422 and {"data", "extra"} <= set(missing.get_json()["errors"])
    not_json = api.client.post(
        f"/api{url}", data="{oops", content_type="application/json", headers=api.headers("instructeur1")
    )
    assert not_json.status_code == 400 and not_json.is_json and not_json.get_json()["code"] == "bad_request"


def test_claim_conflicts(api, services, make_dossier):
    instance_id = make_dossier("recevabilite", "CAAC", porteur="porteur4")
    ref = first_step(api, instance_id, "instructeur1")["ref"]
    url = f"/dossiers/{instance_id}/tasks/{ref}"
    claimed = api.post(f"{url}/claim", "instructeur1")
    assert claimed.status_code == 200 and claimed.get_json()["steps"][0]["claimed_by"] == "instructeur1"
    assert api.post(f"{url}/claim", "instructeur2").status_code == 409
    assert api.get(url, "instructeur2").status_code == 409
    assert api.post(f"{url}/unclaim", "instructeur2").status_code == 409
    assert api.post(f"{url}/complete", "instructeur2", {"data": {}}).status_code == 409
    mine = api.get("/tasks?mine=true&step=recevabilite&per_page=100", "instructeur1").get_json()
    assert instance_id in {item["dossier_id"] for item in mine["items"]}
    theirs = api.get("/tasks?step=recevabilite&per_page=100", "instructeur2").get_json()
    assert instance_id not in {item["dossier_id"] for item in theirs["items"]}
    released = api.post(f"{url}/unclaim", "instructeur1")
    assert released.status_code == 200 and released.get_json()["steps"][0]["claimed_by"] is None
    assert api.post(f"{url}/claim", "tech.epci.caac").status_code == 403  # wrong role
    assert api.post(f"{url}/claim", "porteur4").status_code == 403  # the dossier's porteur, not the step's


def test_start_and_withdraw(api, services):
    unknown = api.post("/dossiers", "porteur3", {"campaign": "NOPE"})
    assert unknown.status_code == 422 and "campaign" in unknown.get_json()["errors"]
    dossier = api.post("/dossiers", "porteur3", {"campaign": open_campaign(services)}).get_json()
    path = f"/dossiers/{dossier['id']}/withdraw"
    blank = api.post(path, "porteur3", {"motif": "   "})
    assert blank.status_code == 422 and "motif" in blank.get_json()["errors"]
    assert api.post(path, "porteur1", {"motif": "pirate"}).status_code == 404
    done = api.post(path, "porteur3", {"motif": "Le local n'est plus disponible."})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] != "running" and body["outcome"] == "abandonne"
    assert "Le local n'est plus disponible." in body["reason"] and body["steps"] == []
    again = api.post(path, "porteur3", {"motif": "encore"})
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"


# -- routing and the OpenAPI document -----------------------------------------------------------


def test_unknown_urls_and_methods_answer_json(api):
    missing = api.post("/nothing-here", None)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    wrong = api.client.delete("/api/tasks")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    # The verbs never read as a segment of a ref: GET on .../claim is not a task read.
    assert api.get("/dossiers/1/tasks/a.0/claim", "auditeur").status_code == 405


def test_openapi_document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.get_data(as_text=True))
    assert spec["info"]["title"] == "DSDT" and spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert spec["security"] == [{"bearerAuth": []}]
    task = "/api/dossiers/{dossier_id}/tasks/{ref}"
    assert {
        "/api/tasks",
        "/api/dossiers",
        "/api/dossiers/{dossier_id}",
        "/api/dossiers/{dossier_id}/withdraw",
        task,
        f"{task}/claim",
        f"{task}/unclaim",
        f"{task}/complete",
    } <= set(spec["paths"])
    assert set(spec["paths"]["/api/dossiers"]) >= {"get", "post"}
    complete = spec["paths"][f"{task}/complete"]["post"]
    assert {"200", "409", "422"} <= set(complete["responses"])
    assert {"Dossier", "Task", "Error", "CompleteArgs"} <= set(spec["components"]["schemas"])



def test_attachment_fields_must_name_this_dossiers_attachments(api, services, make_dossier):
    incomplete = {"recevabilite": {"decision": "incomplet"}}
    instance_id = make_dossier("complements", "CAVM", porteur="porteur4", overrides=incomplete)
    other = make_dossier("complements", "CAVM", porteur="porteur2", overrides=incomplete)
    # a file only the other dossier holds (the same content joined to both would be this one's too)
    foreign = services.attachments.store(other, "autre.pdf", b"%PDF-1.4 autre dossier", "porteur2").ref
    step = first_step(api, instance_id, "porteur4")
    url = f"/dossiers/{instance_id}/tasks/{step['ref']}/complete"
    version = api.get(f"/dossiers/{instance_id}", "porteur4").get_json()["version"]
    for wrong in ("../../admin", foreign, "sha256:" + "0" * 64):
        refused = api.post(url, "porteur4", {"data": {"reponse": "Voici les pièces.", "pieces": ["x", wrong]}})
        assert refused.status_code == 422, wrong
        errors = refused.get_json()["errors"]
        assert set(errors) == {"data.pieces.0", "data.pieces.1"} or set(errors) == {"pieces.0", "pieces.1"}, errors
        assert "pièce jointe de ce dossier" in " ".join(sum(errors.values(), []))
    assert api.get(f"/dossiers/{instance_id}", "porteur4").get_json()["version"] == version  # nothing changed
    own = services.attachments.list(instance_id)[0].ref
    done = api.post(url, "porteur4", {"data": {"reponse": "Voici les pièces.", "pieces": [own]}})
    assert done.status_code == 200, done.get_json()
