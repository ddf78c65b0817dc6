"""The demo data shows every feature on first login: read through the engine after ``demo.seed``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Actor, InboxFilter, campaigns_api
from webapp import demo, demo_stages

#: "due soon": within this many days
SOON = timedelta(days=3)
#: steps due at their jury session's date (engine.inbox.session_due), not a processing time
AT_THE_SESSION = {"examen_territorial", "examen_regional", "confirmation_president"}


def staff_tasks(services) -> list:
    """Every open staff task of the open campaign, from the inboxes of the demo accounts."""
    seen = {}
    for login, _name, held, scope in demo.demo_users(services.engine):
        if held == ["porteur"]:
            continue
        actor = Actor(login, frozenset(held), frozenset(scope))
        rows, _total = services.engine.open_tasks(actor, InboxFilter(per_page=500))
        seen.update({row.id: row for row in rows if row.campaign_code != "DSDT-2014"})
    return list(seen.values())


def test_the_first_listed_technicians_have_work(services):
    technicians = [(login, held, scope) for login, _n, held, scope in demo.demo_users(services.engine)
                   if login.startswith("tech.")]
    for login, held, scope in technicians[:2]:
        rows, total = services.engine.open_tasks(Actor(login, frozenset(held), frozenset(scope)), InboxFilter())
        assert total >= 2, f"{login} has less than two tasks"


def test_staff_tasks_are_overdue_due_soon_and_due_later(services):
    tasks = staff_tasks(services)
    now = services.engine.now()
    overdue = {row.bpmn_id for row in tasks if row.due_at and row.due_at < now}
    soon = {row.bpmn_id for row in tasks if row.due_at and now <= row.due_at < now + SOON}
    later = {row.bpmn_id for row in tasks if row.due_at and row.due_at >= now + SOON}
    assert {"avis_commune", "adequation_epci", "recevabilite", "redaction_convention"} <= overdue
    assert {"avis_commune", "verification_contact", "recevabilite", "signature_region"} <= soon
    assert later
    # Every other due date is a deadline waiting in the dossier, or else the step's processing time
    # after it opened.
    for row in tasks:
        if row.bpmn_id in AT_THE_SESSION:
            assert row.due_at > row.created_at
            continue
        timer = services.engine.instance(row.instance_id).next_timer_at
        days = timedelta(days=campaigns_api.DELAIS_TRAITEMENT[row.bpmn_id])
        assert row.due_at == (timer or row.created_at + days), row.bpmn_id


def porteur_dossiers(services, login: str):
    return services.queries.dossiers_of_porteur(login)


def data_at(services, login: str, step: str, done: str) -> dict:
    """The data of ``login``'s dossier open at ``step`` where ``done`` holds a decision."""
    for dossier in porteur_dossiers(services, login):
        if any(s.bpmn_id == step for s in dossier.open_steps):
            data = services.engine.data(dossier.id)
            if done in data:
                return data
    raise AssertionError(f"no dossier of {login} at {step} after {done}")


def test_porteur1_has_a_returned_fiche_a_contact_to_rework_and_missing_documents(services):
    fiche = data_at(services, "porteur1", "fiche", "adequation_epci")
    assert fiche["adequation_epci"]["decision"] == "a_completer"
    assert fiche["adequation_epci"]["motif"] == demo_stages.MOTIF_A_COMPLETER
    contact = data_at(services, "porteur1", "contact", "verification_contact")
    assert contact["verification_contact"] == {**contact["verification_contact"], "decision": "a_retravailler",
                                               "conseils": demo_stages.CONSEILS}
    missing = data_at(services, "porteur1", "complements", "recevabilite")
    assert missing["recevabilite"]["decision"] == "incomplet"
    assert missing["recevabilite"]["pieces_manquantes"] == demo_stages.PIECES_MANQUANTES
    adjourned = data_at(services, "porteur3", "remaniement_dossier", "confirmation_president")
    assert adjourned["confirmation_president"]["consignes_porteur"] == demo_stages.CONSIGNES


def test_one_dossier_at_each_step_and_each_kind_of_end(services):
    open_steps, outcomes = set(), set()
    for n in range(1, 5):
        for dossier in porteur_dossiers(services, f"porteur{n}"):
            if dossier.campaign_code == "DSDT-2014":
                continue
            open_steps |= {step.bpmn_id for step in dossier.open_steps}
            outcomes.add(services.engine.instance(dossier.id).outcome)
    # the dossiers' steps: the convention's (ids prefixed conv_, test_demo_conventions.py) aside
    user_tasks = {step for step in services.queries.steps(services.queries.current_deployment_id())
                  if not step.startswith("conv_")}
    assert user_tasks - open_steps == set()  # reconstitution_jury included: a regional jury without quorum
    assert {"conventionne", "rejete_participation", "abandonne"} <= outcomes


@pytest.mark.parametrize("stage", demo_stages.STAGES, ids=lambda s: f"{s.stop_at}-{s.epci}-{s.age}")
def test_every_stage_stopped_where_it_says(services, stage):
    found = [
        d for d in porteur_dossiers(services, stage.porteur)
        if d.epci == stage.epci and (
            any(s.bpmn_id == stage.stop_at for s in d.open_steps) if stage.stop_at else not d.open_steps
        )
    ]
    assert found, f"no dossier of {stage.porteur} in {stage.epci} at {stage.stop_at}"


def test_the_inbox_marks_overdue_and_due_soon_tasks(client, auth):
    auth.login("tech.commune.cab")
    page = client.get("/taches/").get_data(as_text=True)
    assert 'class="badge badge-late">En retard<' in page
    assert 'class="badge badge-soon">Échéance proche<' in page
