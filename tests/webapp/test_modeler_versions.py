"""The versions pages (webapp/modeler_versions.py): list, diff, migration of running dossiers."""

from __future__ import annotations

import html
import json
import re

import pytest

from engine import Actor, EngineConfig, WorkflowEngine, read_model_files
from webapp import demo
from webapp.services import build

from .conftest import NOW, ROOT


@pytest.fixture(scope="module")
def engine(tmp_path_factory, clock):
    """An engine of this module's own: its tests deploy a second version."""
    url = f"sqlite:///{tmp_path_factory.mktemp('versions') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    files = read_model_files(ROOT)
    path = "processes/phase_convention.bpmn"
    files[path] = files[path].replace(b'name="Notifier la convention"',
                                      'name="Notifier la convention signée"'.encode())
    eng.deploy(files, author="process.owner", comment="Libellé de la notification")
    yield eng
    eng.close()


@pytest.mark.parametrize("login", ["porteur1", "auditeur", "instructeur1"])
def test_other_roles_are_refused(client, auth, login):
    auth.login(login)
    assert client.get("/modeler/versions").status_code == 403
    assert client.get("/modeler/versions/diff?from=1&to=2").status_code == 403
    assert auth.post("/modeler/versions/migrate", {"to": "2", "from": "1", "reason": "x"}).status_code == 403


def test_the_versions_are_listed_with_their_dossiers(client, auth, engine):
    auth.login("process.owner")
    page = client.get("/modeler/versions").get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row">(\d+)</th>.*?</tr>', page, re.S)
    assert rows == ["2", "1"]
    assert "Libellé de la notification" in html.unescape(page)
    assert 'href="/modeler/versions/diff?from=1&amp;to=2"' in page


def test_the_diff_lists_and_marks_the_changed_step(client, auth):
    auth.login("process.owner")
    page = client.get("/modeler/versions/diff?from=1&to=2").get_data(as_text=True)
    assert "notification_convention" in page and "Notifier la convention signée" in html.unescape(page)
    data = json.loads(html.unescape(re.search(r'class="diff-data">(.*?)</script>', page, re.S).group(1)))
    assert data["marks"] == {"notification_convention": "changed"} and "<bpmn:definitions" in data["old"]


@pytest.mark.parametrize("query, status", [("from=1", 400), ("from=a&to=2", 400), ("from=1&to=99", 404)])
def test_a_bad_diff_request_is_refused(client, auth, query, status):
    auth.login("process.owner")
    assert client.get(f"/modeler/versions/diff?{query}").status_code == status


def test_a_dossier_is_migrated_only_with_a_reason(client, auth, services, engine):
    code = [c.code for c in services.queries.campaigns(open_only=True)][0]
    iid = engine.start(Actor("porteur1", frozenset({"porteur"})), code)
    before = engine.instance(iid).deployment_id
    ref = engine.instance(iid).ref
    auth.login("process.owner")
    # it started on version 2, the current one: it moves back to version 1
    refused = auth.post("/modeler/versions/migrate", {"to": "1", "refs": ref, "reason": " "}, follow_redirects=True)
    assert "Indiquez le motif de la migration." in html.unescape(refused.get_data(as_text=True))
    assert engine.instance(iid).deployment_id == before
    done = auth.post("/modeler/versions/migrate", {"to": "1", "refs": ref, "reason": "Ancien libellé"},
                     follow_redirects=True)
    text = html.unescape(done.get_data(as_text=True))
    assert "1 dossier(s) migré(s) vers la version 1." in text, re.findall(r"flash[^>]*>([^<]*)", text)
    assert engine.instance(iid).deployment_id != before
