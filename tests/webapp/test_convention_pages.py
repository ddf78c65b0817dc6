"""Convention pages and API: the list per EPCI (state, version, signed priorities, history link),
opening a convention (a regional officer any EPCI's, a technician their own: CSRF, refusals with
their reason and nothing opened), a convention's page with its state; and the rule "a campaign
that offers only signed priorities offers an EPCI without a signed convention none", on the fiche
page and in the API, on an engine of its own (the demo's three EPCI all have one)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine import Actor, EngineConfig, WorkflowEngine, campaigns_api
from engine.conventions import STRICT
from engine.persistence.models import Instance
from engine.simulation.fake_data import generate
from webapp import create_app, demo
from webapp.services import build

from .conftest import ROOT, AuthActions, csrf_token, field_name


def _count(services, epci: str) -> int:
    with services.engine.session() as session:
        return session.scalar(select(func.count()).select_from(Instance).where(
            Instance.family == "convention", Instance.epci == epci))


def test_the_list_shows_each_epcis_conventions_to_staff_and_a_technician_their_own(auth):
    auth.login("instructeur1")
    page = auth.client.get("/conventions/").get_data(as_text=True)
    for epci in ("CAB", "CAAC", "CAVM"):
        assert f">{epci}</a>" in page
    assert "Signée, en vigueur" in page and "renouvellement urbain, participation des habitants" in page
    assert "Priorités en négociation" in page  # the CAB renewal
    assert 'name="csrf_token"' in page and "Ouvrir la convention" in page
    auth.logout()
    auth.login("tech.epci.caac")
    page = auth.client.get("/conventions/").get_data(as_text=True)
    assert ">CAAC</a>" in page and ">CAB</a>" not in page and ">CAVM</a>" not in page
    auth.logout()
    auth.login("porteur1")
    assert auth.client.get("/conventions/").status_code == 403


def test_a_convention_page_shows_its_state_versions_and_signed_priorities(services, auth):
    auth.login("instructeur1")
    with services.engine.session() as session:
        renewal = session.scalars(select(Instance).where(Instance.family == "convention", Instance.epci == "CAB")
                                  .order_by(Instance.id.desc())).first()
    page = auth.client.get(f"/conventions/{renewal.id}").get_data(as_text=True)
    assert "Priorités en négociation" in page and "Examiner les priorités proposées" in page
    assert "Ajouter la citoyenneté" in page  # the Région's comment on version 1
    assert "accès aux droits" in page  # version 2
    auth.logout()
    auth.login("tech.epci.caac")
    assert auth.client.get(f"/conventions/{renewal.id}").status_code == 404


def test_opening_a_convention_from_the_page_and_the_refusals(services, auth):
    code = [c.code for c in services.queries.campaigns(open_only=True)][0]
    auth.login("tech.epci.caac")
    page = auth.client.get("/conventions/").get_data(as_text=True)
    before = _count(services, "CAAC")
    # without the CSRF token: refused, nothing opened
    assert auth.client.post("/conventions/ouvrir", data={"campagne": code, "epci": "CAAC"}).status_code == 400
    # another EPCI's: refused with the reason, nothing opened
    refused = auth.client.post("/conventions/ouvrir", data={"campagne": code, "epci": "CAB",
                                                            "csrf_token": csrf_token(page)})
    assert refused.status_code == 403 and "technicien de cet EPCI" in refused.get_data(as_text=True)
    assert _count(services, "CAAC") == before
    opened = auth.client.post("/conventions/ouvrir", data={"campagne": code, "epci": "CAAC",
                                                           "csrf_token": csrf_token(page)})
    assert opened.status_code == 302
    shown = auth.client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "En préparation" in shown and "Enregistrer le projet de territoire" in shown
    assert _count(services, "CAAC") == before + 1
    again = auth.client.post("/conventions/ouvrir", data={"campagne": code, "epci": "CAAC",
                                                          "csrf_token": csrf_token(page)})
    assert again.status_code == 409 and "déjà une convention en cours de négociation" in again.get_data(as_text=True)
    # the step is in the technician's inbox
    assert "Enregistrer le projet de territoire" in auth.client.get("/taches/").get_data(as_text=True)


def test_the_api_lists_reads_and_opens_conventions(services, client):
    def headers(login):
        return {"Authorization": f"Bearer {services.accounts.create_token(login, 'tests')}"}

    listed = client.get("/api/conventions", headers=headers("tech.epci.cavm")).get_json()
    assert {c["epci"] for c in listed} == {"CAVM"}
    assert any(c["state"] == "signee" and c["version"] == 1 and c["priorities"] for c in listed)
    one = client.get(f"/api/conventions/{listed[0]['id']}", headers=headers("instructeur1")).get_json()
    assert one["ref"] == listed[0]["ref"]
    assert client.get(f"/api/conventions/{listed[0]['id']}", headers=headers("tech.epci.cab")).status_code == 404
    code = [c.code for c in services.queries.campaigns(open_only=True)][0]
    refused = client.post("/api/conventions", headers=headers("tech.epci.cavm"), json={"campaign": code, "epci": "CAB"})
    assert refused.status_code == 403 and "technicien de cet EPCI" in refused.get_json()["message"]
    conflict = client.post("/api/conventions", headers=headers("instructeur1"), json={"campaign": code, "epci": "CAB"})
    assert conflict.status_code == 409 and "négociation" in conflict.get_json()["message"]
    unknown = client.post("/api/conventions", headers=headers("instructeur1"), json={"campaign": "NOPE", "epci": "CAB"})
    assert unknown.status_code == 422 and "campaign" in unknown.get_json()["errors"]
    assert client.get("/api/conventions", headers=headers("porteur1")).status_code == 403


# -- the rule for an EPCI without a signed convention ----------------------------------------------

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
INSTRUCTEUR = Actor("instructeur1", frozenset({"instructeur"}))


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """An engine of its own: one open campaign offering only signed priorities, CAB's convention
    signed, CAAC's not; and the accounts the pages need."""
    from engine import FixedClock

    url = f"sqlite:///{tmp_path_factory.mktemp('strict') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(NOW))
    services = build({}, eng)
    eng.deploy_directory(ROOT, author="tests")
    code, libelle, data = campaigns_api.open_campaign(NOW.date())
    eng.save_campaign(code, libelle, {**data, STRICT: True})
    for login, name, held, scope in demo.demo_users(eng):
        services.accounts.create(login, demo.DEMO_PASSWORD, roles=held, epci=scope, full_name=name,
                                 email=f"{login}@tests.example")
    from webapp.demo_conventions import sign_pilot
    sign_pilot(eng, code, "CAB")
    yield eng, code
    eng.close()


def _fiche(eng, code, epci):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": eng})
    services = app.extensions["dsdt"]
    porteur = Actor("porteur1", frozenset({"porteur"}))
    iid = eng.start(porteur, code)
    demo.DemoDriver(services).advance(iid, "porteur1", "fiche", {"contact": {"epci": epci}})
    view = next(v for v in eng.task_views(iid) if v.bpmn_id == "fiche")
    return app, services, iid, view


def test_without_a_signed_convention_no_priority_is_offered_and_the_fiche_says_why(strict):
    eng, code = strict
    app, services, iid, view = _fiche(eng, code, "CAAC")
    assert view.data["campagne"]["epci"]["CAAC"]["priorites"] == []
    assert view.data["campagne"]["epci"]["CAAC"]["convention"] is None
    auth = AuthActions(app.test_client())
    auth.login("porteur1")
    url = f"/dossiers/{iid}/etape/{view.ref}"
    page = auth.client.get(url).get_data(as_text=True)
    assert "n'a pas encore signé sa convention DSDT" in page.replace("&#39;", "'")
    name = field_name(page, "priorite")
    forms = services.queries.forms(services.queries.dossier(iid).deployment_id)
    data = generate(forms[view.form], random.Random(3), NOW.date(), {**view.data, "campagne": {
        **view.data["campagne"], "epci": {"CAAC": {"priorites": ["santé"]}}}})
    headers = {"Authorization": f"Bearer {services.accounts.create_token('porteur1', 'tests')}"}
    task = auth.client.get(f"/api/dossiers/{iid}/tasks/{view.ref}", headers=headers).get_json()
    assert task["schema"]["properties"]["priorite"]["enum"] == []
    refused = auth.client.post(f"/api/dossiers/{iid}/tasks/{view.ref}/complete", headers=headers,
                               json={"data": {**data, "priorite": "santé"}})
    assert refused.status_code == 422 and "priorite" in refused.get_json()["errors"]
    version = services.queries.dossier(iid).version
    form = auth.client.post(url, data={name: "santé", "action": "valider", "csrf_token": csrf_token(page),
                                       "version": str(version)})
    assert form.status_code == 400
    assert [v.bpmn_id for v in eng.task_views(iid)] == ["fiche"]
    assert services.queries.dossier(iid).version == version


def test_with_a_signed_convention_its_priorities_are_offered_in_a_strict_campaign(strict):
    eng, code = strict
    _app, _services, _iid, view = _fiche(eng, code, "CAB")
    assert view.data["campagne"]["epci"]["CAB"]["priorites"] == ["jeunesse", "citoyenneté",
                                                                 "participation des habitants"]
