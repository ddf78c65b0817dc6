"""The modeler's properties for lanes and messages (the roles the page serves) and the draft's
contract page (webapp/modeler_contract.py): a broken contract is refused naming what is wrong,
a good one is saved with the draft's revision, a stale revision is a conflict."""

from __future__ import annotations

import json
import re

import pytest

from engine import EngineConfig, ModelDrafts, WorkflowEngine, roles
from webapp import demo
from webapp.services import build

from .conftest import NOW, ROOT, csrf_token

CONTRACT = "processes/contract.json"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, clock):
    """An engine of this module's own: its tests save drafts."""
    url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    yield eng
    eng.close()


def _draft(client, auth, name):
    auth.login("process.owner")
    assert auth.post("/modeler/brouillons", {"name": name}).status_code == 302
    return f"/modeler/brouillons/{name}/contrat"


def _post(client, url, text, revision):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), "contract": text, "revision": str(revision)})


def _stored(services, name) -> dict:
    return json.loads(ModelDrafts(services.engine.db, services.engine.clock).get(name).files[CONTRACT])


def test_the_diagram_page_serves_the_known_roles_for_lanes_and_the_panel_labels(client, auth):
    auth.login("process.owner")
    auth.post("/modeler/brouillons", {"name": "couloirs"})
    page = client.get("/modeler/brouillons/couloirs").get_data(as_text=True)
    config = json.loads(re.search(r'id="modeler-data">(.*?)</script>', page, re.S).group(1))
    assert [(r["name"], r["role"]) for r in config["roles"]] == list(roles.LANE_ROLES.items())
    porteur = next(r for r in config["roles"] if r["role"] == roles.PORTEUR)
    assert porteur["label"] == "Porteur de projet (porteur)"
    assert "aucune personne" in next(r for r in config["roles"] if r["role"] is None)["label"]
    assert config["labels"]["laneRole"] and config["labels"]["messageVariable"]
    assert "corrélation" in config["labels"]["messageVariableHelp"]
    assert "Contrat du modèle" in page


def test_a_contract_naming_a_missing_process_is_refused_naming_it_and_nothing_changes(client, auth, services):
    url = _draft(client, auth, "contrat-faux")
    page = client.get(url).get_data(as_text=True)
    assert "dsdt_candidature" in page and 'aria-current="page"' in page
    before = _stored(services, "contrat-faux")
    broken = json.loads(json.dumps(before))
    broken["families"]["candidature"]["main_process"] = "processus_fantome"
    refused = _post(client, url, json.dumps(broken), 1)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Contrat refusé" in text and "processus_fantome" in text
    assert _stored(services, "contrat-faux") == before
    assert ModelDrafts(services.engine.db, services.engine.clock).get("contrat-faux").revision == 1
    not_json = _post(client, url, '{"families": ', 1)
    assert not_json.status_code == 422 and CONTRACT in not_json.get_data(as_text=True)
    missing = json.loads(json.dumps(before))
    del missing["families"]["candidature"]["withdrawal"]
    refused = _post(client, url, json.dumps(missing), 1)
    assert refused.status_code == 422 and "withdrawal" in refused.get_data(as_text=True)


def test_a_good_contract_is_saved_with_the_revision_and_a_stale_one_is_a_conflict(client, auth, services):
    url = _draft(client, auth, "contrat-bon")
    contract = _stored(services, "contrat-bon")
    contract["$comment"] = "Revu par la Région."
    saved = _post(client, url, json.dumps(contract, ensure_ascii=False, indent=2), 1)
    assert saved.status_code == 302
    draft = ModelDrafts(services.engine.db, services.engine.clock).get("contrat-bon")
    assert draft.revision == 2 and draft.summary.updated_by == "process.owner"
    assert _stored(services, "contrat-bon")["$comment"] == "Revu par la Région."
    assert "Contrat du modèle enregistré" in client.get(url).get_data(as_text=True)
    stale = _post(client, url, json.dumps(contract), 1)
    assert stale.status_code == 409 and "process.owner" in stale.get_data(as_text=True)
    assert ModelDrafts(services.engine.db, services.engine.clock).get("contrat-bon").revision == 2


def test_the_contract_page_is_for_process_owners_and_needs_the_csrf_token(client, auth):
    url = _draft(client, auth, "contrat-acces")
    assert client.post(url, data={"contract": "{}", "revision": "1"}).status_code == 400
    auth.login("instructeur1")
    assert client.get(url).status_code == 403
