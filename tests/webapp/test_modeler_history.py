"""Test against history on the modeler's pages: start (a version, a draft), progress (page with a
<progress> and JSON), cancel, refusals (roles, CSRF, unknown check)."""

from __future__ import annotations

import re
import time

import pytest

from engine import EngineConfig, WorkflowEngine, read_model_files
from engine.history_check_jobs import cancel_check, check_status
from webapp import demo
from webapp.services import build

from .conftest import NOW, ROOT


@pytest.fixture(scope="module")
def engine(tmp_path_factory, clock):
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    files = read_model_files(ROOT)
    path = "processes/phase_contact.bpmn"
    files[path] = files[path].replace(b'"avis_commune"', b'"avis_de_la_commune"').replace(
        b">avis_commune<", b">avis_de_la_commune<")
    eng.deploy(files, author="process.owner", comment="avis_commune renamed")
    yield eng
    eng.close()


def _wait(client, url, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        state = client.get(url).get_json()
        if state["finished"] or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


@pytest.mark.parametrize("login", ["porteur1", "auditeur", "instructeur1"])
def test_other_roles_are_refused(client, auth, login):
    auth.login(login)
    assert auth.post("/modeler/historique", {"version": "1"}).status_code == 403
    assert client.get("/modeler/historique/1").status_code == 403
    assert client.get("/modeler/historique/1/etat.json").status_code == 403
    assert auth.post("/modeler/historique/1/annuler", {}).status_code == 403


def test_a_version_is_tested_with_progress_and_the_diverging_dossiers_listed(client, auth, engine):
    auth.login("process.owner")
    response = auth.post("/modeler/historique", {"version": "2"})
    assert response.status_code == 302
    page_url = response.headers["Location"]
    check_id = int(re.search(r"/historique/(\d+)", page_url).group(1))

    state = _wait(client, f"/modeler/historique/{check_id}/etat.json")

    assert state["status"] == "done" and state["checked"] == state["total"] > 0
    assert state["divergedCount"] == state["total"] - state["same"]
    page = client.get(f"/modeler/historique/{check_id}").get_data(as_text=True)
    assert '<progress id="history-progress"' in page and 'for="history-progress"' in page
    assert "data-history-check" not in page and "Actualiser" not in page  # finished: nothing to follow
    if state["diverged"]:
        assert state["diverged"][0]["ref"] in page
    # version 1 against itself: every dossier that started on it takes the same path
    same = _wait(client, re.search(r"/modeler/historique/\d+", auth.post(
        "/modeler/historique", {"version": "1"}).headers["Location"]).group(0) + "/etat.json")
    assert same["status"] == "done"


def test_cancel_marks_a_running_check_and_its_page_says_so(client, auth, engine):
    auth.login("process.owner")
    from engine import Actor
    from engine.history_check_jobs import create_check

    owner = Actor("process.owner", frozenset({"process_owner"}))
    check_id, _models = create_check(engine, owner, version=1)  # not run: stays running
    page = client.get(f"/modeler/historique/{check_id}").get_data(as_text=True)
    # running: followed by the page's script (no timed reload), with a link for a browser without it
    assert "data-history-check=" in page and "Actualiser" in page and "annuler" in page
    assert 'http-equiv="refresh"' not in page
    assert client.post(f"/modeler/historique/{check_id}/annuler", data={}).status_code == 400  # no CSRF token
    assert not check_status(engine, owner, check_id).cancel_requested
    assert auth.post(f"/modeler/historique/{check_id}/annuler", {}).status_code == 302
    assert check_status(engine, owner, check_id).cancel_requested
    cancel_check(engine, owner, check_id)


def test_bad_requests_are_refused_with_a_message(client, auth):
    auth.login("process.owner")
    assert client.get("/modeler/historique/999999").status_code == 404
    assert client.get("/modeler/historique/999999/etat.json").status_code == 404
    response = auth.post("/modeler/historique", {"version": "abc"})
    assert response.status_code == 302
    response = auth.post("/modeler/historique", {"version": "99"}, follow_redirects=True)
    assert response.status_code == 200
