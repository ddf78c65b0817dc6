"""The replay pages (webapp/audit_replay.py): the state after entry k as a page that works without
JavaScript and as JSON for the diagram, the diagrams of the pinned version, bounds on k, refusals."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from engine import FixedClock, WorkflowEngine, campaigns_api, roles
from engine.persistence.db import Database
from engine.persistence.models import JournalEntry
from tests.factories import PORTEUR, Walker
from webapp import create_app

from .conftest import ROOT, AuthActions

PASSWORD = "replay-password-2024"


@pytest.fixture
def world(database_url, script_engine):
    """An engine with the models, one dossier walked through the contact phase (4 entries), an app."""
    db = Database(database_url)
    db.upgrade()
    clock = FixedClock(datetime(2014, 10, 1, 8, 0, tzinfo=UTC))
    engine = WorkflowEngine(db, clock, script_engine)
    engine.deploy_directory(ROOT, author="tests")
    engine.save_campaign(*campaigns_api.historical_campaign())
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.through_contact(iid)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})
    accounts = app.extensions["dsdt"].accounts
    accounts.create("auditrice", PASSWORD, roles=[roles.AUDITOR])
    accounts.create("responsable", PASSWORD, roles=[roles.PROCESS_OWNER])
    accounts.create("gestion", PASSWORD, roles=[roles.ADMIN])
    accounts.create("instructrice", PASSWORD, roles=[roles.INSTRUCTEUR])
    accounts.create(PORTEUR.login, PASSWORD, roles=[roles.PORTEUR])
    yield engine, app, iid
    db.dispose()


def login(app, who: str = "auditrice"):
    client = app.test_client()
    assert AuthActions(client).login(who, PASSWORD).status_code == 302
    return client


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def get(client, url: str) -> str:
    """The page at ``url`` (200) as text, its HTML entities decoded."""
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)
    raw = answer.get_data(as_text=True)
    assert "&lt;" not in raw, "markup escaped as text"
    return html.unescape(raw)


def test_the_page_without_javascript_moves_between_entries(world):
    _, app, iid = world
    client = login(app)
    page = get(client, f"/audit/dossiers/{iid}/rejeu")
    assert "Après l’entrée n° 1 sur 4" in page
    assert 'type="range" id="replay-entry" name="entree" min="1" max="4"' in page
    assert '<label for="replay-entry">' in page
    assert f'href="/audit/dossiers/{iid}/rejeu?entree=2"' in page  # next
    assert 'rel="prev">' in page  # no address before the first entry
    assert "Décrire le projet (Porteur de projet)" in text_of(page)  # the step open then
    assert 'data-field="contact.titre_projet"' not in page  # not typed yet
    third = get(client, f"/audit/dossiers/{iid}/rejeu?entree=3")
    assert "Après l’entrée n° 3 sur 4" in third
    assert f'href="/audit/dossiers/{iid}/rejeu?entree=2"' in third and 'entree=4"' in third
    assert 'class="replay-changed" data-field="avis_commune.avis"' in third  # what entry 3 submitted
    assert 'data-field="contact.titre_projet"' in third
    assert "Décrire le projet (Porteur de projet)" not in text_of(third)
    last = get(client, f"/audit/dossiers/{iid}/rejeu?entree=4")
    assert 'rel="next">' in last
    assert "Fiche synthétique : en cours" in text_of(last)


def test_json_gives_marks_per_process_and_the_text(world):
    _, app, iid = world
    client = login(app)
    first = client.get(f"/audit/dossiers/{iid}/rejeu.json?entree=1").get_json()
    assert first["entry"] == 1 and first["total"] == 4 and first["problem"] is None
    processes = {p["process"]: p for p in first["processes"]}
    assert first["processes"][0]["main"] and first["processes"][0]["process"] == "dsdt_candidature"
    assert processes["dsdt_candidature"]["active"] == ["phase_contact"]
    assert processes["dsdt_candidature"]["waiting"] == ["cand_retrait_contact"]
    assert processes["dsdt_contact"]["active"] == ["contact"] and processes["dsdt_contact"]["calledBy"]
    assert processes["dsdt_fiche"]["entered"] is False and processes["dsdt_fiche"]["done"] == []
    assert [step["bpmnId"] for step in first["openSteps"]] == ["contact"]
    assert "Après l’entrée n° 1 sur 4" in first["html"]
    last = client.get(f"/audit/dossiers/{iid}/rejeu.json?entree=4").get_json()
    processes = {p["process"]: p for p in last["processes"]}
    assert processes["dsdt_candidature"]["active"] == ["phase_fiche"]
    assert "phase_contact" in processes["dsdt_candidature"]["done"]
    assert last["data"]["contact.titre_projet"] and "verification_contact.decision" in last["changed"]


def test_diagrams_of_the_pinned_version(world):
    _, app, iid = world
    diagrams = login(app).get(f"/audit/dossiers/{iid}/schemas.json").get_json()["diagrams"]
    assert diagrams[0]["main"] and diagrams[0]["calledBy"] is None
    assert [d["process"] for d in diagrams[:3]] == ["dsdt_candidature", "dsdt_contact", "dsdt_fiche"]
    assert all(d["xml"].startswith("<?xml") for d in diagrams)


@pytest.mark.parametrize("entry", ["0", "5", "abc", "-1", "99999999999999999999"])
def test_entries_out_of_bounds_get_a_clear_error(world, entry):
    _, app, iid = world
    client = login(app)
    page = client.get(f"/audit/dossiers/{iid}/rejeu?entree={entry}")
    assert page.status_code == 400
    answer = client.get(f"/audit/dossiers/{iid}/rejeu.json?entree={entry}")
    assert answer.status_code == 400
    body = answer.get_json()
    if entry in ("0", "5"):
        assert body["reason"] == "replay.entry"
        assert body["message"] == f"Ce dossier n’a pas d’entrée n° {entry} : son journal va de l’entrée 1 à l’entrée 4."
        assert "l’entrée 1 à l’entrée 4" in html.unescape(page.get_data(as_text=True))
    else:
        assert body["message"] == "Le numéro d’entrée est un nombre entier positif, par exemple 3."


def test_unknown_dossier(world):
    _, app, _ = world
    client = login(app)
    assert client.get("/audit/dossiers/999/rejeu").status_code == 404
    assert client.get("/audit/dossiers/999/rejeu.json").status_code == 404
    assert client.get("/audit/dossiers/999/schemas.json").status_code == 404


@pytest.mark.parametrize("who", ["responsable", "gestion"])
def test_process_owners_and_administrators_may_replay(world, who):
    _, app, iid = world
    assert login(app, who).get(f"/audit/dossiers/{iid}/rejeu?entree=2").status_code == 200


@pytest.mark.parametrize("who", ["instructrice", PORTEUR.login])
@pytest.mark.parametrize("path", ["rejeu", "rejeu.json?entree=1", "schemas.json"])
def test_other_roles_are_refused(world, who, path):
    _, app, iid = world
    assert login(app, who).get(f"/audit/dossiers/{iid}/{path}").status_code == 403
    anonymous = app.test_client().get(f"/audit/dossiers/{iid}/{path}")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]


def test_an_altered_journal_is_named_instead_of_a_state(world):
    engine, app, iid = world
    with engine.db.sessions() as session, session.begin():
        session.execute(update(JournalEntry).where(JournalEntry.instance_id == iid, JournalEntry.seq == 2)
                        .values(state_hash="0" * 64))
    client = login(app)
    assert "Après l’entrée n° 1 sur 4" in get(client, f"/audit/dossiers/{iid}/rejeu?entree=1")
    page = get(client, f"/audit/dossiers/{iid}/rejeu?entree=3")
    assert "role=\"alert\"" in page and "entry 2 (complete) reaches a different state than journaled" in page
    body = client.get(f"/audit/dossiers/{iid}/rejeu.json?entree=3").get_json()
    assert body["problem"].startswith("entry 2") and body["data"] is None and body["openSteps"] == []


def test_the_history_links_to_the_replay_of_each_entry(world):
    _, app, iid = world
    page = get(login(app), f"/audit/dossiers/{iid}")
    for k in range(1, 5):
        assert f'href="/audit/dossiers/{iid}/rejeu?entree={k}"' in page
