"""Pages without a browser test before: the profile's digest choice, the staff dossier list's search
and filters, and a porteur's receipt downloaded from the dossier page.

:class:`~tests.browser.conftest.Visit` runs axe-core on every page reached (serious and critical
violations fail the test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Actor, roles
from webapp import demo

from .conftest import Visit


@pytest.fixture(scope="module")
def dossiers(live_services) -> dict[str, int]:
    """Applications of porteur2 outside the CAB (where the other tests apply), stopped after the
    porteur's first submission: the list has EPCIs and steps to filter, porteur2 a receipt."""
    code = live_services.queries.campaigns(open_only=True)[0].code
    driver = demo.DemoDriver(live_services)
    made = {}
    for name, epci, stop_at in (("cavm", "CAVM", "avis_commune"), ("cavm_later", "CAVM", "fiche"),
                                ("caac", "CAAC", "avis_commune")):
        instance_id = live_services.engine.start(Actor("porteur2", frozenset({roles.PORTEUR})), code)
        driver.advance(instance_id, "porteur2", stop_at, {"contact": {"epci": epci}})
        made[name] = instance_id
    return made


def test_the_profile_offers_staff_a_daily_digest(visit: Visit, live_services):
    page = visit.page
    with visit.as_user("instructeur2"):
        visit.goto("/profil")
        daily = page.get_by_label("Recevoir un résumé quotidien au lieu d’un courriel par tâche")
        each = page.get_by_label("Un courriel par nouvelle tâche")
        assert each.is_checked() and not daily.is_checked()
        daily.check()
        visit.submit(page.get_by_role("button", name="Enregistrer"))
        assert "résumé quotidien" in page.locator(".flash-success").inner_text()
        assert page.get_by_label("Recevoir un résumé quotidien au lieu d’un courriel par tâche").is_checked()
        visit.goto("/profil")  # kept on the server
        assert page.get_by_label("Recevoir un résumé quotidien au lieu d’un courriel par tâche").is_checked()
        page.get_by_label("Un courriel par nouvelle tâche").check()  # back as it was, for the other tests
        visit.submit(page.get_by_role("button", name="Enregistrer"))
        assert page.get_by_label("Un courriel par nouvelle tâche").is_checked()
    with visit.as_user("porteur2"):
        visit.goto("/profil")
        assert "porteur2" in page.locator("main").inner_text()
        assert page.locator("main form").count() == 0  # the digest is for staff's task mails


def test_the_staff_list_searches_and_filters(visit: Visit, live_services, dossiers):
    page = visit.page
    target = live_services.queries.dossier(dossiers["cavm"])
    with visit.as_user("instructeur1"):
        visit.goto("/dossiers/tous")
        assert page.get_by_role("search").count() == 1
        everything = page.locator("table.dossiers tbody tr").count()
        assert everything >= 3
        # Search by a part of the reference: that dossier only.
        page.get_by_label("Référence, titre ou porteur").fill(target.ref)
        visit.submit(page.get_by_role("button", name="Rechercher"))
        rows = page.locator("table.dossiers tbody tr")
        assert rows.count() == 1 and target.ref in rows.first.inner_text()
        assert page.get_by_role("status").filter(has_text="1 dossier").count() == 1
        # Filters: an EPCI and a state, kept in the form; every row matches.
        visit.click_link(page.get_by_role("link", name="Effacer les critères"))
        page.get_by_label("EPCI").select_option("CAVM")
        page.get_by_label("État").select_option("running")
        visit.submit(page.get_by_role("button", name="Rechercher"))
        rows = page.locator("table.dossiers tbody tr")
        assert 0 < rows.count() < everything
        for index in range(rows.count()):
            assert rows.nth(index).locator("td").nth(3).inner_text() == "CAVM"
        assert page.get_by_label("EPCI").input_value() == "CAVM"
        assert page.get_by_label("État").input_value() == "running"
        # An open step of the dossier: the list narrows to the dossiers at that step.
        step = target.open_steps[0]
        visit.goto("/dossiers/tous")
        page.get_by_label("Étape en cours").select_option(step.bpmn_id)
        visit.submit(page.get_by_role("button", name="Rechercher"))
        rows = page.locator("table.dossiers tbody tr")
        assert rows.filter(has_text=target.ref).count() == 1
        for index in range(rows.count()):
            assert step.name in rows.nth(index).locator("td").nth(4).inner_text()
        # A step that is not in the list: a clear error, and no list.
        visit.goto("/dossiers/tous?etape=pas_une_etape")
        assert "Choisissez une étape dans la liste." in page.get_by_role("alert").inner_text()
        assert page.locator("table.dossiers").count() == 0


def test_a_porteur_downloads_the_receipt_of_a_submission(visit: Visit, dossiers, tmp_path: Path):
    page = visit.page
    with visit.as_user("porteur2"):
        visit.goto(f"/dossiers/{dossiers['caac']}")
        receipts = page.get_by_role("link", name="Télécharger le récépissé")
        assert receipts.count() >= 1
        with page.expect_download() as download:
            receipts.first.click()
        path = tmp_path / "recepisse.pdf"
        download.value.save_as(path)
        assert path.read_bytes().startswith(b"%PDF")
        assert download.value.suggested_filename.endswith(".pdf")
