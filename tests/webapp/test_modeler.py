"""The modeler pages (webapp/modeler.py): drafts, saves with conflicts, server checks, form preview, deploy."""

from __future__ import annotations

import json
import re

import pytest

from engine import EngineConfig, ModelDrafts, WorkflowEngine
from webapp import demo
from webapp.services import build

from .conftest import NOW, ROOT, csrf_token

TIMER = 'campagne["date_limite_fiche"]'


@pytest.fixture(scope="module")
def engine(tmp_path_factory, clock):
    """An engine of this module's own: its tests deploy new versions."""
    url = f"sqlite:///{tmp_path_factory.mktemp('modeler') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    yield eng
    eng.close()


def _owner(client, auth, draft="essai"):
    auth.login("process.owner")
    page = client.get("/modeler/").get_data(as_text=True)
    if f">{draft}</a>" not in page:
        response = auth.post("/modeler/brouillons", {"name": draft})
        assert response.status_code == 302
    page = client.get(f"/modeler/brouillons/{draft}").get_data(as_text=True)
    config = json.loads(re.search(r'id="modeler-data">(.*?)</script>', page, re.S).group(1))
    return page, config


def _save(client, config, content, revision):
    return client.post(config["saveUrl"], json={"path": config["path"], "content": content, "revision": revision},
                       headers={"X-CSRFToken": config["csrf"]})


@pytest.mark.parametrize("login", ["porteur1", "auditeur", "instructeur1"])
def test_other_roles_are_refused(client, auth, login):
    auth.login(login)
    assert client.get("/modeler/").status_code == 403
    assert auth.post("/modeler/brouillons", {"name": "x"}).status_code == 403


def test_a_draft_from_the_deployed_version_is_listed_with_its_editor(client, auth):
    page, config = _owner(client, auth, "liste")
    assert config["path"] == "processes/dsdt_candidature.bpmn" and config["revision"] == 1
    assert "<bpmn:definitions" in config["xml"] and "process.owner" in page
    index = client.get("/modeler/").get_data(as_text=True)
    assert "liste" in index and "process.owner" in index
    assert client.get("/modeler/brouillons/liste/dmn").status_code == 200
    assert client.get("/modeler/brouillons/liste?fichier=processes/nope.bpmn").status_code == 404
    assert client.get("/modeler/brouillons/inconnu").status_code == 404


def test_posts_without_the_csrf_token_are_refused(client, auth):
    _, config = _owner(client, auth, "jeton")
    response = client.post(config["saveUrl"], json={"path": config["path"], "content": "<x/>", "revision": 1})
    assert response.status_code == 400
    assert client.post("/modeler/brouillons", data={"name": "sans-jeton"}).status_code == 400
    assert "sans-jeton" not in client.get("/modeler/").get_data(as_text=True)


def test_a_save_from_a_stale_revision_is_a_conflict_naming_who_saved(client, auth, services):
    _, config = _owner(client, auth, "conflit")
    first = _save(client, config, config["xml"].replace(TIMER, TIMER + " "), 1)
    assert first.status_code == 200 and first.get_json()["revision"] == 2
    stale = _save(client, config, config["xml"], 1)  # another owner still on revision 1
    assert stale.status_code == 409
    assert "process.owner" in stale.get_json()["error"] and "2" in stale.get_json()["error"]
    assert ModelDrafts(services.engine.db, services.engine.clock).get("conflit").revision == 2
    bad = _save(client, dict(config, path="../../etc/passwd"), "x", 2)
    assert bad.status_code == 422


def test_the_server_check_names_the_element_of_a_broken_timer_and_deploy_refuses_then_accepts(client, auth, services):
    page, config = _owner(client, auth, "minuteur")
    fiche = client.get("/modeler/brouillons/minuteur?fichier=processes/phase_fiche.bpmn").get_data(as_text=True)
    config = json.loads(re.search(r'id="modeler-data">(.*?)</script>', fiche, re.S).group(1))
    broken = config["xml"].replace(f">{TIMER}</", '>campagne["date_limite_fiche"</')  # the timer, not the script
    assert _save(client, config, broken, 1).status_code == 200
    problems = client.post(config["checkUrl"], json={}, headers={"X-CSRFToken": config["csrf"]}).get_json()["problems"]
    assert [(p["file"], p["element_id"]) for p in problems] == [("processes/phase_fiche.bpmn", "fiche_delai")]
    before = services.overview.versions()[0].version
    refused = auth.post("/modeler/brouillons/minuteur/deployer", {"comment": "Délai"}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Déploiement refusé" in text and "fiche_delai" in text
    assert services.overview.versions()[0].version == before
    assert "Indiquez un commentaire" in auth.post("/modeler/brouillons/minuteur/deployer", {"comment": " "},
                                                   follow_redirects=True).get_data(as_text=True)
    fixed = config["xml"].replace(TIMER, 'campagne["date_limite_fiche"] ')
    assert _save(client, config, fixed, 2).status_code == 200
    checked = client.post(config["checkUrl"], json={}, headers={"X-CSRFToken": config["csrf"]})
    assert checked.get_json() == {"problems": []}
    done = auth.post("/modeler/brouillons/minuteur/deployer", {"comment": "Délai corrigé"}, follow_redirects=True)
    assert f"Version {before + 1} déployée" in done.get_data(as_text=True)
    latest = services.overview.versions()[0]
    assert (latest.version, latest.author, latest.comment) == (before + 1, "process.owner", "Délai corrigé")


def test_the_form_editor_previews_with_the_staff_renderer_and_saves(client, auth, services):
    _owner(client, auth, "formulaire")
    page = client.get("/modeler/brouillons/formulaire/formulaire/contact").get_data(as_text=True)
    schema = json.loads(re.search(r'id="form-schema"[^>]*>(.*?)</textarea>', page, re.S).group(1)
                        .replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'").replace("&lt;", "<")
                        .replace("&gt;", ">").replace("&amp;", "&"))
    schema["properties"]["site_web"] = {"type": "string", "title": "Site web de l'association"}
    token = csrf_token(page)
    preview = client.post("/modeler/brouillons/formulaire/formulaire/contact/apercu",
                          data={"schema": json.dumps(schema), "uischema": "{}", "csrf_token": token})
    assert preview.status_code == 200
    label = r'<label[^>]*for="[^"]*site_web[^"]*"[^>]*>\s*Site web de l(&#39;|\')association'
    assert re.search(label, preview.get_data(as_text=True))
    bad = client.post("/modeler/brouillons/formulaire/formulaire/contact/apercu",
                      data={"schema": '{"type": 12}', "uischema": "{}", "csrf_token": token})
    assert bad.status_code == 422 and "JSON Schema" in bad.get_data(as_text=True)
    saved = client.post("/modeler/brouillons/formulaire/formulaire/contact",
                        data={"schema": json.dumps(schema), "uischema": "{}", "revision": "1", "action": "save",
                              "csrf_token": token})
    assert saved.status_code == 302
    drafts = ModelDrafts(services.engine.db, services.engine.clock)
    stored = drafts.get("formulaire")
    assert stored.revision == 2 and "site_web" in json.loads(stored.files["forms/contact.schema.json"])["properties"]
    stale = client.post("/modeler/brouillons/formulaire/formulaire/contact",
                        data={"schema": "{}", "uischema": "{}", "revision": "1", "action": "save", "csrf_token": token})
    assert stale.status_code == 409 and drafts.get("formulaire").revision == 2
