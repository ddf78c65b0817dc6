"""POST /modeler/api/validate: the problems of the files the modeler posts, for its overlays."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deployments import read_model_files

from .conftest import csrf_token

LINT_OK = Path(__file__).resolve().parent.parent / "data" / "lint" / "ok"


def _files(**changes) -> dict[str, str]:
    files = {path: data.decode() for path, data in read_model_files(LINT_OK).items()}
    for path, (old, new) in changes.items():
        files[path.replace("__", "/").replace("_bpmn", ".bpmn")] = \
            files[path.replace("__", "/").replace("_bpmn", ".bpmn")].replace(old, new)
    return files


def _post(client, body, token=True, page="/profil/"):
    headers = {}
    if token:
        headers["X-CSRFToken"] = csrf_token(client.get(page).get_data(as_text=True))
    return client.post("/modeler/api/validate", json=body, headers=headers)


def test_a_process_owner_gets_every_problem_with_its_element(client, auth):
    auth.login("process.owner")
    assert _post(client, {"files": _files()}).get_json() == {"problems": []}
    files = _files(processes__mini_bpmn=('name="Instructeur Région"', 'name="Stagiaire"'))
    files["processes/mini.bpmn"] = files["processes/mini.bpmn"].replace('"P15D"', '"P99Y"')
    response = _post(client, {"files": files})
    assert response.status_code == 200
    found = {(p["rule"], p["file"], p["element_id"]) for p in response.get_json()["problems"]}
    assert found == {("lane-role", "processes/mini.bpmn", "avis"), ("timer", "processes/mini.bpmn", "attente")}
    messages = [p["message"] for p in response.get_json()["problems"]]
    assert all(m.startswith("Modèle invalide") for m in messages), messages


def test_bad_bodies_are_refused_with_a_reason(client, auth):
    auth.login("process.owner")
    assert _post(client, {"files": []}).status_code == 400
    assert _post(client, {"nothing": 1}).status_code == 400
    assert _post(client, {"files": {"processes/a.bpmn": 3}}).status_code == 400
    response = _post(client, {"files": {"../etc/passwd.bpmn": "<x/>"}})
    assert response.status_code == 422 and response.get_json()["code"] == "model_draft.bad_path"


def test_the_csrf_token_is_required(client, auth):
    auth.login("process.owner")
    assert _post(client, {"files": _files()}, token=False).status_code == 400


@pytest.mark.parametrize("login", ["porteur1", "auditeur", "instructeur1"])
def test_other_roles_are_refused(client, auth, login):
    auth.login(login)
    assert _post(client, {"files": _files()}).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = _post(client, {"files": _files()}, page="/connexion")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
