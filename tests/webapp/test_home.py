"""What people land on, and the links the e-mails give them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from webapp import demo

from .conftest import AuthActions


def test_a_mail_links_to_the_task_page_which_opens_for_its_recipient(make_app, make_dossier):
    app = make_app(DSDT_PUBLIC_URL="https://dsdt.example.org/")
    services = app.extensions["dsdt"]
    instance_id = make_dossier("contact", porteur="porteur2")
    mail = next(m for m in services.notifications.outbox() if m.recipient == "porteur2@demo.dsdt.example")
    links = re.findall(r"https://\S+", mail.body)
    assert len(links) == 1 and links[0].startswith(f"https://dsdt.example.org/dossiers/{instance_id}/etape/")
    step = services.queries.dossier(instance_id).open_steps[0]
    text = mail.body.replace(links[0], "")  # the page's address holds the task's reference, the text none
    assert step.name in text and step.bpmn_id not in text

    client = app.test_client()
    client.post("/connexion", data={"login": "porteur2", "password": demo.DEMO_PASSWORD,
                                    "csrf_token": _token(client)})
    page = client.get(urlsplit(links[0]).path)
    assert page.status_code == 200 and step.name in page.get_data(as_text=True)


def _token(client) -> str:
    page = client.get("/connexion").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.mark.parametrize(("login", "landing"), [
    ("admin", "/accueil/administration"),
    ("process.owner", "/accueil/processus"),
    ("auditeur", "/audit/"),
    ("instructeur1", "/taches/"),
    ("tech.epci.cab", "/taches/"),
    ("porteur1", "/dossiers/"),
])
def test_each_role_lands_on_its_own_home_page(client, auth, login, landing):
    assert urlsplit(auth.login(login).headers["Location"]).path == "/"
    assert urlsplit(client.get("/").headers["Location"]).path == landing
    assert client.get(landing).status_code == 200


def test_the_administrators_home_shows_accounts_throttled_logins_outbox_and_incidents(client, auth, services):
    auth.login("admin")
    page = client.get("/accueil/administration").get_data(as_text=True)
    assert "<h1>Administration</h1>" in page
    active, _total = services.overview.accounts()
    assert f"{active} compte(s) actif(s)" in page and 'href="/admin/utilisateurs"' in page
    assert 'href="/admin/connexions"' in page and 'href="/admin/courriels"' in page
    assert "Aucun serveur d’envoi configuré" in page and 'href="/admin/incidents"' in page


def test_the_process_owners_home_lists_the_versions_and_open_incidents(client, auth, services):
    from .test_admin import _incident

    incident_id = _incident(services)
    ref = services.engine.incidents.get(incident_id).dossier_ref
    current = services.overview.versions()[0]
    auth.login("process.owner")
    page = client.get("/accueil/processus").get_data(as_text=True)
    assert "<h1>Processus</h1>" in page and "<caption>" in page
    assert f'<th scope="row">{current.version} <span class="muted">(en vigueur)</span>' in page
    assert ref in page and "no attribute" in page and 'href="/admin/incidents"' in page


@pytest.mark.parametrize(("path", "login"), [("/accueil/administration", "process.owner"),
                                             ("/accueil/administration", "instructeur1"),
                                             ("/accueil/processus", "porteur1"),
                                             ("/accueil/processus", "auditeur")])
def test_the_home_pages_are_refused_to_other_roles(client, auth, path, login):
    auth.login(login)
    assert client.get(path).status_code == 403


def test_the_process_owners_home_reads_ten_incidents_and_a_count(make_app, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import delete, func, insert, select

    from engine.persistence.models import Incident, Instance

    from .conftest import NOW

    app = make_app()
    services = app.extensions["dsdt"]
    later = NOW + timedelta(days=365)  # after any other incident: these are listed first
    with services.engine.db.engine.begin() as connection:
        already = connection.scalar(select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None)))
        ids = list(connection.scalars(select(Instance.id).where(Instance.id.not_in(select(Incident.instance_id)))
                                      .order_by(Instance.id).limit(15)))
        assert len(ids) == 15
        mine = [connection.execute(insert(Incident).values(
            instance_id=instance_id, kind="timer", bpmn_id=f"echeance_{n}", error=f"failure number {n}",
            first_seen_at=later, last_seen_at=later + timedelta(minutes=n), attempts=1,
            resolved_at=later if n >= 13 else None).returning(Incident.id)).scalar_one()
            for n, instance_id in enumerate(ids)]
    try:
        rows, total = services.engine.incidents.unresolved(10)
        assert total == already + 13 and [row.bpmn_id for row in rows] == [f"echeance_{n}" for n in range(12, 2, -1)]

        def everything(*args, **kwargs):
            raise AssertionError("the home page must not load every incident")

        monkeypatch.setattr(type(services.engine.incidents), "list", everything)
        client = app.test_client()
        AuthActions(client).login("process.owner")
        page = client.get("/accueil/processus").get_data(as_text=True)
        assert "failure number 12" in page and "failure number 3" in page and "failure number 2" not in page
        assert f"et {total - 10} autre(s)." in page
    finally:  # the engine is the session's: leave the incidents as they were
        with services.engine.db.engine.begin() as connection:
            connection.execute(delete(Incident).where(Incident.id.in_(mine)))
