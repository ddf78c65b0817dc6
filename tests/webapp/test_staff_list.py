"""The staff's dossier list (/dossiers/tous): search by reference, title or porteur; filters by
step, status and EPCI; within the person's scope; paged with the criteria kept."""

from __future__ import annotations

import re

import pytest

from webapp import dossier_search


def rows(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.fixture
def staff(auth, client):
    auth.login("instructeur1")
    return client


def test_search_by_reference_title_or_porteur(staff, services, make_dossier):
    instance_id = make_dossier("fiche", "CAAC", porteur="porteur2")
    dossier = services.queries.dossier(instance_id)
    found = rows(staff.get(f"/dossiers/tous?q={dossier.ref.lower()}").get_data(as_text=True))
    assert len(found) == 1 and dossier.ref in found[0][0]
    by_porteur = rows(staff.get("/dossiers/tous?q=PORTEUR2").get_data(as_text=True))
    assert by_porteur and all(row[2] == "porteur2" for row in by_porteur)
    page = staff.get("/dossiers/tous?q=100%25_sûr").get_data(as_text=True)  # LIKE's wildcards are literal
    assert rows(page) == [] and "Aucun dossier ne répond à ces critères." in page


def test_filters_by_step_status_and_epci(staff, make_dossier):
    make_dossier("recevabilite", "CAVM")
    at_step = rows(staff.get("/dossiers/tous?etape=recevabilite").get_data(as_text=True))
    assert at_step and all("Examiner la recevabilité" in row[4] for row in at_step)
    in_cavm = rows(staff.get("/dossiers/tous?epci=CAVM&statut=running").get_data(as_text=True))
    assert in_cavm and all(row[3] == "CAVM" for row in in_cavm)
    closed = rows(staff.get("/dossiers/tous?statut=completed").get_data(as_text=True))
    running = rows(staff.get("/dossiers/tous?statut=running").get_data(as_text=True))
    assert closed and not {row[0] for row in closed} & {row[0] for row in running}


def test_a_technician_searches_only_their_scope(auth, client, services, make_dossier):
    other = services.queries.dossier(make_dossier("fiche", "CAAC", porteur="porteur3"))
    auth.login("tech.epci.cab")
    assert rows(client.get(f"/dossiers/tous?q={other.ref}").get_data(as_text=True)) == []
    page = client.get("/dossiers/tous").get_data(as_text=True)
    assert '<option value="CAB"' in page and '<option value="CAAC"' not in page


def test_bad_criteria_are_refused_with_a_message(staff):
    for query in ("statut=perdu", "etape=nulle_part"):
        response = staff.get(f"/dossiers/tous?{query}")
        assert response.status_code == 400
        assert "dans la liste" in response.get_data(as_text=True)


def test_paging_keeps_the_criteria(staff, monkeypatch):
    monkeypatch.setattr(dossier_search, "STAFF_PER_PAGE", 1)
    page = staff.get("/dossiers/tous?statut=running&epci=CAB").get_data(as_text=True)
    assert len(rows(page)) == 1
    link = re.search(r'href="(/dossiers/tous\?[^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "statut=running" in link and "epci=CAB" in link
    second = rows(staff.get(link).get_data(as_text=True))
    assert len(second) == 1 and second != rows(page) and second[0][3] == "CAB"
