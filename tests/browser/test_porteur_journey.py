"""A new association's journey in the pages, and what it finds there.

A porteur registers, confirms the e-mail address through the link the outbox holds, applies, gets
the fiche back "à compléter" from the EPCI (done in the pages by the technicien), reads the reason,
fixes the fiche and sends it again; another porteur reads the list of missing documents and
uploads them; the account pages and the home pages of the overseeing roles are audited by axe-core
(:class:`~tests.browser.conftest.Visit` audits every page reached).

With ``DSDT_SCREENSHOTS=1`` the tests also write the guides' screenshots (``docs/screenshots/``,
1280x800 PNG); normal runs leave them alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from engine import Actor, roles
from webapp import demo
from webapp.demo_stages import Stage

from .conftest import ROOT, Visit
from .test_lifecycle import Walk

SHOTS = ROOT / "docs" / "screenshots"
MOTIF = "Précisez le nombre de jeunes accueillis et le calendrier des ateliers ; joignez le budget détaillé."
PIECES = "Statuts signés ; RIB au nom de l'association ; comptes du dernier exercice."


def guide_shot(visit: Visit, name: str, top: bool = True) -> None:
    """The viewport as the guides show it (from the top of the page unless ``top`` is False), only
    when DSDT_SCREENSHOTS=1 (committed PNGs stay put otherwise)."""
    if os.environ.get("DSDT_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = visit.page
    page.set_viewport_size({"width": 1280, "height": 800})
    if top:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def show(visit: Visit, selector: str) -> None:
    """Scroll ``selector`` to the top of the viewport, for a screenshot of that part of the page."""
    visit.page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")


@pytest.fixture(scope="module")
def attachment(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pieces") / "statuts-signes.pdf"
    path.write_bytes(demo.DEMO_PDF.replace(b"%%EOF", b"% statuts\n%%EOF"))  # not the demo's file: its own hash
    return path


def last_link(services, recipient: str, path: str) -> str:
    """The path of the newest link to ``path`` mailed to ``recipient`` (read from the outbox in the database)."""
    for row in services.outbox.page(1, 100).rows:
        if row.recipient == recipient:
            found = re.search(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", row.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no mail to {recipient} with a link to {path}")


def register(visit: Visit, services, login: str, email: str, password: str,
             association: str = "Les Jardins du Portel", shot: str | None = None) -> None:
    page = visit.page
    visit.goto("/inscription")
    page.get_by_label("Nom de l’association").fill(association)
    page.get_by_label("SIRET ou numéro RNA").fill("W623001234")
    page.get_by_label("Nom complet").fill("Camille Durand")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Mot de passe (à nouveau)").fill(password)
    if shot:
        guide_shot(visit, shot)
    visit.submit(page.get_by_role("button", name="Créer le compte"))
    assert email in page.locator("main").inner_text()
    # Not active before the address is confirmed.
    visit.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", password)
    visit.submit(page.locator("main button[type=submit]"))
    assert page.locator(".who").count() == 0
    visit.goto(last_link(services, email, "/inscription/verifier/"))
    assert "/connexion" in page.url
    assert "vérifiée" in page.locator("main").inner_text()


def test_a_porteur_registers_applies_gets_the_fiche_back_and_sends_it_again(visit, live_services, attachment):
    # The demo's password, so that Walk.step (Visit.as_user) can log the new porteur in like the others.
    login, email, password = "jardins.portel", "camille@jardins-portel.example", demo.DEMO_PASSWORD
    page = visit.page
    register(visit, live_services, login, email, password, shot="porteur-inscription")

    walk = Walk(visit, live_services, attachment)
    visit.login(login, password)
    assert page.url.endswith("/dossiers/")  # a porteur lands on their applications
    guide_shot(visit, "porteur-mes-candidatures")
    walk.start()
    view = walk.open_step("contact", login)
    guide_shot(visit, "porteur-contact")
    walk.complete(view, login, walk.data_for(view, login))
    visit.logout()
    # The commune's and EPCI's opinions on the contact, through the engine (the lifecycle test does them in the pages).
    walk.driver.advance(walk.instance_id, login, "fiche", {"contact": {"epci": "CAB"}})

    with visit.as_user(login):  # (Walk.step takes a login not starting with "porteur" for staff)
        view = walk.open_step("fiche", login)
        walk.reach_as_porteur(view)
        walk.complete(view, login, walk.data_for(view, login))
    first_fiche = live_services.engine.data(walk.instance_id)["fiche"]
    with visit.as_user("tech.epci.cab"):
        view = walk.open_step("adequation_epci", "tech.epci.cab")
        walk.reach_from_inbox(view)
        data = walk.data_for(view, "tech.epci.cab", {"adequation_epci": {"decision": "a_completer", "motif": MOTIF}})
        visit.fill_form(data, attachment)
        guide_shot(visit, "staff-fiche-a-completer")
        walk.complete(view, "tech.epci.cab", data)

    with visit.as_user(login):
        # "Mes candidatures" says what is asked, and why, next to the dossier.
        row = page.locator("table.dossiers tbody tr").filter(has_text=walk.ref)
        assert MOTIF in row.inner_text() and "Ce qui vous est demandé" in row.inner_text()
        show(visit, "table.dossiers")
        guide_shot(visit, "porteur-fiche-a-completer", top=False)
        visit.click_link(row.get_by_role("link", name=walk.ref))
        assert MOTIF in page.locator(".requests").inner_text()  # the dossier page too
        view = walk.open_step("fiche", login)
        visit.click_link(page.locator("#current-title ~ ul.steps").get_by_role("link", name=view.name))
        assert MOTIF in page.locator(".requests").inner_text()  # and the form itself
        # The fiche is filled in again from what was sent: the porteur changes what was asked.
        assert page.locator('[name="f.titre"]').input_value() == first_fiche["titre"]
        fixed = {**walk.data_for(view, login), "public_cible": "45 jeunes de 16 à 25 ans des quartiers du Portel."}
        walk.complete(view, login, fixed)

    assert [v.bpmn_id for v in live_services.engine.task_views(walk.instance_id)] == ["adequation_epci"]
    assert live_services.engine.data(walk.instance_id)["fiche"]["public_cible"] == fixed["public_cible"]
    with visit.as_user(login):  # once sent again, nothing is asked any more
        row = page.locator("table.dossiers tbody tr").filter(has_text=walk.ref)
        assert MOTIF not in row.inner_text()


def test_a_porteur_reads_the_missing_documents_and_uploads_them(visit, live_services, attachment):
    porteur = "porteur2"
    code = demo.ensure_campaigns(live_services.engine, live_services.engine.now().date())
    instance_id = live_services.engine.start(Actor(porteur, frozenset({roles.PORTEUR})), code)
    driver = demo.DemoDriver(live_services, seed=5)
    driver.advance(instance_id, porteur, "complements", {
        "contact": {"epci": "CAB"},
        "recevabilite": {"decision": "incomplet", "pieces_manquantes": PIECES, "motif": None,
                         "mobilisation_habitants": None},
    })
    ref = live_services.queries.dossier(instance_id).ref
    page = visit.page
    with visit.as_user(porteur):
        row = page.locator("table.dossiers tbody tr").filter(has_text=ref)
        assert PIECES in row.inner_text()
        visit.click_link(row.get_by_role("link", name=ref))
        requests = page.locator(".requests").inner_text()
        assert PIECES in requests and "Pièces et précisions demandées" in requests
        visit.click_link(page.locator("#current-title ~ ul.steps").get_by_role("link", name="Fournir les compléments"))
        assert PIECES in page.locator(".requests").inner_text()
        page.locator('[name="f.reponse"]').fill("Voici les statuts signés, le RIB et les comptes 2029.")
        page.locator('input[type=file][name="f.pieces.0"]').set_input_files(str(attachment))
        guide_shot(visit, "porteur-complements", top=False)
        visit.submit(page.get_by_role("button", name="Valider l’étape"))
        assert page.locator(".flash-success").count(), page.locator("main").inner_text()[:1500]
        visit.goto(f"/dossiers/{instance_id}")
        assert "statuts-signes.pdf" in page.locator("#docs-title + ul").inner_text()
    assert [v.bpmn_id for v in live_services.engine.task_views(instance_id)] == ["recevabilite"]
    pieces = live_services.engine.data(instance_id)["complements"]["pieces"]
    assert len(pieces) == 1 and pieces[0].startswith("sha256:")


def test_account_and_home_pages_pass_axe(visit, live_services):
    """Every page of accounts and of the overseeing roles, audited (Visit.goto runs axe on each)."""
    page = visit.page
    for path in ("/inscription", "/inscription/renvoyer", "/mot-de-passe-oublie", "/inscription/verifier/faux"):
        visit.goto(path)
    # Forgotten password: the mailed link opens the form to choose a new one.
    visit.goto("/mot-de-passe-oublie")
    page.get_by_label("Courriel").fill("porteur3@demo.dsdt.example")
    visit.submit(page.locator("main button[type=submit]"))
    visit.goto(last_link(live_services, "porteur3@demo.dsdt.example", "/mot-de-passe/"))
    assert page.locator("input[type=password]").count() == 2
    guide_shot(visit, "porteur-mot-de-passe")
    # Two failed logins: the administrator sees them and clears them.
    for _ in range(2):
        visit.goto("/connexion")
        page.fill("#login", "porteur4")
        page.fill("#password", "pas-le-bon")
        visit.submit(page.locator("main button[type=submit]"))
    # An association's page: its members, and an invitation a colleague opens to join.
    register(visit, live_services, "beffroi", "claude@beffroi.example", demo.DEMO_PASSWORD, "Amicale du Beffroi")
    with visit.as_user("beffroi"):
        visit.goto("/association/")
        assert "Amicale du Beffroi" in page.locator("main").inner_text()
        page.get_by_label("Courriel").fill("dominique@beffroi.example")
        guide_shot(visit, "porteur-association")
        visit.submit(page.locator("main form button[type=submit]"))
        assert "dominique@beffroi.example" in page.locator(".flash-success").inner_text()
    visit.goto(last_link(live_services, "dominique@beffroi.example", "/association/rejoindre/"))
    assert "Amicale du Beffroi" in page.locator("main").inner_text()
    with visit.as_user("admin"):
        assert page.url.endswith("/accueil/administration")
        guide_shot(visit, "staff-accueil-administration")
        visit.goto("/admin/courriels")
        guide_shot(visit, "staff-courriels")
        visit.goto("/admin/connexions")
        row = page.locator("tbody tr").filter(has_text="porteur4")
        assert row.count() == 1
        guide_shot(visit, "staff-connexions")
        visit.submit(row.get_by_role("button", name="Débloquer porteur4"))
        assert page.locator("tbody tr").filter(has_text="porteur4").count() == 0
        visit.goto("/admin/utilisateurs")
    with visit.as_user("process.owner"):
        assert page.url.endswith("/accueil/processus")
    with visit.as_user("auditeur"):
        assert "/audit" in page.url
    # Two applications whose commune opinion opened 13 and 8 days ago (10 days to give it): one late, one due soon.
    code = demo.ensure_campaigns(live_services.engine, live_services.engine.now().date())
    driver = demo.BackdatedDriver(live_services)
    late, soon = (driver.drive(code, Stage("avis_commune", "CAB", "porteur4", age), live_services.engine.now())
                  for age in (13, 8))
    with visit.as_user("tech.commune.cab"):
        assert page.url.endswith("/taches/")
        rows = page.locator("table.inbox tbody tr")
        late_row = rows.filter(has_text=live_services.queries.dossier(late).ref)
        soon_row = rows.filter(has_text=live_services.queries.dossier(soon).ref)
        assert "En retard" in late_row.inner_text() and "Échéance proche" in soon_row.inner_text()
        assert rows.first.inner_text() == late_row.inner_text()  # sorted by due date: the late one first
        guide_shot(visit, "staff-corbeille")
