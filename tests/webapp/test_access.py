"""Who reaches what: a role × route matrix, and the dossier scope rule (porteur, EPCI, jury, conflicts)."""

from __future__ import annotations

import pytest

from .conftest import dossier_at

STAFF_LOGINS = {
    "instructeur1",
    "tech.epci.cab",
    "tech.commune.cavm",
    "jury.cab.elu1",
    "jury.region.president",
    "conventions1",
    "auditeur",
    "admin",
    "process.owner",
}

# route → logins allowed (200); every other login gets 403 (staff pages) or is refused
ROUTES = {
    "/taches/": STAFF_LOGINS,
    "/taches/notifications": "all",
    "/dossiers/": {"porteur1", "porteur2"},
    "/dossiers/tous": STAFF_LOGINS,
    "/admin/utilisateurs": {"admin"},
    "/admin/utilisateurs/nouveau": {"admin"},
    "/admin/utilisateurs/porteur1": {"admin"},
    "/admin/courriels": {"admin"},
}
LOGINS = ["porteur1", "porteur2", *sorted(STAFF_LOGINS)]


@pytest.mark.parametrize("login", LOGINS)
def test_role_route_matrix(client, auth, login):
    auth.login(login)
    for route, allowed in ROUTES.items():
        status = client.get(route).status_code
        if allowed == "all" or login in allowed:
            assert status == 200, (login, route, status)
        else:
            assert status == 403, (login, route, status)


def test_anonymous_gets_login_everywhere(client):
    for route in ROUTES:
        response = client.get(route)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"], route


def test_porteur_cannot_open_another_porteurs_dossier(client, auth, services):
    other = next(d for d in services.queries.dossiers_of_porteur("porteur2") if d.open_steps)
    auth.login("porteur1")
    for path in (f"/dossiers/{other.id}", f"/dossiers/{other.id}/etape/{other.open_steps[0].task_ref}"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert other.ref not in body and (other.title or "§") not in body
    assert client.get("/dossiers/999999").status_code == 404


def test_porteur_sees_own_dossier(client, auth, services):
    mine = services.queries.dossiers_of_porteur("porteur1")[0]
    auth.login("porteur1")
    response = client.get(f"/dossiers/{mine.id}")
    assert response.status_code == 200 and mine.ref in response.get_data(as_text=True)


def test_technicien_limited_to_their_epci(client, auth, services):
    cab = dossier_at(services, "recevabilite", "CAB")
    cavm = dossier_at(services, "adequation_epci", "CAVM")
    auth.login("tech.epci.cab")
    assert client.get(f"/dossiers/{cab.id}").status_code == 200
    refused = client.get(f"/dossiers/{cavm.id}")
    assert refused.status_code == 403 and cavm.ref not in refused.get_data(as_text=True)


def test_regional_staff_see_everything(client, auth, services):
    cavm = dossier_at(services, "adequation_epci", "CAVM")
    for login in ("instructeur1", "auditeur", "conventions1", "admin", "process.owner"):
        auth.login(login)
        assert client.get(f"/dossiers/{cavm.id}").status_code == 200, login


def test_jury_member_sees_only_their_session(client, auth, services):
    at_jury = dossier_at(services, "examen_territorial", "CAB")
    before_jury = dossier_at(services, "recevabilite", "CAB")
    other_epci = dossier_at(services, "confirmation_president", "CAVM")
    auth.login("jury.cab.elu1")
    assert client.get(f"/dossiers/{at_jury.id}").status_code == 200
    assert client.get(f"/dossiers/{before_jury.id}").status_code == 403
    assert client.get(f"/dossiers/{other_epci.id}").status_code == 403


def test_jury_member_loses_access_after_declaring_conflict(client, auth, services, make_dossier):
    from .conftest import choice_value, field_name

    instance_id = make_dossier("examen_territorial", "CAB", porteur="porteur3")
    dossier = services.queries.dossier(instance_id)
    step = next(s for s in dossier.open_steps if s.assignee == "jury.cab.elu2")
    auth.login("jury.cab.elu2")
    assert dossier.ref in client.get("/dossiers/tous").get_data(as_text=True)
    url = f"/dossiers/{instance_id}/etape/{step.task_ref}"
    page = client.get(url).get_data(as_text=True)
    name = field_name(page, "conflit_interet")
    response = auth.post(url, {name: choice_value(page, name, "true"), "version": dossier.version, "action": "valider"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get(f"/dossiers/{instance_id}").status_code == 403
    assert dossier.ref not in client.get("/dossiers/tous").get_data(as_text=True)  # nor in their list
    assert services.queries.declared_conflicts([instance_id, instance_id + 1], "jury.cab.elu2") == {instance_id}


def test_task_page_refused_to_wrong_role(client, auth, services):
    dossier = dossier_at(services, "recevabilite", "CAB")
    step = dossier.open_steps[0]
    auth.login("tech.epci.cab")
    response = client.get(f"/dossiers/{dossier.id}/etape/{step.task_ref}")
    assert response.status_code == 403
    assert "Accès refusé" in response.get_data(as_text=True)
