"""A campaign offers an EPCI only the priorities of its signed convention: the fiche synthétique's
priority choices, on the task page and in the API, come from the convention's data (no second
typing in the campaign), and a completion with another priority is refused, the dossier unchanged."""

from __future__ import annotations

import random
import re

from engine import Actor
from engine.conventions import signed_convention, start_convention
from engine.simulation.fake_data import generate

from .conftest import choice_value, csrf_token, field_name

EPCI = "CAVM"
PRIORITES = ["mobilité des jeunes", "lutte contre la précarité énergétique"]
TYPED_IN_CAMPAIGN = "santé"  # a priority of the campaign data, not of the convention
INSTRUCTEUR = Actor("instructeur.test", frozenset({"instructeur"}))
TECHNICIEN = Actor("technicien.cavm.test", frozenset({"technicien_epci"}), frozenset({EPCI}))
CONVENTIONS = Actor("conventions.test", frozenset({"service_conventions"}))
FORMS = {
    "conv_projet_territoire": {"intitule": "Projet de territoire", "date_adoption": "2013-05-02",
                               "orientations": "Jeunesse et transition énergétique."},
    "conv_diagnostic": {"date_diagnostic": "2013-09-10", "constats": "Précarité énergétique élevée.",
                        "enjeux": "Mobilité des jeunes et logement."},
    "conv_proposition": {"priorites": PRIORITES},
    "conv_examen": {"decision": "accord", "date_examen": "2013-10-01"},
    "conv_deliberation_epci": {"vote": "adoptee", "date_seance": "2013-11-14", "numero_deliberation": "CC-13-88"},
    "conv_vote_cp": {"vote": "adoptee", "date_seance": "2013-12-09", "numero_deliberation": "CP-20131209"},
    "conv_signature_epci": {"date_signature": "2013-12-16", "signataire": "Le président de Valenciennes Métropole"},
    "conv_signature_region": {"date_signature": "2013-12-18", "signataire": "Le président du Conseil régional"},
}


def _sign_convention(services, campaign: str) -> str:
    engine = services.engine
    iid = start_convention(engine, INSTRUCTEUR, campaign, EPCI)
    while True:
        views = engine.task_views(iid)
        if views[0].bpmn_id == "conv_revue":
            break
        actor = {"instructeur": INSTRUCTEUR, "technicien_epci": TECHNICIEN,
                 "service_conventions": CONVENTIONS}[views[0].role]
        engine.complete(actor, iid, views[0].ref, FORMS[views[0].bpmn_id])
    return engine.data(iid)["convention_ref"]


def _fiche(services, make_dossier):
    campaign = [c.code for c in services.queries.campaigns(open_only=True)][0]
    ref = _sign_convention(services, campaign)
    assert signed_convention(services.engine, EPCI) == (ref, PRIORITES)
    instance_id = make_dossier("fiche", epci=EPCI)
    view = next(v for v in services.engine.task_views(instance_id) if v.bpmn_id == "fiche")
    assert view.data["campagne"]["epci"][EPCI]["priorites"] == PRIORITES
    assert view.data["campagne"]["epci"][EPCI]["convention"] == ref
    return instance_id, view


def test_the_fiche_page_offers_the_signed_conventions_priorities_only(services, make_dossier, auth):
    instance_id, view = _fiche(services, make_dossier)
    auth.login("porteur1")
    url = f"/dossiers/{instance_id}/etape/{view.ref}"
    page = auth.client.get(url).get_data(as_text=True)
    name = field_name(page, "priorite")
    control = page[page.index(f'name="{name}"'):]
    control = control[:control.index("</select>")] if "</select>" in control[:4000] else control[:4000]
    for priority in PRIORITES:
        assert priority in control
    assert TYPED_IN_CAMPAIGN not in control
    version = services.queries.dossier(instance_id).version
    form = {name: choice_value(page, name, TYPED_IN_CAMPAIGN), "action": "valider", "csrf_token": csrf_token(page),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    response = auth.client.post(url, data=form)
    assert response.status_code == 400
    assert re.search(r'id="[^"]*priorite-error"', response.get_data(as_text=True))
    assert services.queries.dossier(instance_id).version == version  # nothing changed
    assert [v.bpmn_id for v in services.engine.task_views(instance_id)] == ["fiche"]


def test_the_api_binds_the_choices_and_refuses_another_priority(services, make_dossier, client):
    instance_id, view = _fiche(services, make_dossier)
    headers = {"Authorization": f"Bearer {services.accounts.create_token('porteur1', 'tests')}"}
    task = client.get(f"/api/dossiers/{instance_id}/tasks/{view.ref}", headers=headers).get_json()
    assert task["schema"]["properties"]["priorite"]["enum"] == PRIORITES
    forms = services.queries.forms(services.queries.dossier(instance_id).deployment_id)
    data = generate(forms[view.form], random.Random(3), services.engine.now().date(), view.data)
    assert data["priorite"] in PRIORITES
    refused = client.post(f"/api/dossiers/{instance_id}/tasks/{view.ref}/complete", headers=headers,
                          json={"data": {**data, "priorite": TYPED_IN_CAMPAIGN}})
    assert refused.status_code == 422 and "priorite" in refused.get_json()["errors"]
    assert [v.bpmn_id for v in services.engine.task_views(instance_id)] == ["fiche"]
    done = client.post(f"/api/dossiers/{instance_id}/tasks/{view.ref}/complete", headers=headers,
                       json={"data": {**data, "priorite": PRIORITES[1]}})
    assert done.status_code == 200, done.get_json()
    assert services.engine.data(instance_id)["fiche"]["priorite"] == PRIORITES[1]
