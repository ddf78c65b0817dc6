"""The administration pages: the e-mail outbox shows what the mail server refused; incidents."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert

from engine import ScriptFailed
from engine.persistence.models import Incident, OutboxEmail
from webapp import errors

from .conftest import NOW


def test_the_outbox_shows_refused_messages_with_the_servers_answer(client, auth, services):
    with services.engine.db.sessions.begin() as session:
        session.add(OutboxEmail(recipient="nobody@cab.example.org", subject="[DSDT] refusé", body="Bonjour",
                                created_at=NOW, attempts=1, last_error="(550, b'5.1.1 no such user')",
                                failed_at=NOW))
        session.add(OutboxEmail(recipient="full@cavm.example.org", subject="[DSDT] plus tard", body="Bonjour",
                                created_at=NOW, attempts=2, last_error="(452, b'4.2.2 mailbox full')"))
    auth.login("admin")
    page = client.get("/admin/courriels").get_data(as_text=True)
    assert "Refusé par le serveur de messagerie" in page and "no such user" in page
    assert "2 envoi(s) refusé(s), nouvel essai au prochain passage" in page and "mailbox full" in page


def _incident(services, **values) -> int:
    """An incident on a demo dossier, as the timer pass records it."""
    dossier = services.queries.dossiers_of_porteur("porteur1")[0]
    with services.engine.db.engine.begin() as connection:
        connection.execute(delete(Incident).where(Incident.instance_id == dossier.id))
        return connection.execute(insert(Incident).values(
            instance_id=dossier.id, kind="timer", bpmn_id="echeance",
            error="The model failed: AttributeError: 'list' object has no attribute 'upper'",
            data='{"echeances": ["2014-10-02"]}', first_seen_at=NOW, last_seen_at=NOW, attempts=5,
            set_aside_at=NOW, **values).returning(Incident.id)).scalar_one()


@pytest.mark.parametrize("login", ["process.owner", "admin"])
def test_process_owners_and_administrators_see_the_incidents(client, auth, services, login):
    incident_id = _incident(services)
    ref = services.engine.incidents.get(incident_id).dossier_ref
    auth.login(login)
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert ref in page and "echeance" in page and "no attribute" in page and "2014-10-02" in page
    assert "Mis de côté" in page and f'action="/admin/incidents/{incident_id}/relancer"' in page
    assert "/admin/incidents" in client.get("/taches/").get_data(as_text=True)  # in the menu


@pytest.mark.parametrize("login", ["instructeur1", "auditeur", "porteur1", "tech.epci.cab"])
def test_the_incidents_are_refused_to_other_roles(client, auth, services, login):
    incident_id = _incident(services)
    auth.login(login)
    assert client.get("/admin/incidents").status_code == 403
    assert auth.post(f"/admin/incidents/{incident_id}/relancer").status_code == 403
    assert services.engine.incidents.get(incident_id).status == "set_aside"


def test_a_retry_runs_the_dossier_again(client, auth, services):
    incident_id = _incident(services)
    auth.login("process.owner")
    assert client.post(f"/admin/incidents/{incident_id}/relancer").status_code == 400  # no CSRF token
    assert services.engine.incidents.get(incident_id).status == "set_aside"

    response = auth.post(f"/admin/incidents/{incident_id}/relancer", follow_redirects=True)
    # Nothing of this demo dossier is due any more: nothing fails, the incident is resolved.
    assert response.status_code == 200 and "Le dossier a repris" in response.get_data(as_text=True)
    assert services.engine.incidents.get(incident_id).status == "resolved"


def test_the_script_failed_page_gives_the_incident_recorded_for_the_process_owner(app):
    failure = ScriptFailed("The model failed: ZeroDivisionError", bpmn_id="contact_portee")
    failure.incident_id = 42
    with app.test_request_context("/"):
        page, status = errors.engine_error(failure)
    assert status == 500 and "incident n° 42" in page and "responsable du processus" in page


def test_the_outbox_is_paged_says_each_state_and_that_no_server_is_configured(make_app, services):
    with services.engine.db.sessions.begin() as session:
        session.add(OutboxEmail(recipient="envoye@cab.example.org", subject="[DSDT] parti", body="Bonjour",
                                created_at=NOW, sent_at=NOW))
    client = make_app(DSDT_OUTBOX_PER_PAGE=2).test_client()
    from .conftest import AuthActions

    AuthActions(client).login("admin")
    first = client.get("/admin/courriels").get_data(as_text=True)
    assert "<h1>Boîte d’envoi</h1>" in first and "Courriels envoyés" not in first
    assert "Aucun serveur d’envoi configuré : les courriels restent en attente." in first
    assert first.count("<tr>") == 1 + 2  # the head row and one page of two
    total = services.outbox.page().total
    pages = (total + 1) // 2
    assert f"Page 1 sur {pages}" in first
    last = client.get("/admin/courriels?page=999999").get_data(as_text=True)
    assert f"Page {pages} sur {pages}" in last  # beyond the end: the last page
    assert client.get("/admin/courriels?page=abc").status_code == 200

    sent = client.get("/admin/courriels?etat=sent").get_data(as_text=True)
    assert "envoye@cab.example.org" in sent and "<strong>Envoyé</strong>" in sent and "<strong>En attente" not in sent
    queued = client.get("/admin/courriels?etat=queued").get_data(as_text=True)
    assert "<strong>En attente</strong>" in queued and "envoye@cab.example.org" not in queued
    assert client.get("/admin/courriels?etat=perdu").status_code == 400


def test_the_outbox_says_which_mail_server_is_configured(make_app):
    client = make_app(DSDT_SMTP_HOST="smtp.example.org", DSDT_SMTP_PORT=587).test_client()
    from .conftest import AuthActions

    AuthActions(client).login("admin")
    page = client.get("/admin/courriels").get_data(as_text=True)
    assert "Serveur d’envoi configuré : smtp.example.org:587" in page and "Aucun serveur" not in page
